// ctnn/ad/ops/maximum.hpp: primitive max(x, c) with a constant bound c (a clamp from below);
// derivative 1 where x > c, else 0 (the clamped side passes no gradient). bce_prob clamps p at
// e^-100 with it before the log (PyTorch clamps each log term at -100).
// Layer: ad.
#pragma once
#include "ctnn/ad/unary.hpp"
#include "ctnn/kernel/simd.hpp"

namespace ctnn::ops {
struct Maximum {
  static constexpr const char* name = "max";
  static constexpr const char* symbol = "max";
  static constexpr const char* latex = "\\max";
  static constexpr bool uses_x = true, uses_y = false;  // what derivative() reads
  double bound = 0;
  template <class V> V value(const V& x) const noexcept {
    return simd::max(x, V(static_cast<simd::scalar_t<V>>(bound)));
  }
  template <class V> V derivative(const V& x, const V&) const noexcept {
    return simd::select(x > V(static_cast<simd::scalar_t<V>>(bound)), V(1), V(0));
  }
  friend constexpr bool operator==(const Maximum&, const Maximum&) = default;
};
}  // namespace ctnn::ops
namespace ctnn::ad {
template <Expression A> CTNN_INLINE auto maximum(A a, double bound) {
  return unary(std::move(a), ops::Maximum{bound});
}
}  // namespace ctnn::ad
