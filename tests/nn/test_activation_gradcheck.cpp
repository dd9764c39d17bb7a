// tests/nn/test_activation_gradcheck.cpp: every built-in activation (Sigmoid, Tanh, ReLU,
// LeakyReLU, Softplus, SiLU, GELU, Identity, Softmax) in a small network Dense<3,4>, A, Dense<4,2> with
// mse_mean: dLoss/dθ and dLoss/dx pass a central-difference check, with every first-layer
// pre-activation at least 0.1 away from 0 (the kinks); and a Softmax output layer with
// cross_entropy.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "ctnn/ctnn.hpp"
#include "nn_fd_check.hpp"

namespace {

std::vector<double> uniform_values(std::size_t n, std::uint64_t seed, double lo, double hi) {
  ctnn::Random rng(seed);
  std::vector<double> v(n);
  for (auto& e : v) e = rng.uniform(lo, hi);
  return v;
}

constexpr std::size_t B = 5;

}  // namespace

TEST_CASE_TEMPLATE("built-in activation: central-difference check in Dense<3,4>, A, Dense<4,2>", A, ctnn::Sigmoid,
                   ctnn::Tanh, ctnn::ReLU, ctnn::LeakyReLU, ctnn::Softplus, ctnn::SiLU, ctnn::GELU, ctnn::Identity,
                   ctnn::Softmax) {
  using Net = ctnn::Network<double, ctnn::Dense<3, 4>, A, ctnn::Dense<4, 2>>;
  using First = ctnn::Network<double, ctnn::Dense<3, 4>>;
  static_assert(Net::num_params == 26);
  INFO("activation " << A::name);

  // Inputs and weights with every first-layer pre-activation at least 0.1 from 0 (the kink of
  // ReLU / leaky ReLU), so the stencil (±2e-3 in any one coordinate) never crosses it.
  const auto y = uniform_values(B * 2, 21, -1.0, 1.0);
  for (std::uint64_t seed = 1; seed < 200; ++seed) {
    Net net(seed);
    auto p = net.params();
    const auto bias = uniform_values(p.size(), seed + 1000, -0.5, 0.5);
    for (std::size_t i = 0; i < p.size(); ++i) p[i] += 0.2 * bias[i];
    const auto x = uniform_values(B * 3, seed + 2000, -1.5, 1.5);
    First first(0);
    std::copy(p.begin(), p.begin() + First::num_params, first.params().begin());
    std::array<double, B * 4> z{};
    first.template forward<B>(x.data(), z.data());
    double min_abs = 1e300;
    int negative = 0;
    for (double v : z) {
      min_abs = std::min(min_abs, std::abs(v));
      negative += v < 0;
    }
    if (min_abs < 0.1 || negative == 0) continue;  // also want the negative side exercised
    INFO("seed " << seed << ", min |z| " << min_abs << ", negative pre-activations " << negative);
    const auto r = nn_fd::fd_check_network<B>(net, ctnn::loss::mse_mean, x, y);
    CHECK(r.checked == Net::num_params + B * 3);
    nn_fd::require_pass(r);
    return;
  }
  FAIL("no seed gave pre-activations away from 0");
}

TEST_CASE("built-in activation: Softmax output layer with cross_entropy passes the check") {
  using Net = ctnn::Network<double, ctnn::Dense<3, 4>, ctnn::Tanh, ctnn::Dense<4, 3>, ctnn::Softmax>;
  Net net(8);
  const auto x = uniform_values(B * 3, 31, -1.5, 1.5);
  std::vector<double> y(B * 3, 0.0);
  for (std::size_t n = 0; n < B; ++n) y[n * 3 + n % 3] = 1.0;
  nn_fd::require_pass(nn_fd::fd_check_network<B>(net, ctnn::loss::cross_entropy, x, y));
}
