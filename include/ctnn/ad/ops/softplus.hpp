// ctnn/ad/ops/softplus.hpp: primitive softplus log(1 + e^x), computed as
// max(x, 0) + log1p(e^{-|x|}) (finite and exact in the tail for any x). It carries its own
// rule, softplus'(x) = σ(x): assembled from max/abs it would get the gradient at 0 wrong.
// Layer: ad.
#pragma once
#include "ctnn/ad/ops/sigmoid.hpp"

namespace ctnn::ops {
struct Softplus {
  static constexpr const char* name = "softplus";
  static constexpr const char* symbol = "softplus";
  static constexpr const char* latex = "\\operatorname{softplus}";
  static constexpr bool uses_x = true, uses_y = false;  // what derivative() reads
  static constexpr bool transcendental = true;  // costly per lane (see StaticTape::fused_map)
  template <class V> V value(const V& x) const noexcept {
    return simd::max(x, V(0)) + simd::log1p(simd::exp(-simd::abs(x)));
  }
  template <class V> V derivative(const V& x, const V&) const noexcept { return Sigmoid{}.value(x); }
  friend constexpr bool operator==(const Softplus&, const Softplus&) = default;
};
}  // namespace ctnn::ops
namespace ctnn::ad {
template <Expression A> CTNN_INLINE auto softplus(A a) { return unary<ops::Softplus>(std::move(a)); }
}  // namespace ctnn::ad
