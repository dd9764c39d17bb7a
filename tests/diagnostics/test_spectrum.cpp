// tests/diagnostics: spectra by Eigen (ctnn/optim/spectrum.hpp): singular values of a matrix with a
// known answer, and the Fisher eigenvalues of optimizers.json "natural_gradient" (softmax regression
// 4 -> 3, 6 samples) through both paths: F formed (P <= rows: the true Fisher, 18 rows) and the Gram
// matrix of the rows (P > rows: the empirical Fisher, 6 rows); the condition number on the range,
// over |λ| for an indefinite matrix (negative eigenvalues counted, not dropped).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "ctnn/ctnn.hpp"
#include "ctnn/optim/spectrum.hpp"
#include "reference.hpp"

namespace {

namespace ref = ctnn::test::ref;
using ctnn::optim::FisherKind;
using SoftmaxRegression = ctnn::Network<double, ctnn::Dense<4, 3>>;

std::vector<double> reference_fisher_eigenvalues(FisherKind kind) {
  const auto& c = ref::at(ref::optimizers(), "natural_gradient");
  const std::string key = kind == FisherKind::empirical ? "empirical_fisher" : "true_fisher";
  const auto theta = ref::vec_at(c, "theta_flat");
  const auto X = ref::vec_at(c, "X");
  const auto& labels = ref::at(c, "labels");
  const std::size_t n = ref::length(labels);
  std::vector<double> Y(n * 3, 0.0);
  for (std::size_t s = 0; s < n; ++s) Y[s * 3 + static_cast<std::size_t>(ref::as_int(ref::element(labels, s)))] = 1;
  SoftmaxRegression net;
  std::copy(theta.begin(), theta.end(), net.params().begin());
  ctnn::optim::FisherFactors<SoftmaxRegression, ctnn::optim::likelihood::SoftmaxLogits> f(n, kind);
  std::vector<double> g(SoftmaxRegression::num_params);
  f.compute(net, X.data(), Y.data(), n, g);
  CHECK(f.rows() == (kind == FisherKind::empirical ? n : 3 * n));
  const auto ev = ctnn::optim::fisher_eigenvalues(f);
  const auto expected = ref::vec_at(c, key + ".eigenvalues_ascending");
  std::string why;
  const bool ok = ref::close_array(ev, expected, 1e-10, 1e-12, &why);
  INFO(key << ": " << why);
  CHECK(ok);
  return ev;
}

}  // namespace

TEST_CASE("singular values of [[3, 0], [4, 5]] are sqrt(45) and sqrt(5)") {
  const double A[] = {3, 0, 4, 5};
  const auto s = ctnn::optim::singular_values(A, 2, 2);
  REQUIRE(s.size() == 2);
  CHECK(std::abs(s[0] - std::sqrt(45.0)) <= 1e-14 * std::sqrt(45.0));
  CHECK(std::abs(s[1] - std::sqrt(5.0)) <= 1e-14 * std::sqrt(5.0));
  // A wide matrix: min(rows, cols) values; a rank-one matrix u vᵀ has one of them, ‖u‖‖v‖.
  const float B[] = {1, 2, 2, 2, 4, 4};  // (1, 2)ᵀ (1, 2, 2)
  const auto t = ctnn::optim::singular_values(B, 2, 3);
  REQUIRE(t.size() == 2);
  CHECK(std::abs(t[0] - std::sqrt(5.0) * 3.0) <= 1e-6 * t[0]);
  CHECK(t[1] <= 1e-6);
}

TEST_CASE("Fisher eigenvalues match the reference: true Fisher (F formed)") {
  const auto ev = reference_fisher_eigenvalues(FisherKind::true_fisher);
  const auto c = ctnn::optim::conditioning(ev);
  // F is singular (softmax's invariance): rank below P, condition number finite on the range.
  CHECK(c.dimension == 15);
  CHECK(c.rank < 15);
  CHECK(c.condition == doctest::Approx(c.largest / c.smallest));
  MESSAGE("true Fisher: rank " << c.rank << " of 15, condition number on the range " << c.condition);
}
TEST_CASE("Fisher eigenvalues match the reference: empirical Fisher (Gram path, 6 rows < 15 parameters)") {
  const auto ev = reference_fisher_eigenvalues(FisherKind::empirical);
  const auto c = ctnn::optim::conditioning(ev);
  CHECK(c.rank <= 6);
}

TEST_CASE("conditioning: rank and condition number of a known spectrum") {
  const std::vector<double> ev{0.0, 1e-20, 0.5, 2.0, 8.0};
  const auto c = ctnn::optim::conditioning(ev);
  CHECK(c.rank == 3);
  CHECK(c.largest == 8.0);
  CHECK(c.smallest == 0.5);
  CHECK(c.condition == 16.0);
  const auto e = ctnn::optim::symmetric_eigenvalues(std::vector<double>{2, 1, 1, 2}.data(), 2);
  CHECK(std::abs(e[0] - 1.0) <= 1e-15);
  CHECK(std::abs(e[1] - 3.0) <= 1e-15);
  CHECK(c.negative == 0);
  CHECK(c.positive_semidefinite());
  CHECK(c.min_eigenvalue == 0.0);
  CHECK(c.max_eigenvalue == 8.0);
}

TEST_CASE("conditioning of an indefinite spectrum: over |lambda|, negative eigenvalues counted, not dropped") {
  // A saddle's Hessian: -4 is the largest magnitude; -1e-20 is zero to rounding (tolerance 4·4·ε).
  const std::vector<double> ev{-4.0, -1e-20, 0.5, 2.0};
  const auto c = ctnn::optim::conditioning(ev);
  CHECK(c.dimension == 4);
  CHECK(c.largest == 4.0);
  CHECK(c.tolerance == 4.0 * 4.0 * std::numeric_limits<double>::epsilon());
  CHECK(c.rank == 3);
  CHECK(c.smallest == 0.5);
  CHECK(c.condition == 8.0);
  CHECK(c.negative == 1);
  CHECK_FALSE(c.positive_semidefinite());
  CHECK(c.min_eigenvalue == -4.0);
  CHECK(c.max_eigenvalue == 2.0);
  // Negative definite: every eigenvalue counts, none is dropped (the rank used to be 0 here).
  const auto n = ctnn::optim::conditioning(std::vector<double>{-9.0, -3.0});
  CHECK(n.rank == 2);
  CHECK(n.negative == 2);
  CHECK(n.condition == 3.0);
  // A positive semi-definite matrix formed in floating point: a rounding-sized negative eigenvalue is
  // zero, not a negative one.
  const auto p = ctnn::optim::conditioning(std::vector<double>{-1e-17, 1.0, 2.0});
  CHECK(p.negative == 0);
  CHECK(p.rank == 2);
  CHECK(p.condition == 2.0);
}

TEST_CASE("conditioning of a symmetric indefinite matrix is its 2-norm condition number") {
  // [[1, 2], [2, 1]]: eigenvalues -1 and 3, singular values 3 and 1, so κ₂ = 3 with one negative.
  const double S[] = {1, 2, 2, 1};
  const auto ev = ctnn::optim::symmetric_eigenvalues(S, 2);
  REQUIRE(ev.size() == 2);
  CHECK(std::abs(ev[0] + 1.0) <= 1e-15);
  CHECK(std::abs(ev[1] - 3.0) <= 1e-15);
  const auto c = ctnn::optim::conditioning(ev);
  CHECK(c.negative == 1);
  CHECK(c.rank == 2);
  const auto sv = ctnn::optim::singular_values(S, 2, 2);
  CHECK(c.condition == doctest::Approx(sv[0] / sv[1]).epsilon(1e-14));
  CHECK(c.condition == doctest::Approx(3.0).epsilon(1e-14));
}

TEST_CASE("conditioning refuses a NaN or infinite eigenvalue, naming it") {
  const std::vector<double> nan_ev{1.0, std::nan(""), 2.0};
  CHECK_THROWS_WITH_AS(ctnn::optim::conditioning(nan_ev),
                       "ctnn::optim::conditioning: eigenvalue 1 of 3 is nan (a matrix with NaN or infinite entries?)",
                       std::invalid_argument);
  const std::vector<double> inf_ev{-std::numeric_limits<double>::infinity(), 1.0};
  CHECK_THROWS_AS(ctnn::optim::conditioning(inf_ev), std::invalid_argument);
  // Empty: nothing to refuse, nothing to report.
  const auto e = ctnn::optim::conditioning(std::vector<double>{});
  CHECK(e.dimension == 0);
  CHECK(e.rank == 0);
}
