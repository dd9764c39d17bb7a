// ctnn/ad/ops/gelu.hpp: primitive GELU x·Φ(x) with Φ the standard normal CDF, PyTorch's nn.GELU()
// (approximate="none"). Φ(x) = erfc(-x/√2)/2, which keeps its relative accuracy in the left tail
// (1 + erf(x/√2), PyTorch's form, cancels to 0 there); gelu'(x) = Φ(x) + x φ(x),
// φ(x) = e^{-x²/2}/√(2π), from x. erfc is steep in the left tail (its relative slope at z is ~2z):
// the rounding of z = -x/√2 alone would cost ~x² ulps of Φ(x) (100 at x = -10), so the rounding
// error of z is carried to first order: erfc(z + dz) = erfc(z) - (2/√π) e^{-z²} dz.
// Layer: ad.
#pragma once
#include "ctnn/ad/unary.hpp"
#include <cmath>
#include <type_traits>

#include "ctnn/kernel/simd.hpp"

namespace ctnn::ops {
struct Gelu {
  static constexpr const char* name = "gelu";
  static constexpr const char* symbol = "gelu";
  static constexpr const char* latex = "\\operatorname{gelu}";
  static constexpr bool uses_x = true, uses_y = false;  // what derivative() reads
  static constexpr bool transcendental = true;  // costly per lane (see StaticTape::fused_map)
  template <class V> static V cdf(const V& x) noexcept {
    using P = std::conditional_t<std::is_same_v<simd::scalar_t<V>, float>, float, double>;
    constexpr long double inv_sqrt2 = 0.707106781186547524400844362104849039L;
    constexpr P c_hi = P(inv_sqrt2), c_lo = P(inv_sqrt2 - c_hi);  // 1/√2 = c_hi + c_lo
    const V z = x * V(-c_hi);
    V dz = fma_exact(x, V(-c_hi), -z) - x * V(c_lo);  // what z's rounding and c_hi's left out
    dz = simd::select(dz == dz, dz, V(0));             // inf - inf at x = ±inf: no correction there
    const V corr = V(P(-1.12837916709551257389615890312154517L)) * simd::exp(-(z * z));
    return V(0.5) * fma_exact(corr, dz, simd::erfc(z));
  }
  template <class V> V value(const V& x) const noexcept { return x * cdf(x); }
  template <class V> V derivative(const V& x, const V&) const noexcept {
    const V pdf = V(0.398942280401432677939946059934381868) * simd::exp(V(-0.5) * x * x);
    return cdf(x) + x * pdf;
  }
  friend constexpr bool operator==(const Gelu&, const Gelu&) = default;

 private:
  template <class V> static V fma_exact(const V& a, const V& b, const V& c) noexcept {  // one rounding
    if constexpr (std::is_arithmetic_v<V>) return std::fma(a, b, c);
    else if constexpr (simd::is_extension_scalar<V>) return simd::scalar_math<V>::fma(a, b, c);  // dual numbers
    else return simd::fma(a, b, c);
  }
};
}  // namespace ctnn::ops
namespace ctnn::ad {
template <Expression A> CTNN_INLINE auto gelu(A a) { return unary<ops::Gelu>(std::move(a)); }
}  // namespace ctnn::ad
