// ctnn/ad/dual.hpp: a forward-mode dual number Dual<T> = value + ε·tangent (ε² = 0). It is a
// scalar without a SIMD batch, so every kernel takes its scalar path, and the math the
// primitives call (simd::exp, log, log1p, tanh, sqrt, abs, min, max, fma, comparisons for
// select) is supplied through simd::scalar_math. Running the SAME expressions, primitives and
// local derivative rules on Dual<double> gives, in one reverse sweep, the gradient (values) and
// its directional derivative (tangents): with parameters θ + ε·v, the tangents of the gradient
// are H·v (forward-over-reverse). No derivative rule is written here except the tangents of the
// elementary functions themselves (d exp = exp·dx, ...), which is what a dual number is.
// Comparisons look at values only (a branch is taken as at the point itself; see abs below for
// the tangent at an exact kink).
// Layer: ad (includes kernel only).
#pragma once
#include <cmath>
#include <ostream>
#include <type_traits>

#include "ctnn/kernel/simd.hpp"

namespace ctnn::ad {

template <class T>
struct Dual {
  static_assert(std::is_floating_point_v<T>, "Dual<T>: T is float or double");
  T v{};  ///< value
  T d{};  ///< tangent (derivative along the seeded direction)

  constexpr Dual() noexcept = default;
  constexpr Dual(T value, T tangent) noexcept : v(value), d(tangent) {}
  /// A number is a constant: tangent 0 (implicit, so 2.0 * x and V(0) read as for T).
  template <class S>
    requires std::is_arithmetic_v<S>
  constexpr Dual(S s) noexcept : v(static_cast<T>(s)), d(0) {}

  constexpr T value() const noexcept { return v; }
  constexpr T tangent() const noexcept { return d; }

  friend constexpr Dual operator+(const Dual& a, const Dual& b) noexcept { return {a.v + b.v, a.d + b.d}; }
  friend constexpr Dual operator-(const Dual& a, const Dual& b) noexcept { return {a.v - b.v, a.d - b.d}; }
  friend constexpr Dual operator*(const Dual& a, const Dual& b) noexcept { return {a.v * b.v, a.d * b.v + a.v * b.d}; }
  friend constexpr Dual operator/(const Dual& a, const Dual& b) noexcept {
    const T q = a.v / b.v;
    return {q, (a.d - q * b.d) / b.v};
  }
  friend constexpr Dual operator-(const Dual& a) noexcept { return {-a.v, -a.d}; }
  friend constexpr Dual operator+(const Dual& a) noexcept { return a; }
  constexpr Dual& operator+=(const Dual& b) noexcept { return *this = *this + b; }
  constexpr Dual& operator-=(const Dual& b) noexcept { return *this = *this - b; }
  constexpr Dual& operator*=(const Dual& b) noexcept { return *this = *this * b; }
  constexpr Dual& operator/=(const Dual& b) noexcept { return *this = *this / b; }

  // Branches (select, max, the row maximum of softmax) follow the values.
  friend constexpr bool operator<(const Dual& a, const Dual& b) noexcept { return a.v < b.v; }
  friend constexpr bool operator>(const Dual& a, const Dual& b) noexcept { return a.v > b.v; }
  friend constexpr bool operator<=(const Dual& a, const Dual& b) noexcept { return a.v <= b.v; }
  friend constexpr bool operator>=(const Dual& a, const Dual& b) noexcept { return a.v >= b.v; }
  /// Equality is of both parts (two duals are the same number only if their tangents agree too).
  friend constexpr bool operator==(const Dual& a, const Dual& b) noexcept { return a.v == b.v && a.d == b.d; }

  friend std::ostream& operator<<(std::ostream& os, const Dual& a) { return os << a.v << " + " << a.d << "ε"; }
};

template <class T>
struct is_dual : std::false_type {};
template <class T>
struct is_dual<Dual<T>> : std::true_type {};
template <class T>
inline constexpr bool is_dual_v = is_dual<T>::value;

/// The value part of a number (itself for a plain number).
template <class T>
constexpr auto primal(const T& x) noexcept {
  if constexpr (is_dual_v<T>) return x.v;
  else return x;
}

}  // namespace ctnn::ad

namespace ctnn::simd {
/// The elementary functions on dual numbers: f(v + ε d) = f(v) + ε f'(v) d.
template <class T>
struct scalar_math<ad::Dual<T>> {
  using D = ad::Dual<T>;
  static D exp(const D& x) noexcept {
    const T e = std::exp(x.v);
    return {e, e * x.d};
  }
  static D log(const D& x) noexcept { return {std::log(x.v), x.d / x.v}; }
  static D log1p(const D& x) noexcept { return {std::log1p(x.v), x.d / (T(1) + x.v)}; }
  /// a·b + c with the primal rounded once (std::fma, as an op's scalar path), the tangent by the product rule.
  static D fma(const D& a, const D& b, const D& c) noexcept {
    T v;
    if constexpr (std::is_arithmetic_v<T>) v = std::fma(a.v, b.v, c.v);
    else v = scalar_math<T>::fma(a.v, b.v, c.v);
    return {v, a.d * b.v + a.v * b.d + c.d};
  }
  static D erfc(const D& x) noexcept {
    return {std::erfc(x.v), T(-1.12837916709551257389615890312154517) * std::exp(-x.v * x.v) * x.d};
  }
  static D tanh(const D& x) noexcept {
    const T t = std::tanh(x.v);
    return {t, x.d * (T(1) - t * t)};
  }
  static D sqrt(const D& x) noexcept {
    const T s = std::sqrt(x.v);
    return {s, x.d / (T(2) * s)};
  }
  /// |x| = x for x >= 0, else −x. At 0 the tangent is d (the x >= 0 branch), as max(x, c) at a
  /// tie is x (simd::max): the primitives written piecewise around 0 (sigmoid, softplus: e^{−|x|}
  /// with a select on x >= 0) then take one branch's formula for value and tangent alike, so their
  /// tangent at exactly 0 is exact (a zero-initialised layer). The price: at an exact kink the
  /// forward tangent of relu, abs, maximum, minimum is that branch's slope, which may differ
  /// from the reverse rule's convention there (relu'(0) = 0, abs'(0) = 0).
  static D abs(const D& x) noexcept { return x.v >= T(0) ? x : -x; }
};
}  // namespace ctnn::simd
