// tests/second_order/test_dual.cpp: the dual number itself. For every primitive of ad/ops, the
// tangent of op.value on Dual(x, ±1) equals the op's own reverse rule op.derivative(x, y) (the two
// modes agree), in the tails (±30: up to the rule's rounding of 1 − y, README's vjp tolerance) and
// at 0 for the smooth primitives written piecewise around 0 (sigmoid, softplus: exact there, a
// zero-initialised layer); at exact kinks the tangent is the x >= 0 branch's slope (documented in
// ad/dual.hpp). The arithmetic against hand derivatives; comparisons by value.
#include <cmath>
#include <string>

#include <doctest/doctest.h>

#include "ctnn/ad/ad.hpp"
#include "ctnn/ad/dual.hpp"

namespace {
using D = ctnn::ad::Dual<double>;

template <class Op>
void check_op(const std::string& name, Op op, std::initializer_list<double> xs) {
  for (double x : xs)
    for (double dir : {1.0, -1.0}) {
      INFO(name << " at x = " << x << ", tangent " << dir);
      const D y = op.value(D(x, dir));
      const double yv = op.value(x);
      CHECK(y.v == yv);
      const double rule = dir * op.derivative(x, yv);
      CHECK(std::abs(y.d - rule) <= 1e-12 * std::abs(rule) + 4.4e-16);
    }
}
}  // namespace

TEST_CASE("dual: every primitive's tangent is its reverse rule") {
  const auto pts = {-30.0, -2.5, -0.7, 0.0, 0.3, 1.0, 4.0, 30.0};
  const auto off_kink = {-30.0, -2.5, -0.7, 0.3, 1.0, 4.0, 30.0};
  check_op("exp", ctnn::ops::Exp{}, {-30.0, -2.5, 0.0, 0.3, 4.0, 30.0});
  check_op("log", ctnn::ops::Log{}, {1e-300, 0.3, 1.0, 4.0, 30.0});
  check_op("sigmoid", ctnn::ops::Sigmoid{}, pts);
  check_op("tanh", ctnn::ops::Tanh{}, pts);
  check_op("relu", ctnn::ops::Relu{}, off_kink);
  check_op("leaky_relu", ctnn::ops::LeakyRelu{0.01}, pts);
  check_op("softplus", ctnn::ops::Softplus{}, pts);
  check_op("silu", ctnn::ops::Silu{}, pts);
  check_op("gelu", ctnn::ops::Gelu{}, pts);
  check_op("square", ctnn::ops::Square{}, pts);
  check_op("abs", ctnn::ops::Abs{}, off_kink);
  check_op("sqrt", ctnn::ops::Sqrt{}, {1e-8, 0.3, 1.0, 4.0, 30.0});
  check_op("reciprocal", ctnn::ops::Reciprocal{2.0}, {-30.0, -2.5, -0.7, 0.3, 1.0, 4.0, 30.0});
  check_op("step", ctnn::ops::Step{}, pts);
  check_op("minimum", ctnn::ops::Minimum{1.0}, {-2.5, 0.3, 4.0});
  check_op("maximum", ctnn::ops::Maximum{0.3}, {-2.5, 1.0, 4.0});
  // Exact kinks: the x >= 0 branch's slope (leaky_relu's rule agrees: slope at 0 is checked above).
  CHECK(ctnn::ops::Relu{}.value(D(0.0, -1.0)) == D(0.0, -1.0));
  CHECK(ctnn::ops::Abs{}.value(D(0.0, -1.0)) == D(0.0, -1.0));
  CHECK(ctnn::ops::Maximum{0.3}.value(D(0.3, 2.0)) == D(0.3, 2.0));
  CHECK(ctnn::ops::Minimum{1.0}.value(D(1.0, 2.0)) == D(1.0, 2.0));
}

TEST_CASE("dual: arithmetic, numbers as constants, comparisons by value") {
  const D a(3.0, 1.0), b(-2.0, 0.5);
  CHECK((a + b) == D(1.0, 1.5));
  CHECK((a - b) == D(5.0, 0.5));
  CHECK((a * b) == D(-6.0, 1.0 * -2.0 + 3.0 * 0.5));
  const D q = a / b;
  CHECK(q.v == -1.5);
  CHECK(q.d == doctest::Approx((1.0 * -2.0 - 3.0 * 0.5) / 4.0).epsilon(1e-15));
  CHECK((2.0 * a) == D(6.0, 2.0));
  CHECK((a + 1) == D(4.0, 1.0));
  CHECK(-a == D(-3.0, -1.0));
  CHECK(b < a);
  CHECK(D(1.0, 5.0) <= D(1.0, -5.0));  // values equal: the tangent does not order
  CHECK_FALSE(D(1.0, 5.0) == D(1.0, -5.0));
  CHECK(ctnn::ad::primal(a) == 3.0);
  CHECK(ctnn::ad::primal(2.5) == 2.5);
  // log1p through simd (softplus uses it): d log1p(x) = dx / (1 + x).
  const D l = ctnn::simd::log1p(D(0.5, 2.0));
  CHECK(l.v == std::log1p(0.5));
  CHECK(l.d == doctest::Approx(2.0 / 1.5).epsilon(1e-15));
}
