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
  friend constexpr bool operator==(const Square&, const Square&) = default;
};
}  // namespace ctnn::ops
namespace ctnn::ad {
template <Expression A> CTNN_INLINE auto square(A a) { return unary<ops::Square>(std::move(a)); }
}  // namespace ctnn::ad
