// tests/curvature/test_fisher_bernoulli.cpp: the Fisher for sigmoid outputs (independent
// Bernoulli outputs, from logits or from a Sigmoid output layer) against the closed form of a
// two-output logistic regression, both Fishers; malformed targets and bad sizes are rejected.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/optim/natural_gradient.hpp"
#include "reference.hpp"

namespace ref = ctnn::test::ref;
using ctnn::optim::FisherKind;
namespace lk = ctnn::optim::likelihood;

namespace {
void check_close(const std::string& what, const double* a, const ref::Vec& r) {
  std::string why;
  const bool ok = ref::close_array(a, r, 1e-10, 1e-12, &why);
  INFO(what << ": " << why);
  CHECK(ok);
}
using SoftmaxRegression = ctnn::Network<double, ctnn::Dense<4, 3>>;
}  // namespace

TEST_CASE("Bernoulli Fisher (sigmoid outputs) of a two-output logistic regression equals its closed form") {
  // z = W x + b, W 2x3; p_k = σ(z_k), independent Bernoulli outputs. With u_k the flat vector
  // holding x in W's row k and 1 in b_k: ∇z_k = u_k, the true Fisher is 1/N Σ_n Σ_k σ(1−σ) u u ᵀ
  // and the empirical one 1/N Σ_n g_n g_nᵀ with g_n = Σ_k (σ_k − y_k) u_k.
  using Logit = ctnn::Network<double, ctnn::Dense<3, 2>>;
  using Prob = ctnn::Network<double, ctnn::Dense<3, 2>, ctnn::Sigmoid>;
  constexpr std::size_t P = 8, N = 5;
  const double X[N * 3] = {0.3, -1.2, 0.5, 1.1, 0.4, -0.7, -0.6, 0.9, 1.3, 0.2, -0.1, -1.5, 2.0, 0.8, 0.05};
  const double Y[N * 2] = {1, 0, 0, 0, 1, 1, 0, 1, 1, 0};
  const double theta[P] = {0.4, -0.3, 0.8, -0.5, 0.2, 0.6, 0.1, -0.2};
  double Ft[P * P] = {}, Fe[P * P] = {}, g[P] = {};
  for (std::size_t n = 0; n < N; ++n) {
    double u[2][P] = {}, gn[P] = {};
    for (std::size_t k = 0; k < 2; ++k) {
      double z = theta[6 + k];
      for (std::size_t i = 0; i < 3; ++i) z += theta[k * 3 + i] * X[n * 3 + i], u[k][k * 3 + i] = X[n * 3 + i];
      u[k][6 + k] = 1;
      const double s = 1 / (1 + std::exp(-z));
      for (std::size_t i = 0; i < P; ++i) {
        gn[i] += (s - Y[n * 2 + k]) * u[k][i];
        for (std::size_t j = 0; j < P; ++j) Ft[i * P + j] += s * (1 - s) * u[k][i] * u[k][j] / N;
      }
    }
    for (std::size_t i = 0; i < P; ++i) {
      g[i] += gn[i] / N;
      for (std::size_t j = 0; j < P; ++j) Fe[i * P + j] += gn[i] * gn[j] / N;
    }
  }
  const ref::Vec Ftv(Ft, Ft + P * P), Fev(Fe, Fe + P * P), gv(g, g + P);
  auto run = [&]<class Net, class L>(Net& net, L) {
    std::copy(theta, theta + P, net.params().begin());
    for (FisherKind kind : {FisherKind::empirical, FisherKind::true_fisher}) {
      ctnn::optim::FisherFactors<Net, L> f(N, kind);
      std::vector<double> grad(P), F(P * P);
      f.compute(net, X, Y, N, grad);
      f.form(F);
      check_close("Bernoulli gradient", grad.data(), gv);
      check_close(kind == FisherKind::empirical ? "Bernoulli empirical F" : "Bernoulli true F", F.data(),
                  kind == FisherKind::empirical ? Fev : Ftv);
      CHECK(f.rows() == (kind == FisherKind::empirical ? N : 4 * N));
    }
  };
  Logit a;
  run(a, lk::SigmoidLogits{});
  Prob b;
  run(b, lk::SigmoidProbabilities{});
}

TEST_CASE("Fisher: soft or malformed targets and bad sizes are rejected with a message") {
  SoftmaxRegression net;
  ctnn::optim::FisherFactors<SoftmaxRegression, lk::SoftmaxLogits> f(2, FisherKind::true_fisher);
  const double X[8] = {};
  std::vector<double> g(15);
  const double soft[6] = {0.5, 0.5, 0, 1, 0, 0};
  CHECK_THROWS_WITH_AS(f.compute(net, X, soft, 2, g), doctest::Contains("target row 0"), std::invalid_argument);
  const double two[6] = {1, 0, 0, 1, 1, 0};
  CHECK_THROWS_WITH_AS(f.compute(net, X, two, 2, g), doctest::Contains("not one-hot"), std::invalid_argument);
  const double ok[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  CHECK_THROWS_AS(f.compute(net, X, ok, 3, g), std::invalid_argument);  // more than max_samples
  ctnn::optim::NaturalGradientOptions o;
  o.damping = 0;
  CHECK_THROWS_AS((ctnn::optim::NaturalGradient<SoftmaxRegression, lk::SoftmaxLogits>(2, o)), std::invalid_argument);
}
