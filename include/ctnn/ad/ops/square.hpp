// ctnn/ad/ops/square.hpp: primitive x². d/dx = 2x.
// Layer: ad.
#pragma once
#include "ctnn/ad/unary.hpp"

namespace ctnn::ops {
struct Square {
  static constexpr const char* name = "square";
  static constexpr const char* symbol = "²";
  static constexpr const char* latex = "^2";
  static constexpr bool uses_x = true, uses_y = false;  // what derivative() reads
  template <class V> V value(const V& x) const noexcept { return x * x; }
  template <class V> V derivative(const V& x, const V&) const noexcept { return x + x; }
  // g·2x as (g + g)·x: the same value exactly (doubling is exact), but with g a constant (the ½
  // of ½·Σ(ŷ − y)²) the doubling folds and the reverse sweep is one multiply shorter.
  template <class V> V vjp(const V& g, const V& x, const V&) const noexcept { return (g + g) * x; }
  friend constexpr bool operator==(const Square&, const Square&) = default;
};
}  // namespace ctnn::ops
namespace ctnn::ad {
template <Expression A> CTNN_INLINE auto square(A a) { return unary<ops::Square>(std::move(a)); }
}  // namespace ctnn::ad
