// Extreme-range twins of the primitive tests, in float and double:
//  * every element-wise primitive of unary_ops.hpp at its `extreme` inputs (|x| = 500 and 800 for
//    sigmoid, softplus, tanh and the piecewise ops; 1e-30 .. 1e30 for log and sqrt; ...): value and
//    gradient finite and within a few eps of the exact ones (saturated derivatives such as
//    y (1 - y) = 0 at y = 1 are accepted within 4 eps |u|, as REFERENCE.md allows);
//  * relu, leaky_relu, abs, step, square and minimum exact at |x| = 500, 800;
//  * logsumexp and softmax of a row holding -800 .. 800;
//  * NaN in, NaN out: every element-wise primitive gives NaN exactly where its input is NaN, in
//    full SIMD batches and in the tail (relu, max, min and step turned NaN into a number before).
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "ad_check.hpp"
#include "ctnn/ad/ad.hpp"
#include "unary_ops.hpp"

namespace ad = ctnn::ad;
namespace un = ctnn::test::unary;

namespace {
constexpr std::size_t N = 8;
constexpr std::array<double, N> kX{-500.0, 500.0, -800.0, 800.0, 0.0, -1.0, 1.0, 50.0};
constexpr std::array<double, N> kU{0.75, -0.5, 0.25, 1.0, -1.0, 0.5, -0.25, 0.125};

template <class T>
struct Buffers {
  std::array<T, N> x{}, u{}, y{}, g{};
  Buffers() {
    for (std::size_t i = 0; i < N; ++i) x[i] = T(kX[i]), u[i] = T(kU[i]);
    y.fill(std::numeric_limits<T>::quiet_NaN());
    g.fill(std::numeric_limits<T>::quiet_NaN());
  }
};

template <class T, class D>
Buffers<T> run_unary() {
  Buffers<T> b;
  auto xv = ad::variable<0, 1, N>(b.x.data(), b.g.data());
  auto uc = ad::constant<1, 1, N>(b.u.data());
  ad::evaluate(D::apply(xv), b.y.data());
  ad::value_and_gradient(ad::sum(D::apply(xv) * uc));
  return b;
}

// Op D at its extreme inputs, in T: finite, and close to the exact value / derivative (computed
// in double).
template <class T, class D>
void extreme_case() {
  const std::string op_name = D::name;
  CAPTURE(op_name);
  constexpr std::size_t K = D::extreme.size();
  constexpr double eps = std::numeric_limits<T>::epsilon();
  std::array<T, K> x{}, u{}, y{}, g{};
  for (std::size_t i = 0; i < K; ++i) x[i] = T(D::extreme[i]), u[i] = T(kU[i % N]);
  y.fill(std::numeric_limits<T>::quiet_NaN());
  g.fill(std::numeric_limits<T>::quiet_NaN());
  auto xv = ad::variable<0, 1, K>(x.data(), g.data());
  auto uc = ad::constant<1, 1, K>(u.data());
  ad::evaluate(D::apply(xv), y.data());
  ad::value_and_gradient(ad::sum(D::apply(xv) * uc));
  for (std::size_t i = 0; i < K; ++i) {
    CAPTURE(double(x[i]));
    CHECK(std::isfinite(y[i]));
    CHECK(std::isfinite(g[i]));
    // exact values; below T's normal range (e.g. e^-500 in float) a flush to 0 is accepted
    const double fr = D::f(double(x[i])), gr = double(u[i]) * D::df(double(x[i]));
    constexpr double tiny = std::numeric_limits<T>::min();
    CHECK(std::abs(double(y[i]) - fr) <= 4 * eps * std::abs(fr) + tiny);
    CHECK(std::abs(double(g[i]) - gr) <= 4 * eps * (std::abs(gr) + std::abs(double(u[i]))) + tiny);
  }
}

// Piecewise ops: exact, with the formula evaluated in T.
template <class T, class D, class F, class G>
void exact_case(F f, G df) {
  const std::string op_name = D::name;
  CAPTURE(op_name);
  const auto b = run_unary<T, D>();
  for (std::size_t i = 0; i < N; ++i) {
    CAPTURE(kX[i]);
    const T x = T(kX[i]), u = T(kU[i]);
    CHECK(b.y[i] == f(x));
    CHECK(b.g[i] == u * df(x));
  }
}
}  // namespace

TEST_CASE_TEMPLATE("extreme range: every element-wise primitive finite and accurate at its extreme inputs", D,
                   CTNN_UNARY_OPS) {
  extreme_case<float, D>();
  extreme_case<double, D>();
}

TEST_CASE_TEMPLATE("extreme range: sigmoid, softplus, tanh saturate cleanly at |x| = 500, 800", T, float, double) {
  const auto s = run_unary<T, un::Sigmoid>();
  CHECK(s.y[1] == T(1));
  CHECK(s.y[3] == T(1));
  CHECK(s.y[0] == T(std::exp(-500.0)));  // 7.1e-218 in double, 0 in float: no NaN from inf/inf
  CHECK(s.y[2] == T(std::exp(-800.0)));  // 0
  const auto p = run_unary<T, un::Softplus>();
  CHECK(p.y[1] == T(500));
  CHECK(p.y[3] == T(800));
  CHECK(p.g[3] == T(kU[3]));  // softplus'(800) = sigmoid(800) = 1
  CHECK(p.g[2] == T(0));      // softplus'(-800) = 0, not NaN
  const auto t = run_unary<T, un::Tanh>();
  CHECK(t.y[0] == T(-1));
  CHECK(t.y[3] == T(1));
  CHECK(t.g[3] == T(0));
}

TEST_CASE_TEMPLATE("extreme range: relu, leaky_relu, abs, step, square, minimum exact at |x| = 500, 800", T, float,
                   double) {
  exact_case<T, un::Relu>([](T x) { return x > 0 ? x : T(0); }, [](T x) { return x > 0 ? T(1) : T(0); });
  exact_case<T, un::LeakyRelu>([](T x) { return x > 0 ? x : x * T(0.01); },
                               [](T x) { return x > 0 ? T(1) : T(0.01); });
  exact_case<T, un::Abs>([](T x) { return x < 0 ? -x : x; },
                         [](T x) { return x > 0 ? T(1) : (x < 0 ? T(-1) : T(0)); });
  exact_case<T, un::Step>([](T x) { return x > 0 ? T(1) : T(0); }, [](T) { return T(0); });
  exact_case<T, un::Square>([](T x) { return x * x; }, [](T x) { return x + x; });
  exact_case<T, un::Minimum>([](T x) { return x < T(0.5) ? x : T(0.5); },
                             [](T x) { return x < T(0.5) ? T(1) : T(0); });
}

TEST_CASE_TEMPLATE("extreme range: logsumexp and softmax of a row with |x| = 500, 800", T, float, double) {
  constexpr double eps = std::numeric_limits<T>::epsilon();
  // exact reference in double: max 800, the rest is exp(-300) or smaller relative to it
  double m = kX[0];
  for (double v : kX) m = std::max(m, v);
  std::array<double, N> p{};
  double z = 0;
  for (std::size_t i = 0; i < N; ++i) z += p[i] = std::exp(kX[i] - m);
  for (auto& v : p) v /= z;
  const double lse = m + std::log(z);
  Buffers<T> b;
  auto xv = ad::variable<0, 1, N>(b.x.data(), b.g.data());
  T l = 0;
  ad::evaluate(ad::logsumexp(xv), &l);
  CHECK(double(l) == doctest::Approx(lse).epsilon(2 * eps));
  const T uu = T(0.5);
  auto uc1 = ad::constant<2, 1, 1>(&uu);
  ad::value_and_gradient(ad::logsumexp(xv) * uc1);
  for (std::size_t i = 0; i < N; ++i) {
    CAPTURE(i);
    REQUIRE(std::isfinite(b.g[i]));
    CHECK(std::abs(double(b.g[i]) - 0.5 * p[i]) <= 4 * eps * (0.5 * p[i]) + std::numeric_limits<T>::min());
  }
  auto uc = ad::constant<1, 1, N>(b.u.data());
  ad::evaluate(ad::softmax(xv), b.y.data());
  ad::value_and_gradient(ad::sum(ad::softmax(xv) * uc));
  double up = 0;
  for (std::size_t i = 0; i < N; ++i) up += kU[i] * p[i];
  for (std::size_t i = 0; i < N; ++i) {
    CAPTURE(i);
    REQUIRE(std::isfinite(b.y[i]));
    REQUIRE(std::isfinite(b.g[i]));
    CHECK(std::abs(double(b.y[i]) - p[i]) <= 4 * eps * p[i] + std::numeric_limits<T>::min());
    const double r = p[i] * (kU[i] - up);
    CHECK(std::abs(double(b.g[i]) - r) <= 4 * eps * (std::abs(r) + 1.0) * p[i] + std::numeric_limits<T>::min());
  }
}

TEST_CASE_TEMPLATE("NaN in, NaN out: every element-wise primitive, in SIMD batches and tails", D, CTNN_UNARY_OPS) {
  const std::string op_name = D::name;
  CAPTURE(op_name);
  const auto check = [&]<class T>(T) {
    constexpr std::size_t K = 19;  // float: 16 + 3 (a 512-bit batch and a tail), double: 2 x 8 + 3
    std::array<T, K> x{}, y{};
    for (std::size_t i = 0; i < K; ++i) x[i] = T(D::lo + (D::hi - D::lo) * (double(i) + 0.5) / K);
    for (std::size_t i : {0, 7, 13, 17}) x[i] = std::numeric_limits<T>::quiet_NaN();
    ad::evaluate(D::apply(ad::constant<0, 1, K>(x.data())), y.data());
    for (std::size_t i = 0; i < K; ++i) {
      CAPTURE(i);
      CHECK(std::isnan(y[i]) == std::isnan(x[i]));
    }
  };
  check(float{});
  check(double{});
}

TEST_CASE_TEMPLATE("extreme range: gelu and silu at ±inf are PyTorch's (inf at +inf, x·0 = NaN at -inf)", T, float,
                   double) {
  constexpr T inf = std::numeric_limits<T>::infinity();
  std::array<T, 2> x{inf, -inf}, y{};
  ad::evaluate(ad::gelu(ad::constant<0, 1, 2>(x.data())), y.data());
  CHECK(y[0] == inf);
  CHECK(std::isnan(y[1]));
  ad::evaluate(ad::silu(ad::constant<0, 1, 2>(x.data())), y.data());
  CHECK(y[0] == inf);
  CHECK(std::isnan(y[1]));
}
