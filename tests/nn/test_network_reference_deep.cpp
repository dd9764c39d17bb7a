// tests/nn/test_network_reference_deep.cpp: gradients.json networks[] against compile-time
// networks in double: the 6-8-8-4 network (leaky ReLU, tanh, identity) with mse_mean,
// mse_half_sum and a Huber loss written here as a user lambda, and the 3-1 linear regression
// (forward output, loss, grad_flat, grad_X).
#include <array>

#include "network_reference_check.hpp"

namespace {

using namespace nn_ref_test;

using Deep = ctnn::Network<double, ctnn::Dense<6, 8>, ctnn::LeakyReLU, ctnn::Dense<8, 8>, ctnn::Tanh,
                           ctnn::Dense<8, 4>, ctnn::Identity>;
static_assert(Deep::inputs == 6 && Deep::outputs == 4 && Deep::num_params == 6 * 8 + 8 + 8 * 8 + 8 + 8 * 4 + 4);

const std::vector<std::string> acts{"leaky_relu", "tanh", "identity"};
using LinReg = ctnn::Network<double, ctnn::Dense<3, 1>, ctnn::Identity>;
static_assert(LinReg::inputs == 3 && LinReg::outputs == 1 && LinReg::num_params == 4);

}  // namespace

TEST_CASE("networks: mlp_6_8_8_4_leakyrelu_tanh_identity__mse_mean") {
  const auto c = ctnn::test::ref::network_case("mlp_6_8_8_4_leakyrelu_tanh_identity__mse_mean");
  REQUIRE(c.leaky_slope == 0.01);  // ctnn::LeakyReLU's fixed slope
  run_case<Deep, 4>("mlp_6_8_8_4_leakyrelu_tanh_identity__mse_mean", acts, ctnn::loss::mse_mean);
}
TEST_CASE("networks: mlp_6_8_8_4_leakyrelu_tanh_identity__mse_half_sum") {
  run_case<Deep, 4>("mlp_6_8_8_4_leakyrelu_tanh_identity__mse_half_sum", acts, ctnn::loss::mse_half_sum);
}
TEST_CASE("networks: mlp_6_8_8_4_leakyrelu_tanh_identity__huber (user lambda)") {
  const auto c = ctnn::test::ref::network_case("mlp_6_8_8_4_leakyrelu_tanh_identity__huber");
  REQUIRE(c.huber_delta == 1.0);
  // A user loss: Huber with threshold delta, mean over all N*K elements, h = m (|r| - m/2),
  // m = min(|r|, delta).
  const double delta = c.huber_delta;
  auto huber = [delta](auto p, auto y) {
    auto a = ctnn::abs(p - y);
    auto m = ctnn::minimum(a, delta);
    return ctnn::mean(m * (a - 0.5 * m));
  };
  run_case<Deep, 4>("mlp_6_8_8_4_leakyrelu_tanh_identity__huber", acts, huber);
}
TEST_CASE("networks: mse_half_sum = K/2 * mse_mean on the deep case") {
  const auto a = run_case<Deep, 4>("mlp_6_8_8_4_leakyrelu_tanh_identity__mse_mean", acts, ctnn::loss::mse_mean);
  const auto b = run_case<Deep, 4>("mlp_6_8_8_4_leakyrelu_tanh_identity__mse_half_sum", acts, ctnn::loss::mse_half_sum);
  CHECK(a.loss * 2.0 == doctest::Approx(b.loss).epsilon(1e-13));
}
TEST_CASE("networks: linreg_3_1_identity__mse_half_sum") {
  const auto r = run_case<LinReg, 5, true>("linreg_3_1_identity__mse_half_sum", {"identity"}, ctnn::loss::mse_half_sum);
  // Closed form: grad = X^T (X w + b - y) / N for [w, b].
  const auto c = ctnn::test::ref::network_case("linreg_3_1_identity__mse_half_sum");
  std::array<double, 4> g{};
  for (std::size_t n = 0; n < 5; ++n) {
    double res = c.b[0][0] - c.Y(n, 0);
    for (std::size_t j = 0; j < 3; ++j) res += c.W[0](0, j) * c.X(n, j);
    for (std::size_t j = 0; j < 3; ++j) g[j] += c.X(n, j) * res / 5.0;
    g[3] += res / 5.0;
  }
  for (std::size_t i = 0; i < 4; ++i) CHECK(r.grad[i] == doctest::Approx(g[i]).epsilon(1e-12));
}
