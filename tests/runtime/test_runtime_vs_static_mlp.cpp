// tests/runtime/test_runtime_vs_static_mlp.cpp: static tape = runtime tape on the gradients.json
// network cases of the XOR 2-2-1 and 4-5-1 MLPs (sigmoid/tanh; mse_half_sum, mse_mean, bce_prob,
// bce_logits, mse_half_sum + L2), and both match the reference (runtime_reference_check.hpp).
#include "runtime_reference_check.hpp"

namespace {

using namespace nn_ref_test;
using rt_ref_test::compare;

using Xor = ctnn::Network<double, ctnn::Dense<2, 2>, ctnn::Sigmoid, ctnn::Dense<2, 1>, ctnn::Sigmoid>;
using Mlp451 = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::Tanh, ctnn::Dense<5, 1>, ctnn::Sigmoid>;
using Mlp451Logits = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::Tanh, ctnn::Dense<5, 1>, ctnn::Identity>;

const std::vector<std::string> sig_sig{"sigmoid", "sigmoid"};
const std::vector<std::string> tanh_sig{"tanh", "sigmoid"};
const std::vector<std::string> tanh_id{"tanh", "identity"};

}  // namespace

TEST_CASE("runtime = static: xor_2_2_1_sigmoid_sigmoid__mse_half_sum") {
  const char* n = "xor_2_2_1_sigmoid_sigmoid__mse_half_sum";
  compare(n, run_case<Xor, 4>(n, sig_sig, ctnn::loss::mse_half_sum));
}
TEST_CASE("runtime = static: xor_2_2_1_sigmoid_sigmoid__bce_prob") {
  const char* n = "xor_2_2_1_sigmoid_sigmoid__bce_prob";
  compare(n, run_case<Xor, 4>(n, sig_sig, ctnn::loss::bce_prob));
}
TEST_CASE("runtime = static: mlp_4_5_1_tanh_sigmoid__mse_half_sum") {
  const char* n = "mlp_4_5_1_tanh_sigmoid__mse_half_sum";
  compare(n, run_case<Mlp451, 4>(n, tanh_sig, ctnn::loss::mse_half_sum));
}
TEST_CASE("runtime = static: mlp_4_5_1_tanh_sigmoid__mse_mean") {
  const char* n = "mlp_4_5_1_tanh_sigmoid__mse_mean";
  compare(n, run_case<Mlp451, 4>(n, tanh_sig, ctnn::loss::mse_mean));
}
TEST_CASE("runtime = static: mlp_4_5_1_tanh_sigmoid__bce_prob") {
  const char* n = "mlp_4_5_1_tanh_sigmoid__bce_prob";
  compare(n, run_case<Mlp451, 4>(n, tanh_sig, ctnn::loss::bce_prob));
}
TEST_CASE("runtime = static: mlp_4_5_1_tanh_identity__bce_logits") {
  const char* n = "mlp_4_5_1_tanh_identity__bce_logits";
  compare(n, run_case<Mlp451Logits, 4>(n, tanh_id, ctnn::loss::bce_logits));
}
TEST_CASE("runtime = static: mlp_4_5_1_tanh_sigmoid__mse_half_sum_plus_l2") {
  const char* n = "mlp_4_5_1_tanh_sigmoid__mse_half_sum_plus_l2";
  const double lambda = ctnn::test::ref::network_case(n).l2_lambda;
  compare(n, run_case<Mlp451, 4>(n, tanh_sig, ctnn::loss::with_l2(ctnn::loss::mse_half_sum, lambda)));
}
