// ctnn/ad/ops/relu.hpp: primitive rectifier max(x, 0); relu'(0) = 0 (PyTorch's convention).
// Layer: ad.
#pragma once
#include "ctnn/ad/unary.hpp"
#include "ctnn/kernel/simd.hpp"

namespace ctnn::ops {
struct Relu {
  static constexpr const char* name = "relu";
  static constexpr const char* symbol = "relu";
  static constexpr const char* latex = "\\operatorname{relu}";
  static constexpr bool uses_x = false, uses_y = true;  // what derivative() reads
  template <class V> V value(const V& x) const noexcept { return simd::max(x, V(0)); }
  template <class V> V derivative(const V&, const V& y) const noexcept {  // y > 0 exactly when x > 0
    return simd::select(y > V(0), V(1), V(0));
  }
  friend constexpr bool operator==(const Relu&, const Relu&) = default;
};
}  // namespace ctnn::ops
namespace ctnn::ad {
template <Expression A> CTNN_INLINE auto relu(A a) { return unary<ops::Relu>(std::move(a)); }
}  // namespace ctnn::ad
