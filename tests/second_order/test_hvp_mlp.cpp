// tests/second_order/test_hvp_mlp.cpp: HVPs and Hessians (forward-over-reverse on Dual<double>)
// against gradients.json on the 4-5-1 tanh networks (every loss of those cases).
#include "second_order_check.hpp"

namespace {
using Mlp451 = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::Tanh, ctnn::Dense<5, 1>, ctnn::Sigmoid>;
using Mlp451Logits = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::Tanh, ctnn::Dense<5, 1>, ctnn::Identity>;
const std::vector<std::string> tanh_sig{"tanh", "sigmoid"}, tanh_id{"tanh", "identity"};
}  // namespace

TEST_CASE("hvp: mlp_4_5_1_tanh_sigmoid__mse_half_sum") {
  so_test::check_hvp<Mlp451, 4>("mlp_4_5_1_tanh_sigmoid__mse_half_sum", tanh_sig, ctnn::loss::mse_half_sum);
}
TEST_CASE("hvp: mlp_4_5_1_tanh_sigmoid__mse_mean") {
  so_test::check_hvp<Mlp451, 4>("mlp_4_5_1_tanh_sigmoid__mse_mean", tanh_sig, ctnn::loss::mse_mean);
}
TEST_CASE("hvp: mlp_4_5_1_tanh_sigmoid__bce_prob") {
  so_test::check_hvp<Mlp451, 4>("mlp_4_5_1_tanh_sigmoid__bce_prob", tanh_sig, ctnn::loss::bce_prob);
}
TEST_CASE("hvp: mlp_4_5_1_tanh_identity__bce_logits") {
  so_test::check_hvp<Mlp451Logits, 4>("mlp_4_5_1_tanh_identity__bce_logits", tanh_id, ctnn::loss::bce_logits);
}
TEST_CASE("hvp: mlp_4_5_1_tanh_sigmoid__mse_half_sum_plus_l2") {
  const auto c = ctnn::test::ref::network_case("mlp_4_5_1_tanh_sigmoid__mse_half_sum_plus_l2");
  REQUIRE(c.l2_lambda > 0);
  so_test::check_hvp<Mlp451, 4>(c.name, tanh_sig, ctnn::loss::with_l2(ctnn::loss::mse_half_sum, c.l2_lambda));
}
