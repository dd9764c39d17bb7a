// Descriptors of ctnn's element-wise primitives for the property tests (finite differences,
// float vs double, SIMD tails, extreme inputs): how to build the node, a scalar std:: reference
// of the value and the derivative (in double), the input range to sample, the kinks to avoid, and
// extreme inputs at which value and gradient must be finite (in float and double) and accurate.
// A new primitive is tested by every property test once its descriptor is added to a list below
// (test_primitives_fd, test_primitives_float, test_simd_tails_{float,double}_{a,b},
// test_extreme_range). A descriptor has:
//   name; lo, hi (sampling range); kinks (points to stay 1e-3 away from); extreme (inputs where
//   value and gradient must be finite and accurate in float and double);
//   apply(x) (builds the node); f(x), df(x) (scalar reference value and derivative, double).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>

#include "ctnn/ad/ad.hpp"

namespace ctnn::test::unary {

namespace ad = ctnn::ad;

inline double ref_sigmoid(double x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }

struct Exp {
  static constexpr const char* name = "exp";
  static constexpr double lo = -5, hi = 5;
  static constexpr std::array<double, 0> kinks{};
  static constexpr std::array<double, 6> extreme{-500.0, -50.0, -1.0, 0.0, 1.0, 50.0};
  template <class X> static auto apply(X x) { return ad::exp(x); }
  static double f(double x) { return std::exp(x); }
  static double df(double x) { return std::exp(x); }
};
struct Log {
  static constexpr const char* name = "log";
  static constexpr double lo = 0.1, hi = 5;
  static constexpr std::array<double, 0> kinks{};
  static constexpr std::array<double, 6> extreme{1e-30, 1e-10, 0.5, 1.0, 1e10, 1e30};
  template <class X> static auto apply(X x) { return ad::log(x); }
  static double f(double x) { return std::log(x); }
  static double df(double x) { return 1 / x; }
};
struct Sigmoid {
  static constexpr const char* name = "sigmoid";
  static constexpr double lo = -8, hi = 8;
  static constexpr std::array<double, 0> kinks{};
  static constexpr std::array<double, 7> extreme{-800.0, -500.0, -50.0, 0.0, 50.0, 500.0, 800.0};
  template <class X> static auto apply(X x) { return ad::sigmoid(x); }
  static double f(double x) { return ref_sigmoid(x); }
  static double df(double x) { return ref_sigmoid(x) * ref_sigmoid(-x); }
};
struct Tanh {
  static constexpr const char* name = "tanh";
  static constexpr double lo = -4, hi = 4;
  static constexpr std::array<double, 0> kinks{};
  static constexpr std::array<double, 8> extreme{-800.0, -500.0, -50.0, 0.0, 1e-8, 50.0, 500.0, 800.0};
  template <class X> static auto apply(X x) { return ad::tanh(x); }
  static double f(double x) { return std::tanh(x); }
  static double df(double x) { return 1 / (std::cosh(x) * std::cosh(x)); }
};
struct Relu {
  static constexpr const char* name = "relu";
  static constexpr double lo = -3, hi = 3;
  static constexpr std::array<double, 1> kinks{0.0};
  static constexpr std::array<double, 5> extreme{-800.0, -500.0, 0.0, 500.0, 800.0};
  template <class X> static auto apply(X x) { return ad::relu(x); }
  static double f(double x) { return x > 0 ? x : 0.0; }
  static double df(double x) { return x > 0 ? 1.0 : 0.0; }
};
struct LeakyRelu {
  static constexpr const char* name = "leaky_relu";
  static constexpr double lo = -3, hi = 3;
  static constexpr std::array<double, 1> kinks{0.0};
  static constexpr double slope = 0.01;
  static constexpr std::array<double, 5> extreme{-800.0, -500.0, 0.0, 500.0, 800.0};
  template <class X> static auto apply(X x) { return ad::leaky_relu(x, slope); }
  static double f(double x) { return x > 0 ? x : slope * x; }
  static double df(double x) { return x > 0 ? 1.0 : slope; }
};
struct Softplus {
  static constexpr const char* name = "softplus";
  static constexpr double lo = -10, hi = 10;
  static constexpr std::array<double, 0> kinks{};
  static constexpr std::array<double, 8> extreme{-800.0, -500.0, -50.0, 0.0, 20.0, 50.0, 500.0, 800.0};
  template <class X> static auto apply(X x) { return ad::softplus(x); }
  static double f(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }
  static double df(double x) { return ref_sigmoid(x); }
};
struct Silu {
  static constexpr const char* name = "silu";
  static constexpr double lo = -8, hi = 8;
  static constexpr std::array<double, 0> kinks{};
  static constexpr std::array<double, 7> extreme{-800.0, -500.0, -50.0, 0.0, 50.0, 500.0, 800.0};
  template <class X> static auto apply(X x) { return ad::silu(x); }
  static double f(double x) { return x * ref_sigmoid(x); }
  static double df(double x) { return ref_sigmoid(x) + x * ref_sigmoid(x) * ref_sigmoid(-x); }
};
struct Gelu {  // x Φ(x)
  static constexpr const char* name = "gelu";
  static constexpr double lo = -5, hi = 5;
  static constexpr std::array<double, 0> kinks{};
  static constexpr std::array<double, 8> extreme{-800.0, -50.0, -10.0, -1e-8, 0.0, 10.0, 50.0, 800.0};
  template <class X> static auto apply(X x) { return ad::gelu(x); }
  // in long double: erfc's steep tail turns the rounding of -x/√2 into ~x² ulps (100 at x = -10)
  static long double cdf(double x) { return 0.5L * std::erfc(-(long double)x / std::sqrt(2.0L)); }
  static double f(double x) { return double(x * cdf(x)); }
  static double df(double x) {
    return double(cdf(x) + x * std::exp(-0.5L * x * x) / std::sqrt(2 * 3.14159265358979323846264338327950288L));
  }
};
struct Square {
  static constexpr const char* name = "square";
  static constexpr double lo = -3, hi = 3;
  static constexpr std::array<double, 0> kinks{};
  static constexpr std::array<double, 5> extreme{-1e15, -500.0, 0.0, 500.0, 1e15};
  template <class X> static auto apply(X x) { return ad::square(x); }
  static double f(double x) { return x * x; }
  static double df(double x) { return 2 * x; }
};
struct Step {
  static constexpr const char* name = "step";
  static constexpr double lo = -3, hi = 3;
  static constexpr std::array<double, 1> kinks{0.0};
  static constexpr std::array<double, 5> extreme{-800.0, -500.0, 0.0, 500.0, 800.0};
  template <class X> static auto apply(X x) { return ad::step(x); }
  static double f(double x) { return x > 0 ? 1.0 : 0.0; }
  static double df(double) { return 0.0; }
};
struct Abs {
  static constexpr const char* name = "abs";
  static constexpr double lo = -3, hi = 3;
  static constexpr std::array<double, 1> kinks{0.0};
  static constexpr std::array<double, 5> extreme{-800.0, -500.0, 0.0, 500.0, 800.0};
  template <class X> static auto apply(X x) { return ad::abs(x); }
  static double f(double x) { return std::abs(x); }
  static double df(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }
};
struct Sqrt {
  static constexpr const char* name = "sqrt";
  static constexpr double lo = 0.1, hi = 5;
  static constexpr std::array<double, 0> kinks{};
  static constexpr std::array<double, 5> extreme{1e-30, 1e-10, 1.0, 1e10, 1e30};
  template <class X> static auto apply(X x) { return ad::sqrt(x); }
  static double f(double x) { return std::sqrt(x); }
  static double df(double x) { return 0.5 / std::sqrt(x); }
};
struct Reciprocal {  // 2 / x, on both sides of the pole
  static constexpr const char* name = "reciprocal";
  static constexpr double lo = -4, hi = 4;
  static constexpr std::array<double, 1> kinks{0.0};
  static constexpr std::array<double, 6> extreme{-1e10, -3.0, -1e-3, 1e-3, 2.0, 1e10};
  template <class X> static auto apply(X x) { return 2.0 / x; }
  static double f(double x) { return 2 / x; }
  static double df(double x) { return -2 / (x * x); }
};
struct Minimum {  // min(x, 0.5)
  static constexpr const char* name = "minimum";
  static constexpr double lo = -3, hi = 3;
  static constexpr double bound = 0.5;
  static constexpr std::array<double, 1> kinks{bound};
  static constexpr std::array<double, 5> extreme{-800.0, -500.0, 0.5, 500.0, 800.0};
  template <class X> static auto apply(X x) { return ad::minimum(x, bound); }
  static double f(double x) { return x < bound ? x : bound; }
  static double df(double x) { return x < bound ? 1.0 : 0.0; }
};

struct Maximum {  // max(x, -0.5)
  static constexpr const char* name = "maximum";
  static constexpr double lo = -3, hi = 3;
  static constexpr double bound = -0.5;
  static constexpr std::array<double, 1> kinks{bound};
  static constexpr std::array<double, 5> extreme{-800.0, -500.0, -0.5, 500.0, 800.0};
  template <class X> static auto apply(X x) { return ad::maximum(x, bound); }
  static double f(double x) { return x > bound ? x : bound; }
  static double df(double x) { return x > bound ? 1.0 : 0.0; }
};

}  // namespace ctnn::test::unary

// The lists used by TEST_CASE_TEMPLATE: A = most of the transcendental ones, B = the piecewise ones
// and GELU (two halves of about equal compile time, so that a translation unit can instantiate one
// half and stay quick to compile).
#define CTNN_UNARY_OPS_A                                                                              \
  ctnn::test::unary::Exp, ctnn::test::unary::Log, ctnn::test::unary::Sigmoid, ctnn::test::unary::Tanh, \
      ctnn::test::unary::Softplus, ctnn::test::unary::Silu, ctnn::test::unary::Sqrt, ctnn::test::unary::Reciprocal
#define CTNN_UNARY_OPS_B                                                                                \
  ctnn::test::unary::Relu, ctnn::test::unary::LeakyRelu, ctnn::test::unary::Square, ctnn::test::unary::Step, \
      ctnn::test::unary::Abs, ctnn::test::unary::Minimum, ctnn::test::unary::Maximum, ctnn::test::unary::Gelu
#define CTNN_UNARY_OPS CTNN_UNARY_OPS_A, CTNN_UNARY_OPS_B
