// ctnn/ad/ops/tanh.hpp: primitive hyperbolic tangent. tanh'(x) = 1 - y², reusing the output.
// Layer: ad.
#pragma once
#include "ctnn/ad/unary.hpp"
#include "ctnn/kernel/simd.hpp"

namespace ctnn::ops {
struct Tanh {
  static constexpr const char* name = "tanh";
  static constexpr const char* symbol = "tanh";
  static constexpr const char* latex = "\\tanh";
  static constexpr bool uses_x = false, uses_y = true;  // what derivative() reads
  static constexpr bool transcendental = true;  // costly per lane (see StaticTape::fused_map)
  template <class V> V value(const V& x) const noexcept { return simd::tanh(x); }
  template <class V> V derivative(const V&, const V& y) const noexcept { return V(1) - y * y; }
  friend constexpr bool operator==(const Tanh&, const Tanh&) = default;
};
}  // namespace ctnn::ops
namespace ctnn::ad {
template <Expression A> CTNN_INLINE auto tanh(A a) { return unary<ops::Tanh>(std::move(a)); }
}  // namespace ctnn::ad
