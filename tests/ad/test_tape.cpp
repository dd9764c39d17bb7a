// The static tape's execution paths: forward-only evaluation of element-wise R x C expressions
// (where more nodes are fused than in a gradient pass) against a naive loop; a workspace larger
// than the stack limit (the per-thread buffer), reused across passes; expressions without any
// variable; and a variable reached only through step (its gradient is exactly 0, not stale).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ad_check.hpp"
#include "ctnn/ad/ad.hpp"
#include "ctnn/core/config.hpp"
#include "gradcheck.hpp"
#include "reference.hpp"

namespace ad = ctnn::ad;
using namespace ctnn::test::adcheck;

namespace {
double sig(double x) { return 1 / (1 + std::exp(-x)); }
}  // namespace

TEST_CASE_TEMPLATE("tape: evaluate() of element-wise R x C expressions with broadcasting", T, float, double) {
  constexpr std::size_t R = 3, C = 11;
  constexpr double tol = 8 * std::numeric_limits<T>::epsilon();
  Rng rng(31);
  std::vector<T> X(R * C), b(C), c(R), gX(R * C);
  for (auto& v : X) v = T(rng.uniform(-2, 2));
  for (auto& v : b) v = T(rng.uniform(-1, 1));
  for (auto& v : c) v = T(rng.uniform(0.5, 1.5));
  const T s = T(0.75);
  auto Xv = ad::variable<0, R, C>(X.data(), gX.data());
  auto bv = ad::constant<1, 1, C>(b.data());
  auto cv = ad::constant<2, R, 1>(c.data());
  auto sv = ad::constant<3, 1, 1>(&s);
  auto e = ad::tanh(ad::sigmoid(Xv * cv + bv) * sv - Xv / cv) + ad::square(bv - Xv) * 0.5;
  std::vector<T> out(R * C + 8, T(-7));
  ad::evaluate(e, out.data());
  for (std::size_t i = 0; i < R; ++i)
    for (std::size_t j = 0; j < C; ++j) {
      CAPTURE(i);
      CAPTURE(j);
      const double x = X[i * C + j], bj = b[j], ci = c[i];
      const double r = std::tanh(sig(x * ci + bj) * double(s) - x / ci) + 0.5 * (bj - x) * (bj - x);
      CHECK(std::abs(double(out[i * C + j]) - r) <= tol * (std::abs(r) + 1));
    }
  for (std::size_t k = R * C; k < out.size(); ++k) CHECK(out[k] == T(-7));
  // the same expression inside a gradient pass gives the same values
  std::vector<T> U(R * C);
  for (auto& v : U) v = T(rng.uniform(-1, 1));
  auto Uv = ad::constant<4, R, C>(U.data());
  const T v = ad::value_and_gradient(ad::sum(e * Uv));
  double vr = 0;
  for (std::size_t k = 0; k < R * C; ++k) vr += double(out[k]) * double(U[k]);
  CHECK(double(v) == doctest::Approx(vr).epsilon(64 * tol));
}

TEST_CASE("tape: a workspace larger than the stack limit (per-thread buffer), reused across passes") {
  constexpr std::size_t R = 40, C = 50, N = R * C;
  static_assert(N * sizeof(double) * 3 > ctnn::stack_workspace_limit);
  Rng rng(32);
  auto x = rng.uniform(N, -2, 2);
  const auto w = rng.uniform(N, -1, 1);
  auto build = [&](const double* t, double* g) {
    auto X = ad::variable<0, R, C>(t, g);
    auto Wc = ad::constant<1, R, C>(w.data());
    auto h = ad::tanh(X * Wc);
    return ad::sum(h * h + ad::softplus(X)) + ad::sum(ad::logsumexp(h));
  };
  auto g = nan_buffer(N);
  const double v1 = ad::value_and_gradient(build(x.data(), g.data()));
  double ref = 0;
  std::vector<double> gref(N);
  for (std::size_t i = 0; i < R; ++i) {
    double m = -1e300, z = 0;
    for (std::size_t j = 0; j < C; ++j) m = std::max(m, std::tanh(x[i * C + j] * w[i * C + j]));
    for (std::size_t j = 0; j < C; ++j) z += std::exp(std::tanh(x[i * C + j] * w[i * C + j]) - m);
    ref += m + std::log(z);
    for (std::size_t j = 0; j < C; ++j) {
      const std::size_t k = i * C + j;
      const double h = std::tanh(x[k] * w[k]), p = std::exp(h - m) / z;
      ref += h * h + std::log1p(std::exp(x[k]));
      gref[k] = (2 * h + p) * (1 - h * h) * w[k] + sig(x[k]);
    }
  }
  CHECK(v1 == doctest::Approx(ref).epsilon(1e-12));
  std::string why;
  CHECK_MESSAGE(ctnn::test::ref::close_array(g, gref, 1e-11, 1e-13, &why), why);
  // a second pass at another point reuses the buffer: no state carried over
  for (auto& v : x) v = -v;
  auto g2 = nan_buffer(N);
  const double v2 = ad::value_and_gradient(build(x.data(), g2.data()));
  auto g3 = nan_buffer(N);
  const double v3 = ad::value_and_gradient(build(x.data(), g3.data()));
  CHECK(v2 == v3);
  CHECK(g2 == g3);
  double v_fwd = 0;
  ad::evaluate(build(x.data(), g3.data()), &v_fwd);
  CHECK(v_fwd == doctest::Approx(v2).epsilon(1e-14));
}

TEST_CASE("tape: expressions without variables, and a variable reached only through step") {
  const std::vector<double> a{0.5, -1.5, 2.0}, b{1.0, 2.0, -3.0};
  auto av = ad::constant<0, 1, 3>(a.data());
  auto bv = ad::constant<1, 1, 3>(b.data());
  CHECK(ad::value_and_gradient(ad::sum(av * bv)) == doctest::Approx(0.5 - 3.0 - 6.0));
  double out = 0;
  ad::evaluate(ad::mean(ad::exp(av)), &out);
  CHECK(out == doctest::Approx((std::exp(0.5) + std::exp(-1.5) + std::exp(2.0)) / 3));
  // gradient through step: exactly 0 everywhere, overwriting what was in the buffer
  std::vector<double> g{11, 22, 33};
  auto x = ad::variable<2, 1, 3>(a.data(), g.data());
  const double v = ad::value_and_gradient(ad::sum(ad::step(x) * bv));
  CHECK(v == doctest::Approx(1.0 - 3.0));
  for (double gi : g) CHECK(gi == 0.0);
}
