// ctnn/ad/ops/exp.hpp: primitive exp. d/dx e^x = e^x (reuses the output).
// Layer: ad.
#pragma once
#include "ctnn/ad/unary.hpp"
#include "ctnn/kernel/simd.hpp"

namespace ctnn::ops {
struct Exp {
  static constexpr const char* name = "exp";
  static constexpr const char* symbol = "exp";
  static constexpr const char* latex = "\\exp";
  static constexpr bool uses_x = false, uses_y = true;  // what derivative() reads
  static constexpr bool transcendental = true;  // costly per lane (see StaticTape::fused_map)
  template <class V> V value(const V& x) const noexcept { return simd::exp(x); }
  template <class V> V derivative(const V&, const V& y) const noexcept { return y; }
  friend constexpr bool operator==(const Exp&, const Exp&) = default;
};
}  // namespace ctnn::ops
namespace ctnn::ad {
template <Expression A> CTNN_INLINE auto exp(A a) { return unary<ops::Exp>(std::move(a)); }
}  // namespace ctnn::ad
