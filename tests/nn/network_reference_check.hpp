// tests/nn/network_reference_check.hpp: shared driver of the test_network_reference_*.cpp TUs.
// run_case<Net, B>(name, activations, loss) loads gradients.json networks[name], checks that the
// compile-time network matches the case's sizes and activation list, copies flat_params(case)
// into net.params(), and compares forward output, loss value, grad_flat and grad_X with the
// reference (REFERENCE.md tolerance: 1e-10 relative + 1e-12 of the array's max |value|).
// It returns what ctnn computed so the "pairs that must agree" can be compared with each other.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "ctnn/ctnn.hpp"
#include "reference.hpp"

namespace nn_ref_test {

namespace ref = ctnn::test::ref;

struct Computed {
  std::vector<double> output;  // B x K
  double loss = 0;
  std::vector<double> grad;  // P
  std::vector<double> dx;    // B x n0
};

inline void check_close(const char* what, const std::vector<double>& actual, const ref::Vec& expected) {
  std::string why;
  const bool ok = ref::close_array(actual, expected, 1e-10, 1e-12, &why);
  INFO(what << ": " << why);
  CHECK(ok);
}
inline void check_close(const char* what, const std::vector<double>& actual, const ref::Mat& expected) {
  REQUIRE(actual.size() == expected.size());
  std::string why;
  const bool ok = ref::close_array(actual.data(), expected, 1e-10, 1e-12, &why);
  INFO(what << ": " << why);
  CHECK(ok);
}

/// Targets of a case: Y for regression cases, Y_onehot for class-label cases.
inline const ref::Mat& targets(const ref::NetworkCase& c) { return c.labels.empty() ? c.Y : c.Y_onehot; }

/// Loads the case and checks that it is the network under test (sizes, activations, batch).
inline ref::NetworkCase load_case(const std::string& name, const std::vector<std::string>& activations,
                                  std::size_t inputs, std::size_t outputs, std::size_t num_params,
                                  std::size_t batch) {
  INFO("case " << name);
  ref::NetworkCase c = ref::network_case(name);
  REQUIRE(c.activations == activations);
  REQUIRE(c.layer_sizes.size() >= 2);
  REQUIRE(inputs == c.layer_sizes.front());
  REQUIRE(outputs == c.layer_sizes.back());
  REQUIRE(num_params == c.param_count);
  REQUIRE(c.X.rows == batch);
  REQUIRE(c.X.cols == inputs);
  const ref::Mat& Y = targets(c);
  REQUIRE(Y.rows == batch);
  REQUIRE(Y.cols == outputs);
  REQUIRE(ref::flat_params(c).size() == num_params);
  REQUIRE(!c.forward_a.empty());
  return c;
}

/// Compares what ctnn computed with the case's figures.
inline void check_computed(const ref::NetworkCase& c, const Computed& r) {
  INFO("case " << c.name);
  check_close("forward output", r.output, c.output);
  // The last layer's activation in the reference's per-layer record is the same array.
  check_close("forward_a.back()", r.output, c.forward_a.back());
  check_close("loss value", {r.loss}, ref::Vec{c.loss_value});
  REQUIRE(r.grad.size() == c.grad_flat.size());
  check_close("grad_flat", r.grad, c.grad_flat);
  check_close("grad_X", r.dx, c.grad_X);
  // Per-layer gradient blocks sit where the flat order says (W_l row-major, then b_l).
  std::size_t off = 0;
  for (std::size_t l = 0; l < c.grad_W.size(); ++l) {
    INFO("layer " << l);
    std::vector<double> gw(r.grad.begin() + off, r.grad.begin() + off + c.grad_W[l].size());
    check_close("grad_W[l]", gw, c.grad_W[l]);
    off += c.grad_W[l].size();
    std::vector<double> gb(r.grad.begin() + off, r.grad.begin() + off + c.grad_b[l].size());
    check_close("grad_b[l]", gb, c.grad_b[l]);
    off += c.grad_b[l].size();
  }
  CHECK(off == r.grad.size());
}

/// Runs case `name` on the compile-time network Net with batch B and the given loss, checks the
/// results against the reference and returns them. (Everything that does not depend on the
/// network type is in the non-template helpers above: less code per instantiation.)
/// Extra = true also checks net.loss<B> (forward-only loss) and the gradient overload without
/// dx; each is one more tape instantiation, so only one case per TU asks for it (compile time).
template <class Net, std::size_t B, bool Extra = false, class Loss>
Computed run_case(const std::string& name, const std::vector<std::string>& activations, const Loss& loss) {
  const ref::NetworkCase c = load_case(name, activations, Net::inputs, Net::outputs, Net::num_params, B);
  const double* x = c.X.data.data();
  const double* y = targets(c).data.data();

  Net net(12345);
  const ref::Vec theta = ref::flat_params(c);
  auto p = net.params();
  REQUIRE(p.size() == theta.size());
  for (std::size_t i = 0; i < theta.size(); ++i) p[i] = theta[i];

  Computed r;
  r.output.assign(B * Net::outputs, -1.0);
  net.template forward<B>(x, r.output.data());
  r.dx.assign(B * Net::inputs, -1.0);
  r.loss = net.template gradient<B>(loss, x, y, r.dx.data());
  r.grad.assign(net.grads().begin(), net.grads().end());
  check_computed(c, r);

  if constexpr (Extra) {
    INFO("case " << name);
    // Forward-only loss agrees; the gradient without dx gives the same parameter gradient.
    const double l2 = net.template loss<B>(loss, x, y);
    check_close("loss value (loss<B>)", {l2}, ref::Vec{c.loss_value});
    const double l3 = net.template gradient<B>(loss, x, y);
    CHECK(l3 == r.loss);
    const std::vector<double> g3(net.grads().begin(), net.grads().end());
    CHECK(g3 == r.grad);
  }
  return r;
}

/// Two ctnn computations of one quantity through different graphs agree to rounding.
inline void check_pair(const Computed& a, const Computed& b) {
  check_close("pair: loss", {a.loss}, ref::Vec{b.loss});
  check_close("pair: grad", a.grad, ref::Vec(b.grad));
  check_close("pair: grad_X", a.dx, ref::Vec(b.dx));
}

}  // namespace nn_ref_test
