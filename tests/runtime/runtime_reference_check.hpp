// tests/runtime/runtime_reference_check.hpp: shared driver of the test_runtime_vs_static_*.cpp TUs.
// For a gradients.json network case, the static tape (Network<double, ...> through
// tests/nn/network_reference_check.hpp's run_case, which also checks it against the reference)
// and the runtime tape (RuntimeNetwork built from the case's own JSON "network" and "loss"
// objects) must give the same forward output, loss, parameter gradient and input gradient bit for
// bit: the runtime network records the static expression's nodes in the static tape's order and
// its kernels repeat kernel/'s operation order (FMA fusion included, see ad/runtime/kernels.hpp);
// and the runtime figures match the reference at the REFERENCE.md tolerance (1e-10).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "../nn/network_reference_check.hpp"
#include "ctnn/nn/runtime_network.hpp"

namespace rt_ref_test {

namespace ref = ctnn::test::ref;
using nn_ref_test::Computed;

/// The runtime tape on case `name`: network and loss parsed from the case's JSON objects.
inline Computed run_runtime(const std::string& name) {
  INFO("runtime tape, case " << name);
  const ref::NetworkCase c = ref::network_case(name);
  REQUIRE(c.raw != nullptr);
  auto net = ctnn::RuntimeNetwork<double>::from_json(c.raw->at("network"), name + ".network");
  const auto loss = ctnn::RuntimeLoss::from_json(c.raw->at("loss"), name + ".loss");
  REQUIRE(net.num_params() == c.param_count);
  // The description's "layers" are the parameters, in the flat order.
  const ref::Vec theta = ref::flat_params(c);
  REQUIRE(std::vector<double>(net.params().begin(), net.params().end()) == theta);

  const std::size_t B = c.X.rows;
  const double* x = c.X.data.data();
  const double* y = nn_ref_test::targets(c).data.data();
  Computed r;
  r.output.assign(B * net.outputs(), -1.0);
  net.forward(B, x, r.output.data());
  r.dx.assign(B * net.inputs(), -1.0);
  r.loss = net.gradient(loss, B, x, y, r.dx.data());
  r.grad.assign(net.grads().begin(), net.grads().end());
  nn_ref_test::check_computed(c, r);

  // Re-running the recorded graph gives the same numbers; without dx, the same parameter gradient;
  // the forward-only loss is the gradient pass's loss.
  std::vector<double> dx2(r.dx.size(), -2.0);
  CHECK(net.gradient(loss, B, x, y, dx2.data()) == r.loss);
  CHECK(dx2 == r.dx);
  CHECK(net.gradient(loss, B, x, y) == r.loss);
  CHECK(std::vector<double>(net.grads().begin(), net.grads().end()) == r.grad);
  CHECK(net.loss(loss, B, x, y) == r.loss);
  return r;
}

inline bool bitwise_equal(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

/// One quantity of both tapes, bit for bit. (Both tapes perform the same operations in the same
/// order on every reference network; should a case ever differ, the message gives the worst
/// relative difference, to be judged against the 1e-14 allowed where the order differs.)
inline void same(const char* what, const std::vector<double>& runtime, const std::vector<double>& stat) {
  REQUIRE(runtime.size() == stat.size());
  std::size_t differing = 0;
  double worst = 0;
  for (std::size_t i = 0; i < stat.size(); ++i)
    if (runtime[i] != stat[i]) {
      ++differing;
      worst = std::max(worst, std::abs(runtime[i] - stat[i]) / std::abs(stat[i]));
    }
  INFO(what << ": " << differing << " of " << stat.size() << " elements differ from the static tape, worst relative "
            << worst);
  CHECK(bitwise_equal(runtime, stat));
}

/// Static (already computed through run_case) against runtime, case `name`.
inline void compare(const std::string& name, const Computed& stat) {
  INFO("case " << name);
  const Computed rt = run_runtime(name);
  same("forward output", rt.output, stat.output);
  same("loss", {rt.loss}, {stat.loss});
  same("grad_flat", rt.grad, stat.grad);
  same("grad_X", rt.dx, stat.dx);
}

}  // namespace rt_ref_test
