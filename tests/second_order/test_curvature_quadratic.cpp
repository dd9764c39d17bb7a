// tests/second_order/test_curvature_quadratic.cpp: η* and the Lipschitz estimate on
// f(θ) = ½ θᵀAθ − bᵀθ written as an ad expression (A = Q diag(λ) Qᵀ, Q a Householder reflector,
// eigenvalues 10, 4, 2, 1, 0.5 known exactly): H = A, so the HVP, η* = gᵀg / gᵀAg (g = Aθ − b),
// the model's predicted decrease and L = λmax = 10 are all checked against closed forms (1e-10),
// and the step θ − η* g lowers f by exactly the predicted amount (the model is f itself).
#include <array>
#include <cmath>
#include <vector>

#include <doctest/doctest.h>

#include "ctnn/ctnn.hpp"
#include "ctnn/nn/curvature.hpp"
#include "ctnn/nn/hvp.hpp"

namespace {

constexpr std::size_t n = 5;
using D = ctnn::ad::Dual<double>;

struct Quadratic {
  std::array<double, n * n> A{};
  std::array<double, n> b{}, lambda{10.0, 4.0, 2.0, 1.0, 0.5};
  std::array<D, n * n> Ad{};
  std::array<D, n> bd{};
  Quadratic() {
    const std::array<double, n> u{1.0, -2.0, 0.5, 3.0, 1.5};
    double uu = 0;
    for (double x : u) uu += x * x;
    // Q = I − 2 u uᵀ / uᵀu (orthogonal, symmetric); A = Q diag(λ) Q, symmetrised exactly.
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j <= i; ++j) {
        double s = 0;
        for (std::size_t k = 0; k < n; ++k) {
          const double qik = (i == k ? 1.0 : 0.0) - 2 * u[i] * u[k] / uu;
          const double qjk = (j == k ? 1.0 : 0.0) - 2 * u[j] * u[k] / uu;
          s += qik * lambda[k] * qjk;
        }
        A[i * n + j] = A[j * n + i] = s;
      }
    b = {0.3, -1.0, 2.0, 0.7, -0.4};
    for (std::size_t i = 0; i < n * n; ++i) Ad[i] = D(A[i]);
    for (std::size_t i = 0; i < n; ++i) bd[i] = D(b[i]);
  }
  // f and its gradient on any scalar type: the expression ½ θᵀAθ − bᵀθ, differentiated by the tape.
  template <class S>
  S value_and_gradient(const S* theta, S* grad, const S* Am, const S* bv) const {
    auto th = ctnn::ad::variable<0, n, 1>(theta, grad);
    auto Ac = ctnn::ad::constant<1, n, n>(Am);
    auto bc = ctnn::ad::constant<2, n, 1>(bv);
    return ctnn::ad::value_and_gradient(0.5 * ctnn::ad::sum(th * ctnn::ad::matmul(Ac, th)) - ctnn::ad::sum(bc * th));
  }
  double f(const double* th) const {
    std::array<double, n> g{};
    return value_and_gradient(th, g.data(), A.data(), b.data());
  }
  std::array<double, n> Av(const double* v) const {
    std::array<double, n> r{};
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) r[i] += A[i * n + j] * v[j];
    return r;
  }
};

bool close(double a, double e, double rel = 1e-10) { return std::abs(a - e) <= rel * std::abs(e); }

}  // namespace

TEST_CASE("quadratic: HVP = A v, η* and L exact against closed forms") {
  const Quadratic q;
  auto hvp = ctnn::objective_hvp<double>(
      [&q](const D* th, D* g) { return q.value_and_gradient(th, g, q.Ad.data(), q.bd.data()); }, n);
  const std::array<double, n> theta{0.5, 1.5, -0.25, 2.0, -1.0};

  // The HVP is A v, the gradient A θ − b.
  const std::array<double, n> v{1.0, 0.0, -2.0, 0.5, 3.0};
  std::array<double, n> Hv{}, g{};
  const double f0 = hvp(theta.data(), v.data(), Hv.data(), g.data());
  CHECK(close(f0, q.f(theta.data()), 1e-14));
  const auto Avv = q.Av(v.data()), At = q.Av(theta.data());
  for (std::size_t i = 0; i < n; ++i) {
    CHECK(close(Hv[i], Avv[i], 1e-13));
    CHECK(close(g[i], At[i] - q.b[i], 1e-13));
  }

  // η* = gᵀg / gᵀAg.
  ctnn::CurvatureProbe<double> probe(n);
  const auto s = probe.optimal_step(hvp.at(theta.data()));
  std::array<double, n> gc{};
  for (std::size_t i = 0; i < n; ++i) gc[i] = At[i] - q.b[i];
  const auto Ag = q.Av(gc.data());
  double gg = 0, gAg = 0;
  for (std::size_t i = 0; i < n; ++i) {
    gg += gc[i] * gc[i];
    gAg += gc[i] * Ag[i];
  }
  REQUIRE(s.positive_curvature);
  CHECK(close(s.grad_sq, gg));
  CHECK(close(s.curvature, gAg));
  CHECK(close(s.eta, gg / gAg));
  CHECK(close(s.predicted_decrease, gg * gg / (2 * gAg)));
  // η* lies between 1/λmax and 1/λmin, and the step lowers f by exactly the predicted decrease.
  CHECK(s.eta > 1.0 / 10.0);
  CHECK(s.eta < 1.0 / 0.5);
  std::array<double, n> th1{};
  for (std::size_t i = 0; i < n; ++i) th1[i] = theta[i] - s.eta * gc[i];
  CHECK(close(f0 - q.f(th1.data()), s.predicted_decrease, 1e-10));
  // Any other step size lowers f less.
  for (double t : {0.9, 1.1}) {
    std::array<double, n> th2{};
    for (std::size_t i = 0; i < n; ++i) th2[i] = theta[i] - t * s.eta * gc[i];
    CHECK(q.f(th2.data()) > q.f(th1.data()));
  }

  // L = λmax = 10 by power iteration; its vector is A's first eigenvector (Q e_0 up to sign).
  const auto L = probe.lipschitz(hvp.at(theta.data()));
  REQUIRE(L.converged);
  CHECK(close(L.eigenvalue, 10.0));
  CHECK(close(L.L, 10.0));
  CHECK(close(L.lr, 0.1));
  const auto u = probe.eigenvector();
  const auto Au = q.Av(u.data());
  for (std::size_t i = 0; i < n; ++i) CHECK(std::abs(Au[i] - 10.0 * u[i]) < 1e-8);
  MESSAGE("quadratic: eta* = " << s.eta << " (rel err " << std::abs(s.eta - gg / gAg) / (gg / gAg) << "), L = " << L.L
                               << " (rel err " << std::abs(L.L - 10.0) / 10.0 << ") after " << L.iterations << " HVPs");
}

TEST_CASE("quadratic: negative curvature along -g is reported, L is the dominant |λ|") {
  // f = ½ θᵀ diag(1, −3) θ at θ = (0, 1): g = (0, −3), gᵀHg = −27 < 0.
  const std::array<D, 4> Ad{D(1.0), D(0.0), D(0.0), D(-3.0)};
  const std::array<D, 2> bd{D(0.0), D(0.0)};
  auto hvp = ctnn::objective_hvp<double>(
      [&](const D* th, D* g) {
        auto t = ctnn::ad::variable<0, 2, 1>(th, g);
        auto A = ctnn::ad::constant<1, 2, 2>(Ad.data());
        auto b = ctnn::ad::constant<2, 2, 1>(bd.data());
        return ctnn::ad::value_and_gradient(0.5 * ctnn::ad::sum(t * ctnn::ad::matmul(A, t)) - ctnn::ad::sum(b * t));
      },
      2);
  const std::array<double, 2> theta{0.0, 1.0};
  ctnn::CurvatureProbe<double> probe(2);
  const auto s = probe.optimal_step(hvp.at(theta.data()));
  CHECK_FALSE(s.positive_curvature);
  CHECK(s.curvature == doctest::Approx(-27.0).epsilon(1e-14));
  CHECK(std::isinf(s.eta));
  const auto L = probe.lipschitz(hvp.at(theta.data()));
  REQUIRE(L.converged);
  CHECK(close(L.eigenvalue, -3.0));
  CHECK(close(L.L, 3.0));
}
