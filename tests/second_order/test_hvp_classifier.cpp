// tests/second_order/test_hvp_classifier.cpp: HVPs and Hessians (forward-over-reverse on
// Dual<double>) against gradients.json on the 4-5-3 ReLU classifiers: cross-entropy on softmax
// probabilities, softmax cross-entropy on logits and both class-weighted conventions (the loss's
// class weights are rebound to dual constants by nn/hvp.hpp).
#include <array>

#include "second_order_check.hpp"

namespace {
using Cls = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::ReLU, ctnn::Dense<5, 3>, ctnn::Softmax>;
using ClsLogits = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::ReLU, ctnn::Dense<5, 3>, ctnn::Identity>;
const std::vector<std::string> relu_softmax{"relu", "softmax"}, relu_id{"relu", "identity"};
std::array<double, 3> class_weights(const std::string& name) {
  const auto c = ctnn::test::ref::network_case(name);
  REQUIRE(c.class_weights.size() == 3);
  return {c.class_weights[0], c.class_weights[1], c.class_weights[2]};
}
}  // namespace

TEST_CASE("hvp: mlp_4_5_3_relu_softmax__ce_prob") {
  so_test::check_hvp<Cls, 6>("mlp_4_5_3_relu_softmax__ce_prob", relu_softmax, ctnn::loss::cross_entropy);
}
TEST_CASE("hvp: mlp_4_5_3_relu_identity__softmax_ce_logits") {
  so_test::check_hvp<ClsLogits, 6>("mlp_4_5_3_relu_identity__softmax_ce_logits", relu_id,
                                   ctnn::loss::softmax_cross_entropy);
}
TEST_CASE("hvp: mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_pytorch") {
  const std::string name = "mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_pytorch";
  const auto w = class_weights(name);
  so_test::check_hvp<ClsLogits, 6>(name, relu_id, ctnn::loss::weighted_softmax_cross_entropy<3>(w.data()));
}
TEST_CASE("hvp: mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_plain_mean") {
  const std::string name = "mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_plain_mean";
  const auto w = class_weights(name);
  so_test::check_hvp<ClsLogits, 6>(name, relu_id, ctnn::loss::weighted_softmax_cross_entropy_mean<3>(w.data()));
}
