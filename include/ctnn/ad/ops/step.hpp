// ctnn/ad/ops/step.hpp: primitive Heaviside step, 1 if x > 0 else 0 (H(0) = 0, Rosenblatt's
// w·x + b > 0), NaN for NaN (not a class). Its derivative is 0 wherever it exists, so nothing flows back through it: a
// perceptron is trained with the perceptron rule, not by backprop.
// Layer: ad.
#pragma once
#include "ctnn/ad/unary.hpp"
#include "ctnn/kernel/simd.hpp"

namespace ctnn::ops {
struct Step {
  static constexpr const char* name = "step";
  static constexpr const char* symbol = "H";
  static constexpr const char* latex = "H";
  static constexpr bool uses_x = false, uses_y = false;  // what derivative() reads
  template <class V> V value(const V& x) const noexcept {
    return simd::select(x > V(0), V(1), simd::select(x <= V(0), V(0), x));
  }
  template <class V> V derivative(const V&, const V&) const noexcept { return V(0); }
  friend constexpr bool operator==(const Step&, const Step&) = default;
};
}  // namespace ctnn::ops
namespace ctnn::ad {
template <Expression A> CTNN_INLINE auto step(A a) { return unary<ops::Step>(std::move(a)); }
}  // namespace ctnn::ad
