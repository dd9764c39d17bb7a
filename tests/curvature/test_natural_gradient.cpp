// tests/curvature/test_natural_gradient.cpp: the two natural-gradient solvers agree (formed F +
// Cholesky versus CG on Fisher-vector products) on small networks, for both Fishers and both
// output kinds; the Fisher-vector product equals F v; the natural gradient, L-BFGS and the CG
// solve allocate nothing per step (this executable counts heap allocations).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "counting_new.hpp"
#include "ctnn/ctnn.hpp"
#include "ctnn/optim/lbfgs.hpp"
#include "ctnn/optim/natural_gradient.hpp"

using ctnn::test::allocations;

using ctnn::optim::FisherKind;
using ctnn::optim::NgSolver;
namespace lk = ctnn::optim::likelihood;

namespace {

constexpr std::size_t N = 12;

struct Data {
  std::vector<double> X, Y;
  Data(std::size_t in, std::size_t out, bool one_hot, std::uint64_t seed) : X(N * in), Y(N * out) {
    ctnn::Random rng(seed);
    for (double& v : X) v = rng.normal();
    for (std::size_t n = 0; n < N; ++n) {
      if (one_hot) Y[n * out + rng.below(out)] = 1;
      else
        for (std::size_t k = 0; k < out; ++k) Y[n * out + k] = rng.uniform(0, 1) < 0.5 ? 0 : 1;
    }
  }
};

double rel_diff(std::span<const double> a, std::span<const double> b) {
  double d = 0, m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i])), m = std::max(m, std::abs(b[i]));
  return d / m;
}

template <class Net, class L>
void solvers_agree(bool one_hot) {
  Data d(Net::inputs, Net::outputs, one_hot, 7);
  for (FisherKind kind : {FisherKind::empirical, FisherKind::true_fisher}) {
    for (double damping : {1e-3, 1e-1}) {
      Net net(3);
      ctnn::optim::NaturalGradientOptions o;
      o.fisher = kind;
      o.damping = damping;
      o.solver = NgSolver::cholesky;
      ctnn::optim::NaturalGradient<Net, L> chol(N, o);
      o.solver = NgSolver::conjugate_gradient;
      o.cg_tolerance = 1e-12;
      o.cg_max_iterations = 10 * Net::num_params;
      ctnn::optim::NaturalGradient<Net, L> cg(N, o);
      const auto a = chol.compute_direction(net, d.X.data(), d.Y.data(), N);
      const auto b = cg.compute_direction(net, d.X.data(), d.Y.data(), N);
      CHECK(a.solver == NgSolver::cholesky);
      CHECK(b.solver == NgSolver::conjugate_gradient);
      CHECK(b.cg.converged);
      CHECK(a.loss == b.loss);
      const double diff = rel_diff(cg.direction(), chol.direction());
      INFO("kind " << int(kind) << ", damping " << damping << ": CG " << b.cg.iterations << " iterations, residual "
                   << b.cg.relative_residual << ", max difference / max|x| " << diff);
      // Forward error <= condition number (<= (max eig + λ)/λ) times the residual.
      CHECK(diff < 1e-7);
      std::printf("P = %zu, %s Fisher, damping %g: CG %zu iterations (residual %.1e), |x_cg - x_chol| / max|x| = %.1e\n",
                  Net::num_params, kind == FisherKind::empirical ? "empirical" : "true", damping, b.cg.iterations,
                  b.cg.relative_residual, diff);
    }
  }
}

}  // namespace

TEST_CASE("natural gradient: Cholesky on F and CG on Fisher-vector products give the same direction") {
  using Mlp = ctnn::Network<double, ctnn::Dense<4, 6>, ctnn::Tanh, ctnn::Dense<6, 3>>;
  using MlpP = ctnn::Network<double, ctnn::Dense<4, 6>, ctnn::Tanh, ctnn::Dense<6, 3>, ctnn::Softmax>;
  using Bern = ctnn::Network<double, ctnn::Dense<3, 5>, ctnn::Tanh, ctnn::Dense<5, 2>>;
  solvers_agree<Mlp, lk::SoftmaxLogits>(true);
  solvers_agree<MlpP, lk::SoftmaxProbabilities>(true);
  solvers_agree<Bern, lk::SigmoidLogits>(false);
}

TEST_CASE("Fisher-vector product equals the formed F times v") {
  using Mlp = ctnn::Network<double, ctnn::Dense<4, 6>, ctnn::Tanh, ctnn::Dense<6, 3>>;
  constexpr std::size_t P = Mlp::num_params;
  Data d(4, 3, true, 9);
  Mlp net(5);
  for (FisherKind kind : {FisherKind::empirical, FisherKind::true_fisher}) {
    ctnn::optim::FisherFactors<Mlp, lk::SoftmaxLogits> f(N, kind);
    std::vector<double> g(P), F(P * P), v(P), Fv(P), ref(P, 0.0);
    f.compute(net, d.X.data(), d.Y.data(), N, g);
    f.form(F);
    ctnn::Random rng(1);
    for (double& x : v) x = rng.normal();
    f.multiply(v, Fv);
    for (std::size_t i = 0; i < P; ++i)
      for (std::size_t j = 0; j < P; ++j) ref[i] += F[i * P + j] * v[j];
    CHECK(rel_diff(Fv, ref) < 1e-13);
    // Symmetric positive semi-definite: vᵀFv >= 0.
    double vFv = 0;
    for (std::size_t i = 0; i < P; ++i) vFv += v[i] * Fv[i];
    CHECK(vFv >= 0);
  }
}

TEST_CASE("automatic solver choice follows cholesky_max_params") {
  using Mlp = ctnn::Network<double, ctnn::Dense<4, 6>, ctnn::Tanh, ctnn::Dense<6, 3>>;
  ctnn::optim::NaturalGradientOptions o;
  CHECK(ctnn::optim::NaturalGradient<Mlp, lk::SoftmaxLogits>(N, o).solver() == NgSolver::cholesky);
  o.cholesky_max_params = Mlp::num_params - 1;
  CHECK(ctnn::optim::NaturalGradient<Mlp, lk::SoftmaxLogits>(N, o).solver() == NgSolver::conjugate_gradient);
}

TEST_CASE("natural-gradient steps and L-BFGS iterations allocate nothing after construction") {
  using Mlp = ctnn::Network<double, ctnn::Dense<4, 6>, ctnn::Tanh, ctnn::Dense<6, 3>>;
  Data d(4, 3, true, 11);
  for (NgSolver s : {NgSolver::cholesky, NgSolver::conjugate_gradient}) {
    for (FisherKind kind : {FisherKind::empirical, FisherKind::true_fisher}) {
      Mlp net(2);
      ctnn::optim::NaturalGradientOptions o;
      o.solver = s;
      o.fisher = kind;
      o.lr = 0.1;
      ctnn::optim::NaturalGradient<Mlp, lk::SoftmaxLogits> ng(N, o);
      ng.step(net, d.X.data(), d.Y.data(), N);  // warm-up (the tape's per-thread workspace, if any)
      const long before = allocations.load();
      double first = 0, last = 0;
      for (int i = 0; i < 20; ++i) {
        const double l = ng.step(net, d.X.data(), d.Y.data(), N).loss;
        if (i == 0) first = l;
        last = l;
      }
      CHECK(allocations.load() == before);
      CHECK(last < first);
    }
  }
  Mlp net(2);
  ctnn::optim::Lbfgs<double> opt(Mlp::num_params);
  ctnn::optim::NetworkObjective<N, Mlp, ctnn::loss::SoftmaxCrossEntropy> f(net, ctnn::loss::softmax_cross_entropy,
                                                                          d.X.data(), d.Y.data());
  std::vector<double> g(Mlp::num_params);
  f(net.params(), g);  // warm-up
  const long before = allocations.load();
  const auto r = opt.minimize(f, net.params());
  CHECK(allocations.load() == before);
  CHECK(r.iterations > 1);
}

TEST_CASE("natural gradient in float: steps on a small float net lower the loss") {
  using Net = ctnn::Network<float, ctnn::Dense<4, 6>, ctnn::Tanh, ctnn::Dense<6, 3>>;
  Data d(4, 3, true, 13);
  const std::vector<float> X(d.X.begin(), d.X.end()), Y(d.Y.begin(), d.Y.end());
  for (NgSolver s : {NgSolver::cholesky, NgSolver::conjugate_gradient}) {
    Net net(4);
    ctnn::optim::NaturalGradientOptions o;
    o.solver = s;
    o.damping = 1e-2;
    o.lr = 0.5;
    o.cg_tolerance = 1e-5;
    ctnn::optim::NaturalGradient<Net, lk::SoftmaxLogits> ng(N, o);
    const float l0 = ng.step(net, X.data(), Y.data(), N).loss;
    float l = l0;
    for (int i = 0; i < 10; ++i) l = ng.step(net, X.data(), Y.data(), N).loss;
    CHECK(l < 0.5f * l0);
  }
}
