// tests/nn/test_network_reference_xor_mlp.cpp: gradients.json networks[] against compile-time
// networks in double: the XOR 2-2-1 cases and the 4-5-1 tanh/sigmoid MLP with mse_half_sum,
// mse_mean and mse_half_sum + L2 (forward output, loss, grad_flat, grad_X).
// (The 4-5-1 BCE pair is in test_network_reference_classifier.cpp.)
#include "network_reference_check.hpp"

namespace {

using namespace nn_ref_test;

using Xor = ctnn::Network<double, ctnn::Dense<2, 2>, ctnn::Sigmoid, ctnn::Dense<2, 1>, ctnn::Sigmoid>;
using Mlp451 = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::Tanh, ctnn::Dense<5, 1>, ctnn::Sigmoid>;

static_assert(Xor::inputs == 2 && Xor::outputs == 1 && Xor::num_params == 9);
static_assert(Mlp451::inputs == 4 && Mlp451::outputs == 1 && Mlp451::num_params == 31);

const std::vector<std::string> sig_sig{"sigmoid", "sigmoid"};
const std::vector<std::string> tanh_sig{"tanh", "sigmoid"};

}  // namespace

TEST_CASE("networks: xor_2_2_1_sigmoid_sigmoid__mse_half_sum") {
  run_case<Xor, 4>("xor_2_2_1_sigmoid_sigmoid__mse_half_sum", sig_sig, ctnn::loss::mse_half_sum);
}
TEST_CASE("networks: xor_2_2_1_sigmoid_sigmoid__bce_prob") {
  run_case<Xor, 4>("xor_2_2_1_sigmoid_sigmoid__bce_prob", sig_sig, ctnn::loss::bce_prob);
}
TEST_CASE("networks: mlp_4_5_1_tanh_sigmoid__mse_half_sum") {
  run_case<Mlp451, 4>("mlp_4_5_1_tanh_sigmoid__mse_half_sum", tanh_sig, ctnn::loss::mse_half_sum);
}
TEST_CASE("networks: mlp_4_5_1_tanh_sigmoid__mse_mean") {
  run_case<Mlp451, 4>("mlp_4_5_1_tanh_sigmoid__mse_mean", tanh_sig, ctnn::loss::mse_mean);
}
TEST_CASE("networks: mlp_4_5_1_tanh_sigmoid__mse_half_sum_plus_l2") {
  const auto c = ctnn::test::ref::network_case("mlp_4_5_1_tanh_sigmoid__mse_half_sum_plus_l2");
  REQUIRE(c.l2_lambda == 0.1);
  const auto r = run_case<Mlp451, 4, true>("mlp_4_5_1_tanh_sigmoid__mse_half_sum_plus_l2", tanh_sig,
                                           ctnn::loss::with_l2(ctnn::loss::mse_half_sum, c.l2_lambda));
  // The penalty covers weights only: the bias gradients equal those of the plain data loss.
  const auto plain = run_case<Mlp451, 4>("mlp_4_5_1_tanh_sigmoid__mse_half_sum", tanh_sig, ctnn::loss::mse_half_sum);
  // Blocks: 0 = W1, 1 = b1, 2 = W2, 3 = b2.
  for (std::size_t blk : {std::size_t{1}, std::size_t{3}})
    for (std::size_t i = Mlp451::block_offset[blk]; i < Mlp451::block_offset[blk + 1]; ++i) {
      INFO("bias gradient " << i);
      CHECK(r.grad[i] == doctest::Approx(plain.grad[i]).epsilon(1e-13));
    }
}
