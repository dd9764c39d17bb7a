// tests/per_sample: per-sample gradients from one batch pass (ctnn/nn/per_sample.hpp) against the
// reference's per_sample cases (gradients.json: l_n is sample n's loss alone, no 1/N) and against B
// single-sample net.gradient calls; the mean of the rows is the batch gradient.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "ctnn/ctnn.hpp"
#include "ctnn/nn/per_sample.hpp"
#include "reference.hpp"

namespace {

namespace ref = ctnn::test::ref;
using Reg = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::Tanh, ctnn::Dense<5, 1>, ctnn::Sigmoid>;
using Cls = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::ReLU, ctnn::Dense<5, 3>, ctnn::Identity>;

void check_close(const std::string& what, const double* actual, const ref::Mat& expected) {
  std::string why;
  const bool ok = ref::close_array(actual, expected, 1e-10, 1e-12, &why);
  INFO(what << ": " << why);
  CHECK(ok);
}
void check_close(const std::string& what, const std::vector<double>& actual, const ref::Vec& expected) {
  std::string why;
  const bool ok = ref::close_array(actual, expected, 1e-10, 1e-12, &why);
  INFO(what << ": " << why);
  CHECK(ok);
}

// Loads case `name` into Net, runs the one-pass per-sample gradients and compares them with the
// reference rows, with B single-sample passes, and their mean with the batch gradient.
template <class Net, std::size_t B, class Loss>
void run_case(const std::string& name, const Loss& loss) {
  INFO("case " << name);
  const ref::NetworkCase c = ref::network_case(name);
  REQUIRE(c.has_per_sample);
  REQUIRE(c.X.rows == B);
  REQUIRE(c.param_count == Net::num_params);
  const ref::Mat& Y = c.labels.empty() ? c.Y : c.Y_onehot;
  Net net(1);
  const ref::Vec theta = ref::flat_params(c);
  std::copy(theta.begin(), theta.end(), net.params().begin());
  constexpr std::size_t P = Net::num_params;

  std::vector<double> rows(B * P, -7.0), dx(B * Net::inputs, -7.0);
  const double batch_loss = ctnn::per_sample_gradients<B>(net, loss, c.X.data.data(), Y.data.data(), rows.data());
  check_close("per_sample.grads_flat", rows.data(), c.per_sample_grads);
  double err = 0, big = 0;
  for (std::size_t i = 0; i < B * P; ++i) {
    err = std::max(err, std::abs(rows[i] - c.per_sample_grads.data[i]));
    big = std::max(big, std::abs(c.per_sample_grads.data[i]));
  }
  MESSAGE(name << ": max |ctnn - reference| = " << err << " (max |reference| = " << big << ")");
  check_close("loss value", {batch_loss}, ref::Vec{c.loss_value});

  // With the input gradient: the same rows, and dx row n = ∂l_n/∂x_n = N · grad_X row n.
  std::vector<double> rows2(B * P, -7.0);
  ctnn::per_sample_gradients<B>(net, loss, c.X.data.data(), Y.data.data(), rows2.data(), dx.data());
  CHECK(rows2 == rows);
  ref::Mat scaled_gx = c.grad_X;
  for (double& v : scaled_gx.data) v *= static_cast<double>(B);
  check_close("per-sample dx = N grad_X", dx.data(), scaled_gx);

  // Sample n alone: net.gradient on a batch of one, and its loss is the reference's l_n.
  std::vector<double> single(B * P);
  std::vector<double> losses(B);
  for (std::size_t n = 0; n < B; ++n) {
    const double* xn = c.X.data.data() + n * Net::inputs;
    const double* yn = Y.data.data() + n * Net::outputs;
    losses[n] = net.template gradient<1>(loss, xn, yn);
    std::copy(net.grads().begin(), net.grads().end(), single.begin() + static_cast<std::ptrdiff_t>(n * P));
  }
  check_close("per_sample.losses (single-sample passes)", losses, c.per_sample_losses);
  double worst = 0;
  for (std::size_t i = 0; i < B * P; ++i) worst = std::max(worst, std::abs(rows[i] - single[i]));
  INFO("max |one pass - single passes| = " << worst);
  CHECK(worst <= 1e-14);

  // The rows' mean is the batch gradient.
  std::vector<double> mean(P, 0.0);
  for (std::size_t n = 0; n < B; ++n)
    for (std::size_t i = 0; i < P; ++i) mean[i] += rows[n * P + i] / static_cast<double>(B);
  check_close("mean of rows = grad_flat", mean, c.grad_flat);

  // Parameters untouched, grads() not written by the per-sample pass.
  for (std::size_t i = 0; i < P; ++i) CHECK(net.params()[i] == theta[i]);
}

}  // namespace

TEST_CASE("per-sample gradients: mlp_4_5_1_tanh_sigmoid__mse_half_sum") {
  run_case<Reg, 4>("mlp_4_5_1_tanh_sigmoid__mse_half_sum", ctnn::loss::mse_half_sum);
}
TEST_CASE("per-sample gradients: mlp_4_5_3_relu_identity__softmax_ce_logits") {
  run_case<Cls, 6>("mlp_4_5_3_relu_identity__softmax_ce_logits", ctnn::loss::softmax_cross_entropy);
}

TEST_CASE("per-sample gradients: every reference per_sample case is covered above") {
  std::vector<std::string> with;
  for (const auto& c : ref::all_network_cases())
    if (c.has_per_sample) with.push_back(c.name);
  CHECK(with == std::vector<std::string>{"mlp_4_5_1_tanh_sigmoid__mse_half_sum",
                                         "mlp_4_5_3_relu_identity__softmax_ce_logits"});
}

TEST_CASE("per-sample gradients: an L2 penalty is in every sample's loss (sample n alone: l_n + penalty)") {
  const char* name = "mlp_4_5_1_tanh_sigmoid__mse_half_sum_plus_l2";
  const ref::NetworkCase c = ref::network_case(name);
  REQUIRE(c.l2_lambda > 0);
  Reg net(1);
  const ref::Vec theta = ref::flat_params(c);
  std::copy(theta.begin(), theta.end(), net.params().begin());
  const auto loss = ctnn::loss::with_l2(ctnn::loss::mse_half_sum, c.l2_lambda);
  constexpr std::size_t B = 4, P = Reg::num_params;
  std::vector<double> rows(B * P, -7.0);
  const double l = ctnn::per_sample_gradients<B>(net, loss, c.X.data.data(), c.Y.data.data(), rows.data());
  check_close("loss value", {l}, ref::Vec{c.loss_value});
  std::vector<double> mean(P, 0.0);
  for (std::size_t n = 0; n < B; ++n) {
    net.gradient<1>(loss, c.X.data.data() + n * 4, c.Y.data.data() + n);
    double worst = 0;
    for (std::size_t i = 0; i < P; ++i) {
      worst = std::max(worst, std::abs(rows[n * P + i] - net.grads()[i]));
      mean[i] += rows[n * P + i] / double(B);
    }
    INFO("sample " << n << ": max |one pass - single pass| = " << worst);
    CHECK(worst <= 1e-14);
  }
  check_close("mean of rows = grad_flat", mean, c.grad_flat);
}

TEST_CASE("per-sample gradients: optimizers.json natural_gradient per_sample_grads (softmax regression 4 -> 3)") {
  const auto& c = ref::at(ref::optimizers(), "natural_gradient");
  using Net = ctnn::Network<double, ctnn::Dense<4, 3>>;
  Net net;
  const auto theta = ref::vec_at(c, "theta_flat");
  std::copy(theta.begin(), theta.end(), net.params().begin());
  const auto X = ref::vec_at(c, "X");
  const auto& labels = ref::at(c, "labels");
  REQUIRE(ref::length(labels) == 6);
  std::vector<double> Y(6 * 3, 0.0);
  for (std::size_t s = 0; s < 6; ++s) Y[s * 3 + static_cast<std::size_t>(ref::as_int(ref::element(labels, s)))] = 1;
  std::vector<double> rows(6 * Net::num_params, -7.0);
  ctnn::per_sample_gradients<6>(net, ctnn::loss::softmax_cross_entropy, X.data(), Y.data(), rows.data());
  check_close("natural_gradient.per_sample_grads", rows.data(), ref::mat_at(c, "per_sample_grads"));
}

TEST_CASE("per-sample gradients: the span form checks the buffer sizes") {
  Reg net(3);
  std::vector<double> x(4 * 4, 0.1), y(4, 0.5), out(4 * Reg::num_params - 1);
  CHECK_THROWS_WITH_AS(ctnn::per_sample_gradients<4>(net, ctnn::loss::mse_half_sum, std::span<const double>(x),
                                                     std::span<const double>(y), std::span<double>(out)),
                       "ctnn::per_sample_gradients: out (B x num_params) has 123 values, expected 124",
                       std::invalid_argument);
}
