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
TEST_CASE("hvp: a user loss with ad::constant leaves over double (taken as Dual constants), against differences of gradients") {
  // The loss's constants point at doubles while the HVP runs the loss on Dual<double>: they take the
  // differentiated expression's scalar. H·v must equal the central difference of the gradient along v.
  static const double shift = 0.3, weight = 2.0;
  auto loss = [](auto p, auto y) {
    auto c = ctnn::ad::constant<1, 1, 1>(&shift);
    auto w = ctnn::ad::constant<2, 1, 1>(&weight);
    return ctnn::mean(ctnn::square(p - y)) + ctnn::sum(w * ctnn::mean(ctnn::softplus(p - c)));
  };
  constexpr std::size_t B = 4;
  Deep net(5);
  std::vector<double> x(B * 6), y(B * 4), v(Deep::num_params);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37 * double(i));
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = std::cos(0.23 * double(i));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::sin(1.7 * double(i) + 0.4);
  ctnn::NetworkHvp<Deep, B> h;
  std::vector<double> Hv(Deep::num_params), g(Deep::num_params);
  const double l = h(net, loss, x.data(), y.data(), v.data(), Hv.data(), g.data());
  CHECK(l == doctest::Approx(net.loss<B>(loss, x.data(), y.data())).epsilon(1e-14));
  net.gradient<B>(loss, x.data(), y.data());
  for (std::size_t i = 0; i < g.size(); ++i) CHECK(g[i] == doctest::Approx(net.grads()[i]).epsilon(1e-13));
  const double eps = 1e-5;
  const std::vector<double> th(net.params().begin(), net.params().end());
  auto grad_at = [&](double s) {
    for (std::size_t i = 0; i < th.size(); ++i) net.params()[i] = th[i] + s * v[i];
    net.gradient<B>(loss, x.data(), y.data());
    return std::vector<double>(net.grads().begin(), net.grads().end());
  };
  const auto gp = grad_at(eps), gm = grad_at(-eps);
  double scale = 0;
  for (double e : Hv) scale = std::max(scale, std::abs(e));
  REQUIRE(scale > 0.1);
  for (std::size_t i = 0; i < Hv.size(); ++i) CHECK(std::abs((gp[i] - gm[i]) / (2 * eps) - Hv[i]) < 1e-6 * scale);
}

TEST_CASE("hessian_by_columns takes NetworkHvp::at's (v, Hv, g) callable") {
  const auto c = ctnn::test::ref::network_case("linreg_3_1_identity__mse_half_sum");
  const LinReg net = so_test::network_of<LinReg>(c);
  ctnn::NetworkHvp<LinReg, 5> h;
  std::vector<double> H(16, -1.0), H2(16, -2.0);
  ctnn::hessian_by_columns<double>(4, h.at(net, ctnn::loss::mse_half_sum, c.X.data.data(), c.Y.data.data()), H.data());
  ctnn::hessian<5>(net, ctnn::loss::mse_half_sum, c.X.data.data(), c.Y.data.data(), H2.data());
  for (std::size_t i = 0; i < 16; ++i) CHECK(H[i] == H2[i]);
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
