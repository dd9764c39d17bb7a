// tests/second_order/test_runtime_hvp.cpp: through the runtime tape, on every gradients.json
// network case (RuntimeNetwork and RuntimeLoss parsed from the case's own JSON): H·v by
// forward-over-reverse on RuntimeNetwork<Dual<double>> against hvp.Hv, its dual values against
// grad_flat and loss_value, and the full Hessian (HVPs with e_j) where the case has one.
#include <cmath>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "../nn/network_reference_check.hpp"
#include "ctnn/nn/runtime_hvp.hpp"
#include "second_order_check.hpp"

namespace ref = ctnn::test::ref;

TEST_CASE("runtime tape: HVP and Hessian on every network case") {
  REQUIRE(ref::network_case_names.size() == 15);
  for (const std::string& name : ref::network_case_names) {
    INFO("case " << name);
    const ref::NetworkCase c = ref::network_case(name);
    auto net = ctnn::RuntimeNetwork<double>::from_json(c.raw->at("network"), name + ".network");
    const auto loss = ctnn::RuntimeLoss::from_json(c.raw->at("loss"), name + ".loss");
    const std::size_t P = net.num_params(), B = c.X.rows;

    // HVP through the runtime tape on duals.
    const double* x = c.X.data.data();
    const double* y = nn_ref_test::targets(c).data.data();
    ctnn::RuntimeHvp<double> hvp(net);
    std::vector<double> Hv(P, -1.0), g(P, -1.0);
    const double l = hvp(net, loss, B, x, y, c.hvp_v.data(), Hv.data(), g.data());
    nn_ref_test::check_close("runtime hvp.Hv", Hv, c.hvp_Hv);
    nn_ref_test::check_close("runtime gradient (dual values)", g, c.grad_flat);
    nn_ref_test::check_close("runtime loss (dual value)", {l}, ref::Vec{c.loss_value});
    MESSAGE(name << ": runtime hvp max rel err " << so_test::max_rel(Hv, c.hvp_Hv));
    if (c.has_hessian) {
      std::vector<double> H(P * P);
      ctnn::hessian_by_columns<double>(P, [&](const double* v, double* col) { hvp(net, loss, B, x, y, v, col); },
                                       H.data());
      nn_ref_test::check_close("runtime hessian", H, c.hessian);
      MESSAGE(name << ": runtime hessian max rel err " << so_test::max_rel(H, c.hessian.data));
    }
  }
}
