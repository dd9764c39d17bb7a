// tests/runtime/test_runtime_vs_static_deep.cpp: static tape = runtime tape on the gradients.json
// cases of the 6-8-8-4 network (leaky ReLU, tanh, identity; mse_mean, mse_half_sum, Huber) and the
// 3-1 linear regression, and both match the reference. Also: every network case of the file is
// one of the cases these three TUs compare.
#include <algorithm>

#include "runtime_reference_check.hpp"

namespace {

using namespace nn_ref_test;
using rt_ref_test::compare;

using Deep = ctnn::Network<double, ctnn::Dense<6, 8>, ctnn::LeakyReLU, ctnn::Dense<8, 8>, ctnn::Tanh,
                           ctnn::Dense<8, 4>, ctnn::Identity>;
using LinReg = ctnn::Network<double, ctnn::Dense<3, 1>, ctnn::Identity>;
const std::vector<std::string> acts{"leaky_relu", "tanh", "identity"};

}  // namespace

TEST_CASE("runtime = static: mlp_6_8_8_4_leakyrelu_tanh_identity__mse_mean") {
  const char* n = "mlp_6_8_8_4_leakyrelu_tanh_identity__mse_mean";
  compare(n, run_case<Deep, 4>(n, acts, ctnn::loss::mse_mean));
}
TEST_CASE("runtime = static: mlp_6_8_8_4_leakyrelu_tanh_identity__mse_half_sum") {
  const char* n = "mlp_6_8_8_4_leakyrelu_tanh_identity__mse_half_sum";
  compare(n, run_case<Deep, 4>(n, acts, ctnn::loss::mse_half_sum));
}
TEST_CASE("runtime = static: mlp_6_8_8_4_leakyrelu_tanh_identity__huber") {
  const char* n = "mlp_6_8_8_4_leakyrelu_tanh_identity__huber";
  const double delta = ctnn::test::ref::network_case(n).huber_delta;
  // The static side is the user lambda of the README / tests/nn (RuntimeLoss::Kind::huber on the
  // runtime side): h = m (|r| − m/2), m = min(|r|, δ), mean over all elements.
  auto huber = [delta](auto p, auto y) {
    auto a = ctnn::abs(p - y);
    auto m = ctnn::minimum(a, delta);
    return ctnn::mean(m * (a - 0.5 * m));
  };
  compare(n, run_case<Deep, 4>(n, acts, huber));
}
TEST_CASE("runtime = static: linreg_3_1_identity__mse_half_sum") {
  const char* n = "linreg_3_1_identity__mse_half_sum";
  compare(n, run_case<LinReg, 5>(n, {"identity"}, ctnn::loss::mse_half_sum));
}

TEST_CASE("runtime = static covers every network case of gradients.json") {
  const auto& compared = ctnn::test::ref::network_case_names;  // each has a TEST_CASE in tests/runtime
  for (const auto& name : ctnn::test::ref::case_names("networks")) {
    INFO("gradients.json networks[] case " << name << " is not compared by tests/runtime");
    CHECK(std::find(compared.begin(), compared.end(), name) != compared.end());
  }
}
