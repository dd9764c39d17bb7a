// ctnn/ad/ops/log.hpp: primitive natural log. d/dx log x = 1/x.
// Layer: ad.
#pragma once
#include "ctnn/ad/unary.hpp"
#include "ctnn/kernel/simd.hpp"

namespace ctnn::ops {
struct Log {
  static constexpr const char* name = "log";
  static constexpr const char* symbol = "log";
  static constexpr const char* latex = "\\log";
  static constexpr bool uses_x = true, uses_y = false;  // what derivative() reads
  static constexpr bool transcendental = true;  // costly per lane (see StaticTape::fused_map)
  template <class V> V value(const V& x) const noexcept { return simd::log(x); }
  template <class V> V derivative(const V& x, const V&) const noexcept { return V(1) / x; }
  friend constexpr bool operator==(const Log&, const Log&) = default;
};
}  // namespace ctnn::ops
namespace ctnn::ad {
template <Expression A> CTNN_INLINE auto log(A a) { return unary<ops::Log>(std::move(a)); }
}  // namespace ctnn::ad
