// ctnn/ad/ops/leaky_relu.hpp: primitive leaky rectifier, x for x > 0 else slope·x;
// the derivative at 0 is the slope (PyTorch's convention). Default slope 0.01.
// Layer: ad.
#pragma once
#include "ctnn/ad/unary.hpp"
#include "ctnn/kernel/simd.hpp"

namespace ctnn::ops {
struct LeakyRelu {
  static constexpr const char* name = "leaky_relu";
  static constexpr const char* symbol = "lrelu";
  static constexpr const char* latex = "\\operatorname{lrelu}";
  static constexpr bool uses_x = true, uses_y = false;  // what derivative() reads
  double slope = 0.01;
  template <class V> V value(const V& x) const noexcept {
    return simd::select(x > V(0), x, x * V(static_cast<simd::scalar_t<V>>(slope)));
  }
  template <class V> V derivative(const V& x, const V&) const noexcept {
    return simd::select(x > V(0), V(1), V(static_cast<simd::scalar_t<V>>(slope)));
  }
  friend constexpr bool operator==(const LeakyRelu&, const LeakyRelu&) = default;
};
}  // namespace ctnn::ops
namespace ctnn::ad {
template <Expression A> CTNN_INLINE auto leaky_relu(A a, double slope = 0.01) {
  return unary(std::move(a), ops::LeakyRelu{slope});
}
}  // namespace ctnn::ad
