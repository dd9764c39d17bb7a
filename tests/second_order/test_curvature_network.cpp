// tests/second_order/test_curvature_network.cpp: η* and the Lipschitz estimate on a network,
// checked against the reference's own Hessian (gradients.json, 4-5-1 tanh/sigmoid, 31 parameters):
// η* = gᵀg / gᵀHg with H and g from the reference; the power-iteration pair (λ, u) satisfies
// ‖H u − λ u‖ <= 1e-6 |λ| for the REFERENCE H, and |λ| is the dominant eigenvalue: it bounds every
// Rayleigh quotient e_jᵀHe_j and ‖H‖²_F / P <= λ² <= ‖H‖²_F (Σλ² = ‖H‖²_F). And the HVP at a
// zero-initialised network (every pre-activation exactly 0: sigmoid's piecewise formula at its
// split point) against central differences of the gradient.
#include <cmath>
#include <vector>

#include "second_order_check.hpp"
#include "ctnn/nn/curvature.hpp"

namespace {
using Mlp451 = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::Tanh, ctnn::Dense<5, 1>, ctnn::Sigmoid>;
}

TEST_CASE("network: η* and L against the reference Hessian") {
  const std::string name = "mlp_4_5_1_tanh_sigmoid__mse_half_sum";
  const auto c = nn_ref_test::load_case(name, {"tanh", "sigmoid"}, 4, 1, Mlp451::num_params, 4);
  REQUIRE(c.has_hessian);
  const Mlp451 net = so_test::network_of<Mlp451>(c);
  constexpr std::size_t P = Mlp451::num_params;
  const auto& H = c.hessian;
  const auto& g = c.grad_flat;

  ctnn::NetworkHvp<Mlp451, 4> h;
  ctnn::CurvatureProbe<double> probe(P);
  const auto s = probe.optimal_step(h.at(net, ctnn::loss::mse_half_sum, c.X.data.data(), c.Y.data.data()));
  double gg = 0, gHg = 0;
  for (std::size_t i = 0; i < P; ++i) {
    gg += g[i] * g[i];
    for (std::size_t j = 0; j < P; ++j) gHg += g[i] * H(i, j) * g[j];
  }
  CHECK(s.eta == doctest::Approx(gg / gHg).epsilon(1e-10));
  CHECK(s.grad_sq == doctest::Approx(gg).epsilon(1e-10));
  CHECK(s.curvature == doctest::Approx(gHg).epsilon(1e-10));

  const auto L = probe.lipschitz(h.at(net, ctnn::loss::mse_half_sum, c.X.data.data(), c.Y.data.data()));
  REQUIRE(L.converged);
  const auto u = probe.eigenvector();
  double res = 0, fro = 0, maxdiag = 0;
  for (std::size_t i = 0; i < P; ++i) {
    double Hu = 0;
    for (std::size_t j = 0; j < P; ++j) {
      Hu += H(i, j) * u[j];
      fro += H(i, j) * H(i, j);
    }
    res += (Hu - L.eigenvalue * u[i]) * (Hu - L.eigenvalue * u[i]);
    maxdiag = std::max(maxdiag, std::abs(H(i, i)));
  }
  CHECK(std::sqrt(res) <= 1e-6 * L.L);
  CHECK(L.L >= maxdiag);
  CHECK(L.L * L.L <= fro * (1 + 1e-12));
  CHECK(L.L * L.L >= fro / double(P));
  CHECK(L.lr == doctest::Approx(1.0 / L.L).epsilon(1e-15));
  MESSAGE(name << ": eta* = " << s.eta << ", L = " << L.L << " (" << L.iterations << " HVPs), 1/L = " << L.lr);
}

TEST_CASE("network: HVP at a zero-initialised network (pre-activations exactly 0) against differences of the gradient") {
  const auto c = ctnn::test::ref::network_case("mlp_4_5_1_tanh_sigmoid__mse_half_sum");
  Mlp451 net(0, ctnn::Init::zeros);
  constexpr std::size_t P = Mlp451::num_params;
  auto th = net.params();
  for (std::size_t j = 16; j < 20; ++j) th[j] = 0.0;  // b1 = 0 (already): hidden z = 0
  th[20] = 0.7;  // one W2 entry: the output's pre-activation stays 0 (hidden activations are 0)
  std::vector<double> v(P);
  for (std::size_t j = 0; j < P; ++j) v[j] = std::sin(1.0 + double(j));
  ctnn::NetworkHvp<Mlp451, 4> h;
  std::vector<double> Hv(P), gp(P), gm(P);
  h(net, ctnn::loss::mse_half_sum, c.X.data.data(), c.Y.data.data(), v.data(), Hv.data());
  const double eps = 1e-5;
  auto grad_at = [&](double s, std::vector<double>& g) {
    Mlp451 n2 = net;
    for (std::size_t j = 0; j < P; ++j) n2.params()[j] += s * v[j];
    n2.gradient<4>(ctnn::loss::mse_half_sum, c.X.data.data(), c.Y.data.data());
    g.assign(n2.grads().begin(), n2.grads().end());
  };
  grad_at(eps, gp);
  grad_at(-eps, gm);
  double scale = 0;
  for (double x : Hv) scale = std::max(scale, std::abs(x));
  REQUIRE(scale > 0);
  for (std::size_t j = 0; j < P; ++j) CHECK(std::abs(Hv[j] - (gp[j] - gm[j]) / (2 * eps)) <= 1e-7 * scale);
}
