// tests/curvature/test_fisher.cpp: the empirical and the true Fisher from reverse-mode gradients,
// matched to optimizers.json "natural_gradient" (softmax regression 4 -> 3 on 6 samples, PyTorch
// float64): per-sample gradients, F, its eigenvalues, (F + λI)⁻¹ g, the point after a step of
// lr 1 and its loss, for both Fishers. Also: a Softmax output layer with cross-entropy gives the
// same figures. (Sigmoid outputs: test_fisher_bernoulli.cpp.)
// Eigenvalues are computed by Eigen (a test-only dependency, as a checker).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"  // before Eigen: ctnn/core/config.hpp's g++ 12 AVX-512 workaround
#include "ctnn/optim/natural_gradient.hpp"
#include <Eigen/Eigenvalues>
#include "reference.hpp"

namespace ref = ctnn::test::ref;
using ctnn::optim::FisherKind;
namespace lk = ctnn::optim::likelihood;

namespace {

struct NgCase {
  std::vector<double> X, Y, theta;
  std::size_t n = 0;
};

NgCase load_case() {
  const auto& c = ref::at(ref::optimizers(), "natural_gradient");
  NgCase k;
  k.X = ref::vec_at(c, "X");
  k.theta = ref::vec_at(c, "theta_flat");
  const auto& labels = ref::at(c, "labels");
  k.n = ref::length(labels);
  k.Y.assign(k.n * 3, 0.0);
  for (std::size_t s = 0; s < k.n; ++s) k.Y[s * 3 + static_cast<std::size_t>(ref::as_int(ref::element(labels, s)))] = 1;
  return k;
}

std::vector<double> eigenvalues(const std::vector<double>& F, std::size_t P) {
  Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> M(F.data(), P, P);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(M, Eigen::EigenvaluesOnly);
  const Eigen::VectorXd ev = es.eigenvalues();  // ascending
  return {ev.data(), ev.data() + P};
}

void check_close(const std::string& what, const double* a, const ref::Vec& r, double* worst_rel = nullptr) {
  std::string why;
  const bool ok = ref::close_array(a, r, 1e-10, 1e-12, &why);
  double m = 0, w = 0;
  for (double v : r) m = std::max(m, std::abs(v));
  for (std::size_t i = 0; i < r.size(); ++i) w = std::max(w, std::abs(a[i] - r[i]) / std::max(std::abs(r[i]), 1e-300));
  if (worst_rel) *worst_rel = std::max(*worst_rel, w);
  INFO(what << ": " << why);
  CHECK(ok);
}

// Runs one Fisher kind on the reference case with network type Net and likelihood L.
template <class Net, class L>
void match_reference(FisherKind kind, const char* key) {
  const auto& c = ref::at(ref::optimizers(), "natural_gradient");
  const auto k = load_case();
  Net net;
  std::copy(k.theta.begin(), k.theta.end(), net.params().begin());
  constexpr std::size_t P = Net::num_params;
  static_assert(P == 15);

  ctnn::optim::NaturalGradientOptions o;
  o.damping = ref::num_at(c, "damping");
  o.fisher = kind;
  o.solver = ctnn::optim::NgSolver::cholesky;
  ctnn::optim::NaturalGradient<Net, L> ng(k.n, o);
  const auto s = ng.compute_direction(net, k.X.data(), k.Y.data(), k.n);
  CHECK(std::abs(s.loss - ref::num_at(c, "loss_value")) <= 1e-10 * ref::num_at(c, "loss_value"));
  check_close("mean gradient", ng.gradient().data(), ref::vec_at(c, "grad"));
  if (kind == FisherKind::empirical) {
    const auto psg = ref::mat_at(c, "per_sample_grads");
    REQUIRE(ng.fisher().rows() == k.n);
    for (std::size_t r = 0; r < k.n; ++r) check_close("per-sample gradient", ng.fisher().row(r).data(), psg.row(r));
  } else {
    REQUIRE(ng.fisher().rows() == 3 * k.n);
    const auto pr = ref::vec_at(c, "probabilities");  // the weights are p(k | x_n) / N
    for (std::size_t r = 0; r < 3 * k.n; ++r)
      CHECK(std::abs(ng.fisher().weight(r) * double(k.n) - pr[r]) <= 1e-14);
  }
  double worst = 0;
  std::vector<double> F(P * P);
  ng.fisher().form(F);
  check_close(std::string(key) + ".F", F.data(), ref::vec_at(c, std::string(key) + ".F"), &worst);
  // The ~0 eigenvalues (null space, rounding noise in both) fall under the absolute part.
  const auto ev = eigenvalues(F, P);
  check_close(std::string(key) + ".eigenvalues", ev.data(), ref::vec_at(c, std::string(key) + ".eigenvalues_ascending"));
  double worst_dir = 0;
  check_close(std::string(key) + ".natural_gradient", ng.direction().data(),
              ref::vec_at(c, std::string(key) + ".natural_gradient"), &worst_dir);
  ng.step(net, k.X.data(), k.Y.data(), k.n);
  check_close(std::string(key) + ".theta_after_step_lr1", net.params().data(),
              ref::vec_at(c, std::string(key) + ".theta_after_step_lr1"));
  const double l1 = [&] {
    std::vector<double> g(P);
    return ng.fisher().compute(net, k.X.data(), k.Y.data(), k.n, g);
  }();
  const double l1r = ref::num_at(c, std::string(key) + ".loss_after_step_lr1");
  CHECK(std::abs(l1 - l1r) <= 1e-10 * l1r);
  std::printf("%s: max relative error of F %.2e, of (F + lambda I)^-1 g %.2e; loss after the step %.17g (PyTorch %.17g)\n",
              key, worst, worst_dir, l1, l1r);
}

using SoftmaxRegression = ctnn::Network<double, ctnn::Dense<4, 3>>;
using SoftmaxRegressionP = ctnn::Network<double, ctnn::Dense<4, 3>, ctnn::Softmax>;

}  // namespace

TEST_CASE("empirical Fisher of softmax regression matches the reference") {
  match_reference<SoftmaxRegression, lk::SoftmaxLogits>(FisherKind::empirical, "empirical_fisher");
}
TEST_CASE("true Fisher of softmax regression matches the reference") {
  match_reference<SoftmaxRegression, lk::SoftmaxLogits>(FisherKind::true_fisher, "true_fisher");
}
TEST_CASE("a Softmax output layer with cross-entropy gives the same Fishers and steps") {
  match_reference<SoftmaxRegressionP, lk::SoftmaxProbabilities>(FisherKind::empirical, "empirical_fisher");
  match_reference<SoftmaxRegressionP, lk::SoftmaxProbabilities>(FisherKind::true_fisher, "true_fisher");
}

TEST_CASE("the empirical Fisher is not the true Fisher: their steps differ") {
  const auto& c = ref::at(ref::optimizers(), "natural_gradient");
  const auto a = ref::vec_at(c, "empirical_fisher.natural_gradient"), b = ref::vec_at(c, "true_fisher.natural_gradient");
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  CHECK(d > 1);  // so matching both above is two distinct checks
}
