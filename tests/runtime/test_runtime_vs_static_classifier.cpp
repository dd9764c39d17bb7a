// tests/runtime/test_runtime_vs_static_classifier.cpp: static tape = runtime tape on the
// gradients.json cases of the 4-5-3 ReLU classifier (cross-entropy on softmax probabilities,
// softmax cross-entropy on logits, both class-weighted conventions), and both match the reference.
#include "runtime_reference_check.hpp"

namespace {

using namespace nn_ref_test;
using rt_ref_test::compare;

using Cls = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::ReLU, ctnn::Dense<5, 3>, ctnn::Softmax>;
using ClsLogits = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::ReLU, ctnn::Dense<5, 3>, ctnn::Identity>;

const std::vector<std::string> relu_softmax{"relu", "softmax"};
const std::vector<std::string> relu_id{"relu", "identity"};

}  // namespace

TEST_CASE("runtime = static: mlp_4_5_3_relu_softmax__ce_prob") {
  const char* n = "mlp_4_5_3_relu_softmax__ce_prob";
  compare(n, run_case<Cls, 6>(n, relu_softmax, ctnn::loss::cross_entropy));
}
TEST_CASE("runtime = static: mlp_4_5_3_relu_identity__softmax_ce_logits") {
  const char* n = "mlp_4_5_3_relu_identity__softmax_ce_logits";
  compare(n, run_case<ClsLogits, 6>(n, relu_id, ctnn::loss::softmax_cross_entropy));
}
TEST_CASE("runtime = static: mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_pytorch") {
  const char* n = "mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_pytorch";
  const auto c = ctnn::test::ref::network_case(n);
  REQUIRE(c.class_weights.size() == 3);
  compare(n, run_case<ClsLogits, 6>(n, relu_id,
                                    ctnn::loss::weighted_softmax_cross_entropy<3>(c.class_weights.data())));
}
TEST_CASE("runtime = static: mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_plain_mean") {
  const char* n = "mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_plain_mean";
  const auto c = ctnn::test::ref::network_case(n);
  REQUIRE(c.class_weights.size() == 3);
  compare(n, run_case<ClsLogits, 6>(n, relu_id,
                                    ctnn::loss::weighted_softmax_cross_entropy_mean<3>(c.class_weights.data())));
}
