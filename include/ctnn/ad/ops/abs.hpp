// ctnn/ad/ops/abs.hpp: primitive |x|; abs'(0) = 0 (PyTorch's sign convention).
// Layer: ad.
#pragma once
#include "ctnn/ad/unary.hpp"
#include "ctnn/kernel/simd.hpp"

namespace ctnn::ops {
struct Abs {
  static constexpr const char* name = "abs";
  static constexpr const char* symbol = "abs";
  static constexpr const char* latex = "\\operatorname{abs}";
  static constexpr bool uses_x = true, uses_y = false;  // what derivative() reads
  template <class V> V value(const V& x) const noexcept { return simd::abs(x); }
  template <class V> V derivative(const V& x, const V&) const noexcept {
    return simd::select(x > V(0), V(1), simd::select(x < V(0), V(-1), V(0)));
  }
  friend constexpr bool operator==(const Abs&, const Abs&) = default;
};
}  // namespace ctnn::ops
namespace ctnn::ad {
template <Expression A> CTNN_INLINE auto abs(A a) { return unary<ops::Abs>(std::move(a)); }
}  // namespace ctnn::ad
