// Losses at random non-edge inputs: the gradient of every ctnn loss (and of the user-written Huber
// and MSE + L1 losses, and of l2_penalty / with_l2 with respect to the weights) against central
// differences (tests/support/gradcheck.hpp, relative error < 1e-6), plus identities between
// losses that reach the same function through different graphs.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include <boost/hana/tuple.hpp>

#include "ad_check.hpp"
#include "ctnn/ctnn.hpp"
#include "gradcheck.hpp"
#include "reference.hpp"

namespace ad = ctnn::ad;
namespace ref = ctnn::test::ref;
using namespace ctnn::test::adcheck;

namespace {

constexpr std::size_t R = 4, C = 3, N = R * C;

// dL/dp of loss(p, y) against central differences, p an R x C variable, y an R x C constant.
template <class Loss>
void fd_check(const char* name, Loss loss, const std::vector<double>& p, const std::vector<double>& y) {
  const std::string case_name = name;
  CAPTURE(case_name);
  REQUIRE(p.size() == N);
  REQUIRE(y.size() == N);
  auto g = nan_buffer(N);
  auto yc = ad::constant<1, R, C>(y.data());
  const double v = ad::value_and_gradient(loss(ad::variable<0, R, C>(p.data(), g.data()), yc));
  REQUIRE(std::isfinite(v));
  auto f = [&](const double* t) {
    double scratch[N];
    return ad::value_and_gradient(loss(ad::variable<0, R, C>(t, scratch), yc));
  };
  const auto r = ctnn::test::gradcheck(f, p, g);
  CHECK_MESSAGE(r.max_rel_err < 1e-6, r.report);
}

std::vector<double> one_hot_rows(Rng& rng) {
  std::vector<double> y(N, 0.0);
  for (std::size_t n = 0; n < R; ++n) y[n * C + static_cast<std::size_t>(rng.uniform(0, C)) % C] = 1.0;
  return y;
}

const double kClassWeights[C] = {0.2, 1.0, 2.5};

auto huber = [](auto p, auto y) {
  auto a = ctnn::abs(p - y);
  auto m = ctnn::minimum(a, 1.0);
  return ctnn::mean(m * (a - 0.5 * m));
};

// A user's MSE + L1 loss: mean(r^2) + 0.1 mean(|r|), r = p - y used twice (one node).
auto mse_l1 = [](auto p, auto y) {
  auto r = p - y;
  return ctnn::mean(ctnn::square(r)) + 0.1 * ctnn::mean(ctnn::abs(r));
};

template <class Weights>
struct Params {
  Weights weights;
};
template <class Weights>
Params<Weights> params_of(Weights w) {
  return {w};
}

}  // namespace

TEST_CASE("losses, finite differences: mse_half_sum, mse_mean") {
  Rng rng(11);
  for (int trial = 0; trial < 3; ++trial) {
    const auto p = rng.uniform(N, -2, 2), y = rng.uniform(N, -2, 2);
    fd_check("mse_half_sum", ctnn::loss::mse_half_sum, p, y);
    fd_check("mse_mean", ctnn::loss::mse_mean, p, y);
  }
}

TEST_CASE("losses, finite differences: bce_prob, bce_logits (soft targets)") {
  Rng rng(12);
  for (int trial = 0; trial < 3; ++trial) {
    const auto y = rng.uniform(N, 0, 1);
    fd_check("bce_prob", ctnn::loss::bce_prob, rng.uniform(N, 0.05, 0.95), y);
    fd_check("bce_logits", ctnn::loss::bce_logits, rng.uniform(N, -4, 4), y);
  }
}

TEST_CASE("losses, finite differences: softmax_cross_entropy, cross_entropy, class-weighted (both)") {
  Rng rng(13);
  for (int trial = 0; trial < 3; ++trial) {
    const auto y = one_hot_rows(rng);
    const auto z = rng.uniform(N, -3, 3);
    fd_check("softmax_cross_entropy", ctnn::loss::softmax_cross_entropy, z, y);
    fd_check("cross_entropy", ctnn::loss::cross_entropy, rng.uniform(N, 0.05, 1.0), y);
    fd_check("weighted_softmax_cross_entropy", ctnn::loss::weighted_softmax_cross_entropy<C>(kClassWeights), z, y);
    fd_check("weighted_softmax_cross_entropy_mean", ctnn::loss::weighted_softmax_cross_entropy_mean<C>(kClassWeights),
             z, y);
  }
}

TEST_CASE("losses, finite differences: user-written huber (residuals away from |r| = 1)") {
  Rng rng(14);
  const std::array<double, 2> kinks{-1.0, 1.0};
  for (int trial = 0; trial < 3; ++trial) {
    const auto y = rng.uniform(N, -1, 1);
    std::vector<double> p(N);
    for (std::size_t i = 0; i < N; ++i) p[i] = y[i] + rng.away_from(-3, 3, kinks, 0.05);
    fd_check("huber", huber, p, y);
  }
}

TEST_CASE("losses: user-written MSE + L1, value, gradient and finite differences") {
  Rng rng(15);
  const std::array<double, 1> kink{0.0};
  for (int trial = 0; trial < 3; ++trial) {
    const auto y = rng.uniform(N, -1, 1);
    std::vector<double> p(N);
    for (std::size_t i = 0; i < N; ++i) p[i] = y[i] + rng.away_from(-2, 2, kink, 0.01);
    auto g = nan_buffer(N);
    auto yc = ad::constant<1, R, C>(y.data());
    const double v = ad::value_and_gradient(mse_l1(ad::variable<0, R, C>(p.data(), g.data()), yc));
    double v_ref = 0;
    std::vector<double> g_ref(N);
    for (std::size_t i = 0; i < N; ++i) {
      const double r = p[i] - y[i];
      v_ref += (r * r + 0.1 * std::abs(r)) / N;
      g_ref[i] = (2 * r + 0.1 * (r > 0 ? 1 : -1)) / N;
    }
    CHECK(v == doctest::Approx(v_ref).epsilon(1e-13));
    std::string why;
    CHECK_MESSAGE(ref::close_array(g, g_ref, 1e-12, 1e-14, &why), why);
    fd_check("mse_l1", mse_l1, p, y);
  }
}

TEST_CASE("losses, finite differences: l2_penalty and with_l2 with respect to the weights") {
  Rng rng(16);
  const double lambda = 0.3;
  // theta = [p (4x3), W0 (3x2), W1 (1x3)]
  auto theta = rng.uniform(N + 6 + 3, -1.5, 1.5);
  const auto y = rng.uniform(N, -1, 1);
  auto yc = ad::constant<1, R, C>(y.data());
  auto build = [&](const double* t, double* g) {
    auto params = params_of(boost::hana::make_tuple(ad::variable<2, 3, 2>(t + N, g + N),
                                                    ad::variable<3, 1, 3>(t + N + 6, g + N + 6)));
    return ctnn::loss::with_l2(ctnn::loss::mse_half_sum, lambda)(ad::variable<0, R, C>(t, g), yc, params);
  };
  auto g = nan_buffer(theta.size());
  const double v = ad::value_and_gradient(build(theta.data(), g.data()));
  // value and the weight part of the gradient in closed form
  double mse = 0, pen = 0;
  for (std::size_t i = 0; i < N; ++i) mse += (theta[i] - y[i]) * (theta[i] - y[i]) / (2.0 * R);
  for (std::size_t i = N; i < theta.size(); ++i) pen += 0.5 * lambda * theta[i] * theta[i];
  CHECK(v == doctest::Approx(mse + pen).epsilon(1e-13));
  for (std::size_t i = N; i < theta.size(); ++i) CHECK(g[i] == doctest::Approx(lambda * theta[i]).epsilon(1e-14));
  auto f = [&](const double* t) {
    std::vector<double> scratch(theta.size());
    return ad::value_and_gradient(build(t, scratch.data()));
  };
  const auto r = ctnn::test::gradcheck(f, theta, g);
  CHECK_MESSAGE(r.max_rel_err < 1e-6, r.report);
  // the penalty alone
  auto g2 = nan_buffer(9);
  auto f2 = [&](const double* t, double* gg) {
    auto params = params_of(boost::hana::make_tuple(ad::variable<2, 3, 2>(t, gg), ad::variable<3, 1, 3>(t + 6, gg + 6)));
    return ad::value_and_gradient(ctnn::loss::l2_penalty(params, lambda));
  };
  const std::vector<double> w(theta.begin() + N, theta.end());
  f2(w.data(), g2.data());
  const auto r2 = ctnn::test::gradcheck(
      [&](const double* t) {
        double s[9];
        return f2(t, s);
      },
      w, g2);
  CHECK_MESSAGE(r2.max_rel_err < 1e-6, r2.report);
}

TEST_CASE("losses: identities through different graphs (bce_logits vs bce_prob o sigmoid, CE vs softmax CE)") {
  Rng rng(17);
  const auto z = rng.uniform(N, -4, 4);
  std::string why;
  {
    const auto y = rng.uniform(N, 0, 1);
    auto yc = ad::constant<1, R, C>(y.data());
    auto g1 = nan_buffer(N), g2 = nan_buffer(N);
    const double v1 = ad::value_and_gradient(ctnn::loss::bce_logits(ad::variable<0, R, C>(z.data(), g1.data()), yc));
    const double v2 = ad::value_and_gradient(
        ctnn::loss::bce_prob(ctnn::sigmoid(ad::variable<0, R, C>(z.data(), g2.data())), yc));
    CHECK(v1 == doctest::Approx(v2).epsilon(1e-12));
    CHECK_MESSAGE(ref::close_array(g1, g2, 1e-10, 1e-12, &why), why);
    std::vector<double> g_ref(N);  // (sigmoid(z) - y) / (N K)
    for (std::size_t i = 0; i < N; ++i) g_ref[i] = (1 / (1 + std::exp(-z[i])) - y[i]) / N;
    CHECK_MESSAGE(ref::close_array(g1, g_ref, 1e-12, 1e-14, &why), why);
  }
  {
    const auto y = one_hot_rows(rng);
    auto yc = ad::constant<1, R, C>(y.data());
    auto g1 = nan_buffer(N), g2 = nan_buffer(N);
    const double v1 =
        ad::value_and_gradient(ctnn::loss::softmax_cross_entropy(ad::variable<0, R, C>(z.data(), g1.data()), yc));
    const double v2 = ad::value_and_gradient(
        ctnn::loss::cross_entropy(ctnn::softmax(ad::variable<0, R, C>(z.data(), g2.data())), yc));
    CHECK(v1 == doctest::Approx(v2).epsilon(1e-12));
    CHECK_MESSAGE(ref::close_array(g1, g2, 1e-10, 1e-12, &why), why);
  }
  {  // the two class-weighted conventions differ by the factor N / sum_n w[c_n]
    const auto y = one_hot_rows(rng);
    auto yc = ad::constant<1, R, C>(y.data());
    double wsum = 0;
    for (std::size_t i = 0; i < N; ++i) wsum += y[i] * kClassWeights[i % C];
    auto g1 = nan_buffer(N), g2 = nan_buffer(N);
    const double v1 = ad::value_and_gradient(
        ctnn::loss::weighted_softmax_cross_entropy<C>(kClassWeights)(ad::variable<0, R, C>(z.data(), g1.data()), yc));
    const double v2 = ad::value_and_gradient(ctnn::loss::weighted_softmax_cross_entropy_mean<C>(kClassWeights)(
        ad::variable<0, R, C>(z.data(), g2.data()), yc));
    CHECK(v2 == doctest::Approx(v1 * wsum / R).epsilon(1e-13));
    for (std::size_t i = 0; i < N; ++i) CHECK(g2[i] == doctest::Approx(g1[i] * wsum / R).epsilon(1e-12));
  }
}
