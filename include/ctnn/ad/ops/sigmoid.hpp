// ctnn/ad/ops/sigmoid.hpp: primitive logistic sigmoid, stable for any |x| (never forms
// e^{|x|}): with e = exp(-|x|), σ(x) = 1/(1+e) for x >= 0 and e/(1+e) otherwise.
// σ'(x) = y (1 - y), reusing the output.
// Layer: ad.
#pragma once
#include "ctnn/ad/unary.hpp"
#include <type_traits>

#include "ctnn/kernel/simd.hpp"

namespace ctnn::ops {
struct Sigmoid {
  static constexpr const char* name = "sigmoid";
  static constexpr const char* symbol = "σ";
  static constexpr const char* latex = "\\sigma";
  static constexpr bool uses_x = false, uses_y = true;  // what derivative() reads
  static constexpr bool transcendental = true;  // costly per lane (see StaticTape::fused_map)
  template <class V> V value(const V& x) const noexcept {
    if constexpr (!std::is_arithmetic_v<V> && std::is_same_v<simd::scalar_t<V>, float>)
      return simd::sigmoid_float(x);  // a shorter dependency chain for float batches
    else if constexpr (std::is_same_v<V, float> && simd::has_batch4f)
      return simd::via_batch4f([](auto v) { return simd::sigmoid_float(v); }, x);
    const V e = simd::exp(-simd::abs(x));
    const V s = V(1) / (V(1) + e);
    return simd::select(x >= V(0), s, e * s);
  }
  template <class V> V derivative(const V&, const V& y) const noexcept { return y * (V(1) - y); }
  friend constexpr bool operator==(const Sigmoid&, const Sigmoid&) = default;
};
}  // namespace ctnn::ops
namespace ctnn::ad {
template <Expression A> CTNN_INLINE auto sigmoid(A a) { return unary<ops::Sigmoid>(std::move(a)); }
}  // namespace ctnn::ad
