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

// A float softmax rounds a class whose logit trails by more than ~104 to exactly 0: cross-entropy on
// probabilities took log 0 = -inf and a NaN gradient (training ended with "non-finite value" at an
// ordinary learning rate). The picked probability is clamped at the smallest normal float: the loss
// is -log(FLT_MIN) = 87.34 and that sample passes no gradient. Just above the floor (logits +-40,
// p = e^-80) the gradient is the textbook (p - y)·x. Both tapes, the same bits.
TEST_CASE("cross-entropy on a saturated float softmax: finite loss and gradient, both tapes") {
  using Net = ctnn::Network<float, ctnn::Dense<1, 2>, ctnn::Softmax>;
  Net net(1);
  ctnn::RuntimeNetwork<float> rnet({1, 2}, {"softmax"});
  REQUIRE(net.num_params == rnet.num_params());
  const float theta[4] = {1.0f, -1.0f, 0.0f, 0.0f};  // W = (1, -1)ᵀ, b = 0: z = (x, -x)
  std::copy(theta, theta + 4, net.params().begin());
  std::copy(theta, theta + 4, rnet.params().begin());
  const float y[2] = {0.0f, 1.0f};  // the class the net gives the smaller logit
  const auto loss = ctnn::RuntimeLoss::named("ce_prob");
  {
    const float x = 500.0f;
    const float l = net.gradient<1>(ctnn::loss::cross_entropy, &x, y);
    CHECK(l == doctest::Approx(-std::log(1.1754943508222875e-38)).epsilon(1e-6));
    for (float g : net.grads()) CHECK(g == 0.0f);
    const float lr = rnet.gradient(loss, 1, &x, y);
    CHECK(lr == l);
    for (float g : rnet.grads()) CHECK(g == 0.0f);
  }
  {
    const float x = 40.0f;
    const float l = net.gradient<1>(ctnn::loss::cross_entropy, &x, y);
    CHECK(l == doctest::Approx(80.0).epsilon(1e-5));
    const float expect[4] = {40.0f, -40.0f, 1.0f, -1.0f};  // dW = (p - y) x, db = p - y, p = (1, e^-80)
    for (std::size_t i = 0; i < 4; ++i) CHECK(net.grads()[i] == doctest::Approx(expect[i]).epsilon(1e-5));
    const float lr = rnet.gradient(loss, 1, &x, y);
    CHECK(lr == l);
    for (std::size_t i = 0; i < 4; ++i) CHECK(rnet.grads()[i] == net.grads()[i]);
  }
}
