// net.sgd_step: the fused training step (θ −= lr·∇θ applied by the kernels that compute each
// gradient block) must equal gradient() followed by the update, step after step; with a
// parameter used twice (an L2 term) it must fall back to exactly that.
#include <doctest/doctest.h>

#include <cmath>

#include "ctnn/ctnn.hpp"

namespace {

template <class Net, std::size_t B, class Loss>
double worst_difference(const Loss& loss, int steps, double lr) {
  Net fused(3), plain(3);
  ctnn::Matrix<typename Net::scalar, B, Net::inputs> x;
  ctnn::Matrix<typename Net::scalar, B, Net::outputs> y;
  for (std::size_t i = 0; i < x.size; ++i) x[i] = std::sin(0.7 * double(i));
  for (std::size_t r = 0; r < B; ++r) y(r, r % Net::outputs) = 1;  // one-hot rows
  double worst = 0;
  for (int s = 0; s < steps; ++s) {
    const double lp = plain.template gradient<B>(loss, x.data(), y.data());
    for (std::size_t i = 0; i < Net::num_params; ++i) plain.params()[i] -= lr * plain.grads()[i];
    const double lf = fused.template sgd_step<B>(loss, x.data(), y.data(), lr);
    worst = std::max(worst, std::abs(lp - lf));
    for (std::size_t i = 0; i < Net::num_params; ++i)
      worst = std::max(worst, std::abs(double(plain.params()[i]) - double(fused.params()[i])));
  }
  return worst;
}

}  // namespace

TEST_CASE("sgd_step equals gradient then update (sigmoid MLP, MSE)") {
  using Net = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::Tanh, ctnn::Dense<5, 3>, ctnn::Sigmoid>;
  CHECK(worst_difference<Net, 5>(ctnn::loss::mse_half_sum, 10, 0.1) < 1e-14);
}

TEST_CASE("sgd_step equals gradient then update (ReLU, softmax cross-entropy, batch and single sample)") {
  using Net = ctnn::Network<double, ctnn::Dense<7, 9>, ctnn::ReLU, ctnn::Dense<9, 10>>;
  CHECK(worst_difference<Net, 6>(ctnn::loss::softmax_cross_entropy, 10, 0.2) < 1e-14);
  CHECK(worst_difference<Net, 1>(ctnn::loss::softmax_cross_entropy, 10, 0.2) < 1e-14);
  using NetF = ctnn::Network<float, ctnn::Dense<7, 9>, ctnn::ReLU, ctnn::Dense<9, 10>>;
  CHECK(worst_difference<NetF, 6>(ctnn::loss::softmax_cross_entropy, 10, 0.2) < 1e-5);
}

TEST_CASE("sgd_step falls back exactly when a weight is used twice (L2 penalty)") {
  using Net = ctnn::Network<double, ctnn::Dense<4, 6>, ctnn::LeakyReLU, ctnn::Dense<6, 3>>;
  const auto loss = ctnn::loss::with_l2(ctnn::loss::mse_mean, 0.05);
  CHECK(worst_difference<Net, 5>(loss, 10, 0.1) == 0.0);
}

TEST_CASE("sgd_step with a loss whose terms share a node type with different numbers (pinball at two quantiles)") {
  // relu(τ·d) for τ = 0.1 and 0.9 is one node type: the pass runs the tape keyed by path. Its
  // parameters are still used once each (fused), unless a node with numbers (a leaky ReLU's
  // slope) sits below the network's output: then the keyed tape has the network twice and the
  // step falls back to gradient-then-update.
  const auto pinball = [](auto out, auto y) {
    auto d = y - out;
    return ctnn::sum(ctnn::ad::relu(d * 0.1) + ctnn::ad::relu(d * -0.9)) +
           ctnn::sum(ctnn::ad::relu(d * 0.9) + ctnn::ad::relu(d * -0.1));
  };
  using Relu = ctnn::Network<double, ctnn::Dense<4, 6>, ctnn::ReLU, ctnn::Dense<6, 3>>;
  using Leaky = ctnn::Network<double, ctnn::Dense<4, 6>, ctnn::LeakyReLU, ctnn::Dense<6, 3>>;
  CHECK(worst_difference<Relu, 5>(pinball, 10, 0.1) < 1e-14);
  CHECK(worst_difference<Leaky, 5>(pinball, 10, 0.1) == 0.0);
  // the loss is the pinball sum of the forward pass's outputs
  Leaky net(3);
  ctnn::Matrix<double, 5, 4> x;
  ctnn::Matrix<double, 5, 3> y, out;
  for (std::size_t i = 0; i < x.size; ++i) x[i] = std::sin(0.7 * double(i));
  for (std::size_t i = 0; i < y.size; ++i) y[i] = std::cos(0.3 * double(i));
  net.forward<5>(x.data(), out.data());
  double expect = 0;
  for (std::size_t i = 0; i < y.size; ++i)
    for (double tau : {0.1, 0.9}) expect += std::max(tau * (y[i] - out[i]), 0.0) + std::max((tau - 1) * (y[i] - out[i]), 0.0);
  CHECK(net.loss<5>(pinball, x.data(), y.data()) == doctest::Approx(expect).epsilon(1e-14));
}

TEST_CASE("sgd_step does not touch grads()") {
  using Net = ctnn::Network<double, ctnn::Dense<3, 4>, ctnn::Sigmoid, ctnn::Dense<4, 2>>;
  Net net(1);
  ctnn::Matrix<double, 2, 3> x{{1, 2, 3, 4, 5, 6}};
  ctnn::Matrix<double, 2, 2> y{{1, 0, 0, 1}};
  for (auto& g : net.grads_mutable()) g = 42;
  net.sgd_step<2>(ctnn::loss::mse_mean, x.data(), y.data(), 0.1);
  for (double g : net.grads()) CHECK(g == 42);
}
