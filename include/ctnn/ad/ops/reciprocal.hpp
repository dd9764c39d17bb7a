// ctnn/ad/ops/reciprocal.hpp: primitive s / x for a number s (what `2.0 / x` builds); the
// derivative −s/x² is −y/x, from the output. x = 0 gives ±inf (as the division does).
// Layer: ad.
#pragma once
#include "ctnn/ad/binary.hpp"
#include "ctnn/ad/unary.hpp"
#include "ctnn/kernel/simd.hpp"

namespace ctnn::ops {
struct Reciprocal {
  static constexpr const char* name = "reciprocal";
  static constexpr const char* symbol = "rcp";
  static constexpr const char* latex = "\\operatorname{rcp}";
  static constexpr bool uses_x = true, uses_y = true;  // what derivative() reads
  double scale = 1;
  template <class V> V value(const V& x) const noexcept { return V(static_cast<simd::scalar_t<V>>(scale)) / x; }
  template <class V> V derivative(const V& x, const V& y) const noexcept { return -(y / x); }
  friend constexpr bool operator==(const Reciprocal&, const Reciprocal&) = default;
};
}  // namespace ctnn::ops
namespace ctnn::ad {
template <Expression A> CTNN_INLINE auto reciprocal(A a, double scale = 1) {
  return unary(std::move(a), ops::Reciprocal{scale});
}
template <Number S, Expression A> CTNN_INLINE auto operator/(S s, A a) { return reciprocal(std::move(a), double(s)); }
}  // namespace ctnn::ad
