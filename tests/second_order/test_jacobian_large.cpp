// tests/second_order/test_jacobian_large.cpp: input Jacobians (reverse and forward mode, and the
// mode chosen by shape) against gradients.json jacobian.J on the 4-5-3 classifiers and the
// 6-8-8-4 network; parameter Jacobians by both modes against each other. Softmax outputs: every
// column of J sums to 0.
#include "second_order_check.hpp"

namespace {
using Cls = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::ReLU, ctnn::Dense<5, 3>, ctnn::Softmax>;
using ClsLogits = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::ReLU, ctnn::Dense<5, 3>, ctnn::Identity>;
using Deep = ctnn::Network<double, ctnn::Dense<6, 8>, ctnn::LeakyReLU, ctnn::Dense<8, 8>, ctnn::Tanh,
                           ctnn::Dense<8, 4>, ctnn::Identity>;
using Wide = ctnn::Network<double, ctnn::Dense<2, 6>, ctnn::Tanh, ctnn::Dense<6, 5>, ctnn::Identity>;
static_assert(ctnn::Jacobian<Cls>::input_mode == ctnn::JacobianMode::reverse);  // 3 outputs <= 4 inputs
static_assert(ctnn::Jacobian<Wide>::input_mode == ctnn::JacobianMode::forward);  // 5 outputs > 2 inputs
}  // namespace

TEST_CASE("jacobian: mlp_4_5_3_relu_softmax__ce_prob (columns sum to 0)") {
  so_test::check_jacobian<Cls>("mlp_4_5_3_relu_softmax__ce_prob", {"relu", "softmax"}, 6);
  const auto c = ctnn::test::ref::network_case("mlp_4_5_3_relu_softmax__ce_prob");
  Cls net = so_test::network_of<Cls>(c);
  const auto xs = c.X.row(c.jac_sample);
  std::vector<double> J(12);
  ctnn::Jacobian<Cls>{}.input(net, xs.data(), J.data());
  for (std::size_t i = 0; i < 4; ++i) CHECK(std::abs(J[i] + J[4 + i] + J[8 + i]) < 1e-15);
}
TEST_CASE("jacobian: 4-5-3 logits cases") {
  for (const char* n : {"mlp_4_5_3_relu_identity__softmax_ce_logits",
                        "mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_pytorch",
                        "mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_plain_mean"})
    so_test::check_jacobian<ClsLogits>(n, {"relu", "identity"}, 6);
}
TEST_CASE("jacobian: 6-8-8-4 cases") {
  for (const char* n : {"mlp_6_8_8_4_leakyrelu_tanh_identity__mse_mean",
                        "mlp_6_8_8_4_leakyrelu_tanh_identity__mse_half_sum",
                        "mlp_6_8_8_4_leakyrelu_tanh_identity__huber"})
    so_test::check_jacobian<Deep>(n, {"leaky_relu", "tanh", "identity"}, 4);
}
TEST_CASE("jacobian: more outputs than inputs takes forward mode, equal to reverse") {
  Wide net(7);
  const double x[2] = {0.3, -1.1};
  ctnn::Jacobian<Wide> jac;
  std::vector<double> Ja(10), Jr(10);
  jac.input(net, x, Ja.data());
  jac.input(net, x, Jr.data(), ctnn::JacobianMode::reverse);
  std::string why;
  CHECK_MESSAGE(ctnn::test::ref::close_array(Ja, Jr, 1e-13, 1e-15, &why), why);
  // Against central differences of the forward pass.
  for (std::size_t i = 0; i < 2; ++i) {
    double xp[2] = {x[0], x[1]}, xm[2] = {x[0], x[1]};
    const double h = 1e-6;
    xp[i] += h;
    xm[i] -= h;
    const auto yp = net.forward(std::array<double, 2>{xp[0], xp[1]});
    const auto ym = net.forward(std::array<double, 2>{xm[0], xm[1]});
    for (std::size_t k = 0; k < 5; ++k) CHECK(Ja[k * 2 + i] == doctest::Approx((yp[k] - ym[k]) / (2 * h)).epsilon(1e-8));
  }
}
