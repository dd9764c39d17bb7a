// tests/optim/problems.hpp: the two problems of optimizers.json as "evaluate loss and gradient at
// the current parameters" objects over flat buffers, and the step-by-step trajectory check shared
// by the optimiser tests. mlp: a ctnn Network<double, 4-5-1 tanh/sigmoid> with the reference's
// weights, gradient from net.gradient (reverse mode); rosenbrock: a user function of [x, y].
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "reference.hpp"

namespace optim_test {

namespace ref = ctnn::test::ref;

using MlpNet = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::Tanh, ctnn::Dense<5, 1>, ctnn::Sigmoid>;

struct Mlp {
  MlpNet net;
  std::vector<double> x, y;
  Mlp() {
    const auto& p = ref::at(ref::optimizers(), "problems.mlp");
    const ref::Vec theta = ref::vec_at(p, "theta0");
    REQUIRE(theta.size() == MlpNet::num_params);
    std::copy(theta.begin(), theta.end(), net.params().begin());
    x = ref::vec_at(p, "X");
    y = ref::vec_at(p, "Y");
    REQUIRE(x.size() == 8 * 4);
    REQUIRE(y.size() == 8);
  }
  std::span<double> params() { return net.params(); }
  std::span<const double> grads() const { return net.grads(); }
  double evaluate() { return net.gradient<8>(ctnn::loss::mse_half_sum, x.data(), y.data()); }
  double loss() const { return net.loss<8>(ctnn::loss::mse_half_sum, x.data(), y.data()); }
};

struct Rosenbrock {
  std::vector<double> theta, grad{0, 0};
  Rosenbrock() : theta(ref::vec_at(ref::at(ref::optimizers(), "problems.rosenbrock"), "theta0")) {
    REQUIRE(theta.size() == 2);
  }
  std::span<double> params() { return theta; }
  std::span<const double> grads() const { return grad; }
  double evaluate() {
    const double a = theta[0], b = theta[1];
    grad[0] = -2 * (1 - a) - 400 * a * (b - a * a);
    grad[1] = 200 * (b - a * a);
    return loss();
  }
  double loss() const {
    const double a = theta[0], b = theta[1];
    return (1 - a) * (1 - a) + 100 * (b - a * a) * (b - a * a);
  }
};

/// |a - r| <= 1e-10 |r| + 1e-12 |r| for one number (the per-array rule with max|r| = |r|).
inline bool close_number(double a, double r) { return std::abs(a - r) <= 1e-10 * std::abs(r) + 1e-12 * std::abs(r); }

/// Runs 10 full-batch steps on `problem` with `step(params, grads, t)` and checks, step by step,
/// the loss before each step (if given), the parameters after every step k for which
/// `params_key(k)` names an array of the case (at least one), and the loss after 10 (if given).
template <class Problem, class Step, class Key>
void check_trajectory(const nlohmann::json& c, Problem& pb, Step&& step, Key&& params_key, const std::string& what) {
  const ref::Vec before = ref::has(c, "loss_before_step") ? ref::vec_at(c, "loss_before_step") : ref::Vec{};
  int checked = 0;
  for (int t = 0; t < 10; ++t) {
    const double l = pb.evaluate();
    if (!before.empty()) CHECK_MESSAGE(close_number(l, before[t]), what << ": loss before step " << t << " = " << l
                                                                         << ", reference " << before[t]);
    step(pb.params(), pb.grads(), t);
    if (ref::has(c, params_key(t + 1))) {
      ++checked;
      std::string why;
      const ref::Vec expected = ref::vec_at(c, params_key(t + 1));
      CHECK_MESSAGE(ref::close_array(pb.params().data(), expected, 1e-10, 1e-12, &why),
                    what << ": params after step " << t + 1 << ": " << why);
      CHECK(pb.params().size() == expected.size());
    }
  }
  CHECK_MESSAGE(checked > 0, what << ": no parameters to compare");
  if (ref::has(c, "loss_after_10")) {
    const double r = ref::num_at(c, "loss_after_10");
    CHECK_MESSAGE(close_number(pb.loss(), r), what << ": loss after 10 steps " << pb.loss() << ", reference " << r);
  }
}

}  // namespace optim_test
