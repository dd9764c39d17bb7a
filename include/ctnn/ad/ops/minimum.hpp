// ctnn/ad/ops/minimum.hpp: primitive min(x, c) with a constant bound c (a clamp from above);
// derivative 1 where x < c, else 0. Huber is built from it: m = min(|r|, δ), h = m(|r| - m/2).
// Layer: ad.
#pragma once
#include "ctnn/ad/unary.hpp"
#include "ctnn/kernel/simd.hpp"

namespace ctnn::ops {
struct Minimum {
  static constexpr const char* name = "min";
  static constexpr const char* symbol = "min";
  static constexpr const char* latex = "\\min";
  static constexpr bool uses_x = true, uses_y = false;  // what derivative() reads
  double bound = 0;
  template <class V> V value(const V& x) const noexcept {
    return simd::min(x, V(static_cast<simd::scalar_t<V>>(bound)));
  }
  template <class V> V derivative(const V& x, const V&) const noexcept {
    return simd::select(x < V(static_cast<simd::scalar_t<V>>(bound)), V(1), V(0));
  }
  friend constexpr bool operator==(const Minimum&, const Minimum&) = default;
};
}  // namespace ctnn::ops
namespace ctnn::ad {
template <Expression A> CTNN_INLINE auto minimum(A a, double bound) {
  return unary(std::move(a), ops::Minimum{bound});
}
}  // namespace ctnn::ad
