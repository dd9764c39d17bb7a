// tests/second_order/test_runtime_jacobian.cpp: through the runtime tape, on every
// gradients.json network case (RuntimeNetwork parsed from the case's own JSON): the input
// Jacobian by reverse mode row by row against jacobian.J, and the parameter Jacobian contracted
// with u against the gradient of u·output (the mse_half_sum gradient at target output − u; 1e-9
// because forming that target rounds u).
#include <cmath>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "../nn/network_reference_check.hpp"
#include "ctnn/nn/runtime_jacobian.hpp"
#include "second_order_check.hpp"

namespace ref = ctnn::test::ref;

TEST_CASE("runtime tape: Jacobian (reverse, row by row) on every network case") {
  REQUIRE(ref::network_case_names.size() == 15);
  for (const std::string& name : ref::network_case_names) {
    INFO("case " << name);
    const ref::NetworkCase c = ref::network_case(name);
    auto net = ctnn::RuntimeNetwork<double>::from_json(c.raw->at("network"), name + ".network");
    const std::size_t K = net.outputs(), In = net.inputs(), P = net.num_params();

    // Jacobian w.r.t. the input of the case's sample.
    ctnn::RuntimeJacobian<double> jac(net);
    const auto xs = c.X.row(c.jac_sample);
    std::vector<double> J(K * In, -1.0);
    jac.input(xs.data(), J.data());
    nn_ref_test::check_close("runtime input Jacobian", J, c.jacobian);
    // Parameter Jacobian: row k is ∇θ output_k; uᵀJ is the gradient of the mse_half_sum loss at
    // target output − u (dL/doutput = u for one sample), computed by the runtime network itself.
    std::vector<double> JP(K * P, -1.0);
    jac.params(xs.data(), JP.data());
    std::vector<double> out(K), target(K), u(K);
    net.forward(1, xs.data(), out.data());
    for (std::size_t k = 0; k < K; ++k) {
      u[k] = 0.5 + 0.25 * double(k);
      target[k] = out[k] - u[k];
    }
    net.gradient(ctnn::RuntimeLoss::named("mse_half_sum"), 1, xs.data(), target.data());
    std::vector<double> uJ(P, 0.0);
    for (std::size_t k = 0; k < K; ++k)
      for (std::size_t j = 0; j < P; ++j) uJ[j] += u[k] * JP[k * P + j];
    std::string why;
    CHECK_MESSAGE(ref::close_array(uJ, ref::Vec(net.grads().begin(), net.grads().end()), 1e-9, 1e-12, &why), why);

    MESSAGE(name << ": runtime jacobian max rel err " << so_test::max_rel(J, c.jacobian.data));
  }
}
