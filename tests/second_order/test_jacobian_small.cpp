// tests/second_order/test_jacobian_small.cpp: input Jacobians (reverse and forward mode, and the
// mode chosen by shape) against gradients.json jacobian.J on the xor 2-2-1, 4-5-1 tanh and 3-1
// linear-regression cases; parameter Jacobians by both modes against each other.
#include "second_order_check.hpp"

namespace {
using Xor = ctnn::Network<double, ctnn::Dense<2, 2>, ctnn::Sigmoid, ctnn::Dense<2, 1>, ctnn::Sigmoid>;
using Mlp451 = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::Tanh, ctnn::Dense<5, 1>, ctnn::Sigmoid>;
using Mlp451Logits = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::Tanh, ctnn::Dense<5, 1>, ctnn::Identity>;
using LinReg = ctnn::Network<double, ctnn::Dense<3, 1>, ctnn::Identity>;
// One output, several inputs: reverse mode is chosen.
static_assert(ctnn::Jacobian<Mlp451>::input_mode == ctnn::JacobianMode::reverse);
static_assert(ctnn::Jacobian<Mlp451>::param_mode == ctnn::JacobianMode::reverse);
}  // namespace

TEST_CASE("jacobian: xor cases") {
  for (const char* n : {"xor_2_2_1_sigmoid_sigmoid__mse_half_sum", "xor_2_2_1_sigmoid_sigmoid__bce_prob"})
    so_test::check_jacobian<Xor>(n, {"sigmoid", "sigmoid"}, 4);
}
TEST_CASE("jacobian: 4-5-1 tanh/sigmoid cases") {
  for (const char* n : {"mlp_4_5_1_tanh_sigmoid__mse_half_sum", "mlp_4_5_1_tanh_sigmoid__mse_mean",
                        "mlp_4_5_1_tanh_sigmoid__bce_prob", "mlp_4_5_1_tanh_sigmoid__mse_half_sum_plus_l2"})
    so_test::check_jacobian<Mlp451>(n, {"tanh", "sigmoid"}, 4);
}
TEST_CASE("jacobian: mlp_4_5_1_tanh_identity__bce_logits") {
  so_test::check_jacobian<Mlp451Logits>("mlp_4_5_1_tanh_identity__bce_logits", {"tanh", "identity"}, 4);
}
TEST_CASE("jacobian: linreg_3_1_identity__mse_half_sum (J = W)") {
  so_test::check_jacobian<LinReg>("linreg_3_1_identity__mse_half_sum", {"identity"}, 5);
  const auto c = ctnn::test::ref::network_case("linreg_3_1_identity__mse_half_sum");
  for (std::size_t i = 0; i < 3; ++i) CHECK(c.jacobian(0, i) == doctest::Approx(c.W[0](0, i)).epsilon(1e-14));
}
