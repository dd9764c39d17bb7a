// tests/second_order/test_hvp_deep.cpp: HVPs against gradients.json on the 6-8-8-4 network
// (leaky ReLU, tanh, identity; mse_mean, mse_half_sum and Huber as a user lambda: no Hessian in
// the reference, 172 parameters) and HVP + Hessian on the 3-1 linear regression, whose Hessian
// is also checked against its closed form [XᵀX, Xᵀ1; 1ᵀX, N] / N.
#include "second_order_check.hpp"

namespace {
using Deep = ctnn::Network<double, ctnn::Dense<6, 8>, ctnn::LeakyReLU, ctnn::Dense<8, 8>, ctnn::Tanh,
                           ctnn::Dense<8, 4>, ctnn::Identity>;
using LinReg = ctnn::Network<double, ctnn::Dense<3, 1>, ctnn::Identity>;
const std::vector<std::string> acts{"leaky_relu", "tanh", "identity"};
}  // namespace

TEST_CASE("hvp: mlp_6_8_8_4_leakyrelu_tanh_identity__mse_mean") {
  so_test::check_hvp<Deep, 4>("mlp_6_8_8_4_leakyrelu_tanh_identity__mse_mean", acts, ctnn::loss::mse_mean);
}
TEST_CASE("hvp: mlp_6_8_8_4_leakyrelu_tanh_identity__mse_half_sum") {
  so_test::check_hvp<Deep, 4>("mlp_6_8_8_4_leakyrelu_tanh_identity__mse_half_sum", acts, ctnn::loss::mse_half_sum);
}
TEST_CASE("hvp: mlp_6_8_8_4_leakyrelu_tanh_identity__huber (user lambda)") {
  const auto c = ctnn::test::ref::network_case("mlp_6_8_8_4_leakyrelu_tanh_identity__huber");
  const double delta = c.huber_delta;
  auto huber = [delta](auto p, auto y) {
    auto a = ctnn::abs(p - y);
    auto m = ctnn::minimum(a, delta);
    return ctnn::mean(m * (a - 0.5 * m));
  };
  so_test::check_hvp<Deep, 4>(c.name, acts, huber);
}
TEST_CASE("hvp: linreg_3_1_identity__mse_half_sum, Hessian = [X 1]ᵀ[X 1] / N") {
  const auto c = ctnn::test::ref::network_case("linreg_3_1_identity__mse_half_sum");
  REQUIRE(c.has_hessian);
  so_test::check_hvp<LinReg, 5>(c.name, {"identity"}, ctnn::loss::mse_half_sum);
  const LinReg net = so_test::network_of<LinReg>(c);
  std::vector<double> H(16);
  ctnn::hessian<5>(net, ctnn::loss::mse_half_sum, c.X.data.data(), c.Y.data.data(), H.data());
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j) {
      double h = 0;
      for (std::size_t n = 0; n < 5; ++n) h += (i < 3 ? c.X(n, i) : 1.0) * (j < 3 ? c.X(n, j) : 1.0);
      CHECK(H[i * 4 + j] == doctest::Approx(h / 5.0).epsilon(1e-13));
    }
}
