// tests/curvature/test_natural_gradient_large.cpp: above cholesky_max_params (128) the automatic
// solver is CG on Fisher-vector products, F never formed; on a 13-32-3 tanh net (547 parameters)
// its direction agrees with the formed-F Cholesky solve, and its steps lower the loss.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/optim/natural_gradient.hpp"

using ctnn::optim::FisherKind;
using ctnn::optim::NgSolver;

TEST_CASE("natural gradient on 547 parameters: automatic = CG, agreeing with Cholesky; steps lower the loss") {
  using Net = ctnn::Network<double, ctnn::Dense<13, 32>, ctnn::Tanh, ctnn::Dense<32, 3>>;
  using Lik = ctnn::optim::likelihood::SoftmaxLogits;
  static_assert(Net::num_params == 547);
  constexpr std::size_t N = 40;
  std::vector<double> X(N * 13), Y(N * 3, 0.0);
  ctnn::Random rng(21);
  for (double& v : X) v = rng.normal();
  for (std::size_t n = 0; n < N; ++n) Y[n * 3 + (X[n * 13] + X[n * 13 + 1] > 0 ? 0 : X[n * 13 + 2] > 0 ? 1 : 2)] = 1;

  for (FisherKind kind : {FisherKind::empirical, FisherKind::true_fisher}) {
    ctnn::optim::NaturalGradientOptions o;
    o.fisher = kind;
    o.damping = 1e-2;
    o.lr = 0.5;
    o.cg_tolerance = 1e-10;
    o.cg_max_iterations = 2000;
    ctnn::optim::NaturalGradient<Net, Lik> cg(N, o);
    REQUIRE(cg.solver() == NgSolver::conjugate_gradient);
    o.solver = NgSolver::cholesky;
    ctnn::optim::NaturalGradient<Net, Lik> chol(N, o);

    Net net(8);
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    const auto a = cg.compute_direction(net, X.data(), Y.data(), N);
    const auto t1 = clock::now();
    chol.compute_direction(net, X.data(), Y.data(), N);
    const auto t2 = clock::now();
    const double s_cg = std::chrono::duration<double>(t1 - t0).count(), s_ch = std::chrono::duration<double>(t2 - t1).count();
    double d = 0, m = 0;
    for (std::size_t i = 0; i < Net::num_params; ++i)
      d = std::max(d, std::abs(cg.direction()[i] - chol.direction()[i])), m = std::max(m, std::abs(chol.direction()[i]));
    std::printf("P = 547, %s Fisher (rank <= %zu), damping 1e-2: CG %zu iterations, residual %.1e; |x_cg - x_chol| / "
                "max|x| = %.1e; one direction: CG %.2e s, Cholesky %.2e s\n",
                kind == FisherKind::empirical ? "empirical" : "true", kind == FisherKind::empirical ? N : 3 * N,
                a.cg.iterations, a.cg.relative_residual, d / m, s_cg, s_ch);
    CHECK(a.cg.converged);
    CHECK(d / m < 1e-7);

    const double l0 = cg.step(net, X.data(), Y.data(), N).loss;
    double l = l0;
    for (int i = 0; i < 10; ++i) l = cg.step(net, X.data(), Y.data(), N).loss;
    CHECK(l < 0.5 * l0);
  }
}
