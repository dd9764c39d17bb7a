// tests/train/test_gradient_descent.cpp: batch, stochastic and mini-batch gradient descent: XOR,
// exactness of the chunked full-batch gradient, ragged batches, the two stopping rules,
// reproducible shuffles.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/train/gradient_descent.hpp"

namespace {
using Xor221 = ctnn::Network<double, ctnn::Dense<2, 2>, ctnn::Sigmoid, ctnn::Dense<2, 1>, ctnn::Sigmoid>;
using Lin = ctnn::Network<double, ctnn::Dense<3, 1>, ctnn::Identity>;
const double XX[4 * 2] = {0, 0, 0, 1, 1, 0, 1, 1};
const double XY[4] = {0, 1, 1, 0};

/// y = 1.5 x0 - 2 x1 + 0.5 x2 + 0.3 (+ noise): N samples, inputs uniform in [-1, 1].
struct Regression {
  std::vector<double> x, y;
  explicit Regression(std::size_t n, double noise = 0.1, std::uint64_t seed = 11) : x(3 * n), y(n) {
    ctnn::Random rng(seed);
    for (std::size_t i = 0; i < n; ++i) {
      for (int k = 0; k < 3; ++k) x[3 * i + k] = rng.uniform(-1, 1);
      y[i] = 1.5 * x[3 * i] - 2 * x[3 * i + 1] + 0.5 * x[3 * i + 2] + 0.3 + noise * rng.normal();
    }
  }
  std::size_t n() const { return y.size(); }
};

template <class Net>
std::vector<double> params_of(Net& net) {
  return {net.params().begin(), net.params().end()};
}
}  // namespace

TEST_CASE("gradient descent (batch): a 2-2-1 sigmoid network learns XOR") {
  Xor221 net(2);
  const ctnn::GDOptions opt{ctnn::Descent::batch, 2.0, 10000, 1e-3, 0};
  const auto r = ctnn::gradient_descent<4>(net, ctnn::loss::bce_prob, XX, XY, 4, opt);
  CHECK(r.loss < 0.05);
  CHECK(r.loss_history.front() > 0.6);
  CHECK(r.loss_history.size() == r.iterations + 1);  // batch mode: one epoch per update
  CHECK(r.loss_history.back() == r.loss);
  for (int n = 0; n < 4; ++n) {
    double o;
    net.forward<1>(XX + 2 * n, &o);
    CHECK((o > 0.5) == (XY[n] > 0.5));
  }
}

TEST_CASE("gradient descent stops at the first non-finite loss or gradient (a diverging learning rate)") {
  // Least squares on y = 1.5 x0 - 2 x1 + ...: at lr 10 every batch step multiplies the error by
  // |1 - 10 λ| > 1 for the data's large curvature λ; the run overflows long before 2000 updates.
  const Regression d(32, 0.1);
  Lin net(3);
  const ctnn::GDOptions opt{ctnn::Descent::batch, 10.0, 2000, 1e-6, 0};
  const auto r = ctnn::gradient_descent<8>(net, ctnn::loss::mse_half_sum, d.x.data(), d.y.data(), d.n(), opt);
  CHECK(r.stopped_by == ctnn::StopReason::non_finite);
  CHECK(r.iterations < 2000);
  CHECK_FALSE((std::isfinite(r.loss) && std::isfinite(r.grad_norm)));
  // the step before was finite: the history holds finite losses up to the last entry
  REQUIRE(r.loss_history.size() >= 2);
  CHECK(std::isfinite(r.loss_history[r.loss_history.size() - 2]));
  // a stable rate on the same data converges instead
  Lin ok(3);
  const ctnn::GDOptions slow{ctnn::Descent::batch, 0.1, 2000, 1e-6, 0};
  CHECK(ctnn::gradient_descent<8>(ok, ctnn::loss::mse_half_sum, d.x.data(), d.y.data(), d.n(), slow).stopped_by ==
        ctnn::StopReason::gradient_norm);
}

TEST_CASE("full-batch gradient from B=3 chunks plus a single remainder equals gradient<N> to 1e-12") {
  Xor221 net(5);
  std::vector<double> g(Xor221::num_params);
  SUBCASE("XOR, mse_half_sum") {
    const double l = ctnn::full_batch_gradient<3>(net, ctnn::loss::mse_half_sum, XX, XY, 4, g);
    const double l4 = net.gradient<4>(ctnn::loss::mse_half_sum, XX, XY);
    CHECK(std::abs(l - l4) < 1e-12);
    for (std::size_t k = 0; k < g.size(); ++k) CHECK(std::abs(g[k] - net.grads()[k]) < 1e-12);
  }
  SUBCASE("XOR, bce_prob with an L2 penalty (counted once)") {
    const auto loss = ctnn::loss::with_l2(ctnn::loss::bce_prob, 0.3);
    const double l = ctnn::full_batch_gradient<3>(net, loss, XX, XY, 4, g);
    const double l4 = net.gradient<4>(loss, XX, XY);
    CHECK(std::abs(l - l4) < 1e-12);
    for (std::size_t k = 0; k < g.size(); ++k) CHECK(std::abs(g[k] - net.grads()[k]) < 1e-12);
  }
  SUBCASE("7 regression samples, B=3: two chunks and one single") {
    Lin lin(3);
    Regression d(7);
    std::vector<double> gl(Lin::num_params);
    const auto loss = ctnn::loss::with_l2(ctnn::loss::mse_mean, 0.05);
    const double l = ctnn::full_batch_gradient<3>(lin, loss, d.x.data(), d.y.data(), 7, gl);
    const double l7 = lin.gradient<7>(loss, d.x.data(), d.y.data());
    CHECK(std::abs(l - l7) < 1e-12);
    for (std::size_t k = 0; k < gl.size(); ++k) CHECK(std::abs(gl[k] - lin.grads()[k]) < 1e-12);
  }
}

TEST_CASE("batch mode with B=3 chunks makes exactly the update θ - η ∇L(all 4 samples)") {
  Xor221 a(9), b(9);
  const double lr = 0.7;
  const auto r = ctnn::gradient_descent<3>(a, ctnn::loss::bce_prob, XX, XY, 4, {ctnn::Descent::batch, lr, 3, 0, 0});
  CHECK(r.iterations == 3);
  CHECK(r.stopped_by == ctnn::StopReason::max_iterations);
  REQUIRE(r.loss_history.size() == 4);
  for (int it = 0; it < 3; ++it) {
    const double l = b.gradient<4>(ctnn::loss::bce_prob, XX, XY);
    CHECK(std::abs(r.loss_history[it] - l) < 1e-12);
    for (std::size_t k = 0; k < Xor221::num_params; ++k) b.params()[k] -= lr * b.grads()[k];
  }
  const double lend = b.gradient<4>(ctnn::loss::bce_prob, XX, XY);
  CHECK(std::abs(r.loss - lend) < 1e-12);
  double nrm = 0;
  for (double v : b.grads()) nrm += v * v;
  CHECK(std::abs(r.grad_norm - std::sqrt(nrm)) < 1e-12);
  for (std::size_t k = 0; k < Xor221::num_params; ++k) CHECK(std::abs(a.params()[k] - b.params()[k]) < 1e-12);
}

TEST_CASE("mini-batch: a ragged batch is used with the mean of its single-sample gradients") {
  // N = 3 < B = 4: each epoch is one ragged batch of all 3 samples (order irrelevant for the mean),
  // so each update is exactly θ - η ∇L(3 samples).
  Lin a(4), b(4);
  Regression d(3);
  const double lr = 0.2;
  const auto r = ctnn::gradient_descent<4>(a, ctnn::loss::mse_half_sum, d.x.data(), d.y.data(), 3,
                                           {ctnn::Descent::mini_batch, lr, 5, 0, 1});
  CHECK(r.iterations == 5);
  CHECK(r.loss_history.size() == 6);
  for (int it = 0; it < 5; ++it) {
    b.gradient<3>(ctnn::loss::mse_half_sum, d.x.data(), d.y.data());
    for (std::size_t k = 0; k < Lin::num_params; ++k) b.params()[k] -= lr * b.grads()[k];
  }
  for (std::size_t k = 0; k < Lin::num_params; ++k) CHECK(std::abs(a.params()[k] - b.params()[k]) < 1e-12);

  // N = 5, B = 2: two full batches and a ragged one of 1 -> 3 updates per epoch.
  Lin c(4);
  Regression e(5);
  const auto r2 = ctnn::gradient_descent<2>(c, ctnn::loss::mse_half_sum, e.x.data(), e.y.data(), 5,
                                            {ctnn::Descent::mini_batch, 0.1, 9, 0, 1});
  CHECK(r2.iterations == 9);
  CHECK(r2.loss_history.size() == 4);  // start + 3 epochs
}

TEST_CASE("stochastic: N updates per epoch; max_iterations may end an epoch early") {
  Lin net(1);
  Regression d(5);
  auto r = ctnn::gradient_descent<2>(net, ctnn::loss::mse_half_sum, d.x.data(), d.y.data(), 5,
                                     {ctnn::Descent::stochastic, 0.1, 10, 0, 3});
  CHECK(r.iterations == 10);
  CHECK(r.loss_history.size() == 3);
  r = ctnn::gradient_descent<2>(net, ctnn::loss::mse_half_sum, d.x.data(), d.y.data(), 5,
                                {ctnn::Descent::stochastic, 0.1, 7, 0, 3});
  CHECK(r.iterations == 7);
  CHECK(r.loss_history.size() == 3);  // one full epoch, one cut short
  CHECK(r.stopped_by == ctnn::StopReason::max_iterations);
}

TEST_CASE("stochastic and mini-batch descent reduce the loss on linear regression") {
  Regression d(100);
  for (auto mode : {ctnn::Descent::stochastic, ctnn::Descent::mini_batch}) {
    CAPTURE(static_cast<int>(mode));
    Lin net(6);
    const auto r = ctnn::gradient_descent<8>(net, ctnn::loss::mse_half_sum, d.x.data(), d.y.data(), d.n(),
                                             {mode, 0.05, 3000, 0, 17});
    CHECK(r.stopped_by == ctnn::StopReason::max_iterations);
    CHECK(r.iterations == 3000);
    CHECK(r.loss < 0.05 * r.loss_history.front());
    CHECK(r.loss < 0.01);  // noise variance 0.01 -> minimum about 0.005
    const auto p = net.params();
    CHECK(p[0] == doctest::Approx(1.5).epsilon(0.1));
    CHECK(p[1] == doctest::Approx(-2.0).epsilon(0.1));
    CHECK(p[3] == doctest::Approx(0.3).epsilon(0.2));
  }
}

TEST_CASE("stopping: gradient norm on a convex problem, max iterations when the tolerance is 0") {
  Regression d(50);  // N = 50, B = 8: six chunks and two singles per full-batch pass
  {
    Lin net(2);
    const auto r = ctnn::gradient_descent<8>(net, ctnn::loss::mse_half_sum, d.x.data(), d.y.data(), d.n(),
                                             {ctnn::Descent::batch, 0.5, 100000, 1e-9, 0});
    CHECK(r.stopped_by == ctnn::StopReason::gradient_norm);
    CHECK(r.grad_norm < 1e-9);
    CHECK(r.iterations < 100000);
    CHECK(r.iterations > 10);
    // Stopping again right away: the norm is checked before any update.
    const auto again = ctnn::gradient_descent<8>(net, ctnn::loss::mse_half_sum, d.x.data(), d.y.data(), d.n(),
                                                 {ctnn::Descent::batch, 0.5, 100000, 1e-9, 0});
    CHECK(again.stopped_by == ctnn::StopReason::gradient_norm);
    CHECK(again.iterations == 0);
    CHECK(again.loss_history.size() == 1);
  }
  {
    Lin net(2);
    const auto r = ctnn::gradient_descent<8>(net, ctnn::loss::mse_half_sum, d.x.data(), d.y.data(), d.n(),
                                             {ctnn::Descent::batch, 0.5, 500, 0, 0});
    CHECK(r.stopped_by == ctnn::StopReason::max_iterations);
    CHECK(r.iterations == 500);
    CHECK(r.grad_norm < 1e-6);  // converged, but a zero tolerance never stops it
  }
  // Noise-free data: the minimum interpolates every sample, so per-sample gradients vanish there
  // too and stochastic and mini-batch descent also reach the gradient-norm stop (checked per epoch).
  Regression exact(50, 0.0);
  for (auto mode : {ctnn::Descent::stochastic, ctnn::Descent::mini_batch}) {
    CAPTURE(static_cast<int>(mode));
    Lin net(2);
    const auto r = ctnn::gradient_descent<8>(net, ctnn::loss::mse_half_sum, exact.x.data(), exact.y.data(),
                                             exact.n(), {mode, 0.1, 1000000, 1e-8, 5});
    CHECK(r.stopped_by == ctnn::StopReason::gradient_norm);
    CHECK(r.grad_norm < 1e-8);
    CHECK(r.iterations < 1000000);
  }
}

TEST_CASE("mini-batch and stochastic shuffles are reproducible with the same seed") {
  Regression d(37);
  for (auto mode : {ctnn::Descent::mini_batch, ctnn::Descent::stochastic}) {
    CAPTURE(static_cast<int>(mode));
    Lin a(8), b(8), c(8);
    const ctnn::GDOptions o1{mode, 0.05, 200, 0, 123}, o2{mode, 0.05, 200, 0, 124};
    const auto ra = ctnn::gradient_descent<4>(a, ctnn::loss::mse_half_sum, d.x.data(), d.y.data(), d.n(), o1);
    const auto rb = ctnn::gradient_descent<4>(b, ctnn::loss::mse_half_sum, d.x.data(), d.y.data(), d.n(), o1);
    const auto rc = ctnn::gradient_descent<4>(c, ctnn::loss::mse_half_sum, d.x.data(), d.y.data(), d.n(), o2);
    CHECK(params_of(a) == params_of(b));  // bit-identical
    CHECK(ra.loss_history == rb.loss_history);
    CHECK(params_of(a) != params_of(c));  // another seed, another order
    CHECK(ra.loss_history.size() == rc.loss_history.size());
  }
}

TEST_CASE("gradient descent: argument checks") {
  Lin net(0);
  Regression d(4);
  CHECK_THROWS_AS(ctnn::gradient_descent<2>(net, ctnn::loss::mse_half_sum, d.x.data(), d.y.data(), 0,
                                            {ctnn::Descent::batch, 0.1, 10, 0, 0}),
                  std::invalid_argument);
  CHECK_THROWS_AS(ctnn::gradient_descent<2>(net, ctnn::loss::mse_half_sum, d.x.data(), d.y.data(), 4,
                                            {ctnn::Descent::batch, 0.0, 10, 0, 0}),
                  std::invalid_argument);
  const auto r = ctnn::gradient_descent<2>(net, ctnn::loss::mse_half_sum, d.x.data(), d.y.data(), 4,
                                           {ctnn::Descent::mini_batch, 0.1, 0, 0, 0});
  CHECK(r.iterations == 0);
  CHECK(r.loss_history.size() == 1);
  CHECK(r.stopped_by == ctnn::StopReason::max_iterations);
}
