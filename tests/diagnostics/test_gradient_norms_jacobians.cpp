// tests/diagnostics: per-layer gradient norms and layer Jacobians (ctnn/nn/gradient_diagnostics.hpp)
// on the reference's deep case (6-8-8-4, leaky ReLU / tanh / identity): the norms against norms of
// the reference's per-layer gradients, each layer's reverse-mode Jacobian against diag(g′(z)) W formed
// from the reference's own pre-activations z and weights.
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "ctnn/ctnn.hpp"
#include "ctnn/nn/gradient_diagnostics.hpp"
#include "reference.hpp"

namespace {

namespace ref = ctnn::test::ref;
using Deep = ctnn::Network<double, ctnn::Dense<6, 8>, ctnn::LeakyReLU, ctnn::Dense<8, 8>, ctnn::Tanh,
                           ctnn::Dense<8, 4>, ctnn::Identity>;
const char* const name = "mlp_6_8_8_4_leakyrelu_tanh_identity__mse_half_sum";

Deep load(const ref::NetworkCase& c) {
  Deep net(1);
  const ref::Vec theta = ref::flat_params(c);
  std::copy(theta.begin(), theta.end(), net.params().begin());
  return net;
}
double norm(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

}  // namespace

TEST_CASE("layer structure: one layer per Dense with its activation") {
  using D = ctnn::DenseLayers<Deep>;
  static_assert(D::count == 3);
  static_assert(D::begin == std::array<std::size_t, 3>{0, 2, 4});
  static_assert(D::end == std::array<std::size_t, 3>{2, 4, 6});
  static_assert(std::is_same_v<D::network<1>, ctnn::Network<double, ctnn::Dense<8, 8>, ctnn::Tanh>>);
  static_assert(ctnn::LayerJacobians<Deep>::in(0) == 6 && ctnn::LayerJacobians<Deep>::out(2) == 4);
  CHECK(D::param_begin(1) == 6 * 8 + 8);
}

TEST_CASE("per-layer gradient norms are the norms of the reference's per-layer gradients") {
  const ref::NetworkCase c = ref::network_case(name);
  Deep net = load(c);
  net.gradient<4>(ctnn::loss::mse_half_sum, c.X.data.data(), c.Y.data.data());
  const auto g = ctnn::layer_gradient_norms(net);
  REQUIRE(c.grad_W.size() == 3);
  for (std::size_t l = 0; l < 3; ++l) {
    INFO("layer " << l);
    const double w = norm(c.grad_W[l].data), b = norm(c.grad_b[l]);
    CHECK(std::abs(g.weight[l] - w) <= 1e-10 * w);
    CHECK(std::abs(g.bias[l] - b) <= 1e-10 * b);
  }
  CHECK(g.first_to_last() == doctest::Approx(norm(c.grad_W[0].data) / norm(c.grad_W[2].data)).epsilon(1e-10));
  CHECK(g.weight_ratio_to_next(0) == g.weight[0] / g.weight[1]);
  CHECK(g.weight_ratio_to_last(2) == 1.0);
  std::vector<double> short_grad(3);
  CHECK_THROWS_AS(ctnn::layer_gradient_norms<Deep>(std::span<const double>(short_grad)), std::invalid_argument);
}

TEST_CASE("gradient-norm ratios refuse a layer index out of range, naming it and the layer count") {
  ctnn::GradientNorms<3> g;
  g.weight = {1.0, 2.0, 4.0};
  CHECK(g.weight_ratio_to_next(1) == 0.5);  // the last valid l: layer 1 over layer 2
  CHECK(g.weight_ratio_to_last(2) == 1.0);
  // The last layer has no next one (it used to read weight[3], past the array).
  CHECK_THROWS_WITH_AS(g.weight_ratio_to_next(2),
                       "ctnn::GradientNorms::weight_ratio_to_next: layer l = 2, but the network has 3 layers (l < 2)",
                       std::out_of_range);
  CHECK_THROWS_AS(g.weight_ratio_to_next(static_cast<std::size_t>(-1)), std::out_of_range);  // l + 1 wraps to 0
  CHECK_THROWS_WITH_AS(g.weight_ratio_to_last(3),
                       "ctnn::GradientNorms::weight_ratio_to_last: layer l = 3, but the network has 3 layers (l < 3)",
                       std::out_of_range);
  // One layer: no ratio to a next layer at all; its ratio to the last is 1.
  ctnn::GradientNorms<1> one;
  one.weight = {3.0};
  CHECK(one.first_to_last() == 1.0);
  CHECK_THROWS_WITH_AS(one.weight_ratio_to_next(0),
                       "ctnn::GradientNorms::weight_ratio_to_next: layer l = 0, but the network has 1 layer "
                       "(no layer has a next one)",
                       std::out_of_range);
}

TEST_CASE("layer Jacobians by reverse mode equal diag(g'(z)) W from the reference's z") {
  const ref::NetworkCase c = ref::network_case(name);
  const Deep net = load(c);
  ctnn::LayerJacobians<Deep> lj;
  for (std::size_t s = 0; s < c.X.rows; ++s) {
    const double* x = c.X.data.data() + s * 6;
    for (std::size_t l = 0; l < 3; ++l) {
      INFO("sample " << s << ", layer " << l);
      const std::size_t in = lj.in(l), out = lj.out(l);
      std::vector<double> J(out * in, -7.0);
      lj.jacobian(l, net, x, J.data());
      std::vector<double> expected(out * in);
      for (std::size_t k = 0; k < out; ++k) {
        const double z = c.forward_z[l](s, k);
        const double d = l == 0 ? (z > 0 ? 1.0 : 0.01) : l == 1 ? 1.0 - std::tanh(z) * std::tanh(z) : 1.0;
        for (std::size_t i = 0; i < in; ++i) expected[k * in + i] = d * c.W[l](k, i);
      }
      std::string why;
      const bool ok = ref::close_array(J, expected, 1e-12, 1e-14, &why);
      INFO(why);
      CHECK(ok);
    }
  }
  std::vector<double> J(1);
  CHECK_THROWS_AS(lj.jacobian(3, net, c.X.data.data(), J.data()), std::out_of_range);
}
