// tests/nn/test_network_reference_classifier.cpp: gradients.json networks[] against
// compile-time networks in double: the 4-5-1 tanh network with BCE on probabilities and on
// logits, the 4-5-3 ReLU classifier with cross-entropy on softmax probabilities, softmax
// cross-entropy on logits and both class-weighted conventions (forward output, loss,
// grad_flat, grad_X); the pairs sigmoid+bce_prob vs identity+bce_logits and softmax+ce_prob vs
// identity+softmax_ce_logits agree with each other.
#include <array>

#include "network_reference_check.hpp"

namespace {

using namespace nn_ref_test;

using Mlp451 = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::Tanh, ctnn::Dense<5, 1>, ctnn::Sigmoid>;
using Mlp451Logits = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::Tanh, ctnn::Dense<5, 1>, ctnn::Identity>;
using Cls = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::ReLU, ctnn::Dense<5, 3>, ctnn::Softmax>;
using ClsLogits = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::ReLU, ctnn::Dense<5, 3>, ctnn::Identity>;

static_assert(Mlp451Logits::inputs == 4 && Mlp451Logits::outputs == 1 && Mlp451Logits::num_params == 31);
static_assert(Cls::inputs == 4 && Cls::outputs == 3 && Cls::num_params == 43);
static_assert(ClsLogits::num_params == 43);

const std::vector<std::string> tanh_sig{"tanh", "sigmoid"};
const std::vector<std::string> tanh_id{"tanh", "identity"};
const std::vector<std::string> relu_softmax{"relu", "softmax"};
const std::vector<std::string> relu_id{"relu", "identity"};

std::array<double, 3> class_weights(const char* name) {
  const auto c = ctnn::test::ref::network_case(name);
  REQUIRE(c.class_weights.size() == 3);
  return {c.class_weights[0], c.class_weights[1], c.class_weights[2]};
}

bool same_weights(const char* a, const char* b) {
  return ctnn::test::ref::flat_params(ctnn::test::ref::network_case(a)) ==
         ctnn::test::ref::flat_params(ctnn::test::ref::network_case(b));
}

}  // namespace

TEST_CASE("networks: mlp_4_5_1_tanh_sigmoid__bce_prob") {
  run_case<Mlp451, 4>("mlp_4_5_1_tanh_sigmoid__bce_prob", tanh_sig, ctnn::loss::bce_prob);
}
TEST_CASE("networks: mlp_4_5_1_tanh_identity__bce_logits") {
  run_case<Mlp451Logits, 4>("mlp_4_5_1_tanh_identity__bce_logits", tanh_id, ctnn::loss::bce_logits);
}
TEST_CASE("networks: mlp_4_5_3_relu_softmax__ce_prob") {
  run_case<Cls, 6>("mlp_4_5_3_relu_softmax__ce_prob", relu_softmax, ctnn::loss::cross_entropy);
}
TEST_CASE("networks: mlp_4_5_3_relu_identity__softmax_ce_logits") {
  run_case<ClsLogits, 6>("mlp_4_5_3_relu_identity__softmax_ce_logits", relu_id, ctnn::loss::softmax_cross_entropy);
}
TEST_CASE("networks: mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_pytorch") {
  const char* name = "mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_pytorch";
  const auto w = class_weights(name);
  run_case<ClsLogits, 6>(name, relu_id, ctnn::loss::weighted_softmax_cross_entropy<3>(w.data()));
}
TEST_CASE("networks: mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_plain_mean") {
  const char* name = "mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_plain_mean";
  const auto w = class_weights(name);
  run_case<ClsLogits, 6>(name, relu_id, ctnn::loss::weighted_softmax_cross_entropy_mean<3>(w.data()));
}

TEST_CASE("networks pair: tanh_sigmoid__bce_prob agrees with tanh_identity__bce_logits") {
  const char* na = "mlp_4_5_1_tanh_sigmoid__bce_prob";
  const char* nb = "mlp_4_5_1_tanh_identity__bce_logits";
  REQUIRE(same_weights(na, nb));
  const auto a = run_case<Mlp451, 4>(na, tanh_sig, ctnn::loss::bce_prob);
  const auto b = run_case<Mlp451Logits, 4>(nb, tanh_id, ctnn::loss::bce_logits);
  check_pair(a, b);
}

TEST_CASE("networks pair: relu_softmax__ce_prob agrees with relu_identity__softmax_ce_logits") {
  const char* na = "mlp_4_5_3_relu_softmax__ce_prob";
  const char* nb = "mlp_4_5_3_relu_identity__softmax_ce_logits";
  REQUIRE(same_weights(na, nb));
  const auto a = run_case<Cls, 6>(na, relu_softmax, ctnn::loss::cross_entropy);
  const auto b = run_case<ClsLogits, 6>(nb, relu_id, ctnn::loss::softmax_cross_entropy);
  check_pair(a, b);
}

TEST_CASE("networks: the two class-weighted conventions differ by N / sum_n w[c_n]") {
  const char* np = "mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_pytorch";
  const char* nm = "mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_plain_mean";
  REQUIRE(same_weights(np, nm));
  const auto w = class_weights(np);
  const auto c = ctnn::test::ref::network_case(np);
  double sw = 0;
  for (int lab : c.labels) sw += w[static_cast<std::size_t>(lab)];
  const double n = static_cast<double>(c.labels.size());
  const auto a = run_case<ClsLogits, 6>(np, relu_id, ctnn::loss::weighted_softmax_cross_entropy<3>(w.data()));
  const auto b = run_case<ClsLogits, 6>(nm, relu_id, ctnn::loss::weighted_softmax_cross_entropy_mean<3>(w.data()));
  CHECK(a.loss * sw / n == doctest::Approx(b.loss).epsilon(1e-12));
}
