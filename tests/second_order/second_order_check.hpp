// tests/second_order/second_order_check.hpp: shared driver of the test_hvp_*.cpp and
// test_jacobian_*.cpp TUs. For a gradients.json network case on a compile-time network:
//  * check_hvp: NetworkHvp (forward-over-reverse on Dual<double>) against hvp.Hv, the dual
//    values against grad_flat and loss_value, and, where the case has one, the full Hessian by
//    HVPs with unit vectors against hessian (REFERENCE.md tolerance, 1e-10 relative + 1e-12 of
//    the array's max);
//  * check_jacobian: the input Jacobian of jacobian.sample by reverse mode (row by row) and by
//    forward mode (column by column) against jacobian.J, the parameter Jacobian by both modes
//    against each other, and uᵀ J_θ (forward mode) against the gradient of u·output.
// Each prints its worst relative error (MESSAGE) for the report.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "../nn/network_reference_check.hpp"
#include "ctnn/nn/hvp.hpp"
#include "ctnn/nn/jacobian.hpp"

namespace so_test {

namespace ref = ctnn::test::ref;

/// max_i |a_i - r_i| / |r_i| over the elements with r_i != 0 (what the report quotes).
inline double max_rel(const std::vector<double>& a, const std::vector<double>& r) {
  double w = 0;
  for (std::size_t i = 0; i < r.size(); ++i)
    if (r[i] != 0) w = std::max(w, std::abs(a[i] - r[i]) / std::abs(r[i]));
  return w;
}

template <class Net>
Net network_of(const ref::NetworkCase& c) {
  Net net(12345);
  const ref::Vec theta = ref::flat_params(c);
  auto p = net.params();
  REQUIRE(p.size() == theta.size());
  std::copy(theta.begin(), theta.end(), p.begin());
  return net;
}

template <class Net, std::size_t B, class Loss>
void check_hvp(const std::string& name, const std::vector<std::string>& activations, const Loss& loss) {
  const ref::NetworkCase c = nn_ref_test::load_case(name, activations, Net::inputs, Net::outputs, Net::num_params, B);
  INFO("case " << name);
  const Net net = network_of<Net>(c);
  const double* x = c.X.data.data();
  const double* y = nn_ref_test::targets(c).data.data();
  REQUIRE(c.hvp_v.size() == Net::num_params);

  ctnn::NetworkHvp<Net, B> h;
  std::vector<double> Hv(Net::num_params, -1.0), g(Net::num_params, -1.0);
  const double l = h(net, loss, x, y, c.hvp_v.data(), Hv.data(), g.data());
  nn_ref_test::check_close("hvp.Hv", Hv, c.hvp_Hv);
  nn_ref_test::check_close("gradient (dual values)", g, c.grad_flat);
  nn_ref_test::check_close("loss (dual value)", {l}, ref::Vec{c.loss_value});
  MESSAGE(name << ": hvp max rel err " << max_rel(Hv, c.hvp_Hv));

  if (c.has_hessian) {
    std::vector<double> H(Net::num_params * Net::num_params, -1.0);
    ctnn::hessian<B>(net, loss, x, y, H.data());
    nn_ref_test::check_close("hessian", H, c.hessian);
    MESSAGE(name << ": hessian max rel err " << max_rel(H, c.hessian.data));
    // H v from the Hessian agrees with the HVP (the Hessian's columns are HVPs with e_j).
    std::vector<double> Hv2(Net::num_params, 0.0);
    for (std::size_t i = 0; i < Net::num_params; ++i)
      for (std::size_t j = 0; j < Net::num_params; ++j) Hv2[i] += H[i * Net::num_params + j] * c.hvp_v[j];
    nn_ref_test::check_close("H·v from the Hessian", Hv2, c.hvp_Hv);
  }
}

template <class Net>
void check_jacobian(const std::string& name, const std::vector<std::string>& activations, std::size_t batch) {
  const ref::NetworkCase c = nn_ref_test::load_case(name, activations, Net::inputs, Net::outputs, Net::num_params, batch);
  INFO("case " << name);
  Net net = network_of<Net>(c);
  constexpr std::size_t K = Net::outputs, In = Net::inputs, P = Net::num_params;
  REQUIRE(c.jacobian.rows == K);
  REQUIRE(c.jacobian.cols == In);
  const std::vector<double> xs = c.X.row(c.jac_sample);

  ctnn::Jacobian<Net> jac;
  std::vector<double> Jr(K * In, -1.0), Jf(K * In, -2.0), Ja(K * In, -3.0);
  jac.input(net, xs.data(), Jr.data(), ctnn::JacobianMode::reverse);
  jac.input(net, xs.data(), Jf.data(), ctnn::JacobianMode::forward);
  jac.input(net, xs.data(), Ja.data());  // the mode chosen by shape
  nn_ref_test::check_close("input Jacobian (reverse)", Jr, c.jacobian);
  nn_ref_test::check_close("input Jacobian (forward)", Jf, c.jacobian);
  nn_ref_test::check_close("input Jacobian (automatic)", Ja, c.jacobian);
  nn_ref_test::check_close("forward vs reverse", Jf, ref::Vec(Jr));
  MESSAGE(name << ": input Jacobian max rel err reverse " << max_rel(Jr, c.jacobian.data) << ", forward "
               << max_rel(Jf, c.jacobian.data));

  // Parameter Jacobian (K x P) of the same sample: both modes agree; and, contracted with dL/d
  // output of this sample alone, it gives that sample's parameter gradient (a check on the layout
  // that does not rely on either mode).
  std::vector<double> Pr(K * P, -1.0), Pf(K * P, -2.0);
  jac.params(net, xs.data(), Pr.data(), ctnn::JacobianMode::reverse);
  jac.params(net, xs.data(), Pf.data(), ctnn::JacobianMode::forward);
  nn_ref_test::check_close("parameter Jacobian: forward vs reverse", Pf, ref::Vec(Pr));
  std::vector<double> u(K);
  for (std::size_t k = 0; k < K; ++k) u[k] = 0.25 + 0.5 * double(k);
  auto lin = [](auto p, auto w) { return ctnn::ad::sum(p * w); };  // u·output: its gradient is uᵀ J
  net.template gradient<1>(lin, xs.data(), u.data());
  std::vector<double> uJ(P, 0.0);
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t j = 0; j < P; ++j) uJ[j] += u[k] * Pf[k * P + j];
  nn_ref_test::check_close("uᵀ J_θ (forward mode) = ∇θ(u·output)", uJ,
                           ref::Vec(net.grads().begin(), net.grads().end()));
}

}  // namespace so_test
