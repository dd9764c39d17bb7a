// tests/optim/test_momentum.cpp: the two momentum conventions (PyTorch's buf and the textbook v)
// at a constant lr and with the lr halved after 5 steps (where they differ), and PyTorch-form
// Nesterov against Sutskever's look-ahead point; all on the mlp problem, at 1e-10.
#include <doctest/doctest.h>

#include <string>

#include "ctnn/optim/sgd.hpp"
#include "problems.hpp"

using namespace optim_test;
namespace optim = ctnn::optim;

namespace {
void run_convention(const char* which, optim::Momentum convention, const char* suffix) {
  const auto& c = ref::at(ref::optimizers(), std::string("momentum_conventions.") + which);
  const ref::Vec lr = ref::vec_at(c, "lr_sequence");
  REQUIRE(lr.size() == 10);
  Mlp pb;
  optim::SGDOptions o;
  o.momentum = 0.9;  // momentum_conventions.notes: mu = 0.9
  o.convention = convention;
  optim::SGD<double> sgd(MlpNet::num_params, o);
  check_trajectory(
      c, pb, [&](std::span<double> p, std::span<const double> g, int t) { sgd.step(p, g, lr[t]); },
      [&](int k) { return k == 10 ? std::string("params_after_10_") + suffix : std::string("-"); },
      std::string(which) + "/" + suffix);
}
}  // namespace

TEST_CASE("momentum conventions: PyTorch buf and textbook v, constant lr and lr halved after 5 steps") {
  CHECK(ref::str_at(ref::optimizers(), "momentum_conventions.notes").find("mu = 0.9") != std::string::npos);
  for (const char* which : {"constant_lr", "lr_halved_after_5_steps"}) {
    run_convention(which, optim::Momentum::pytorch, "pytorch");
    run_convention(which, optim::Momentum::textbook, "textbook");
  }
  // The two trajectories really differ once lr changes (so each check above can fail for the other).
  const auto& h = ref::at(ref::optimizers(), "momentum_conventions.lr_halved_after_5_steps");
  CHECK(!ref::close_array(ref::vec_at(h, "params_after_10_pytorch"), ref::vec_at(h, "params_after_10_textbook")));
}

TEST_CASE("Nesterov (PyTorch form) iterates are Sutskever's look-ahead points theta + mu v") {
  const auto& c = ref::at(ref::optimizers(), "nesterov_sutskever");
  REQUIRE(ref::str_at(c, "problem") == "mlp");
  optim::SGDOptions o;
  o.momentum = ref::num_at(c, "momentum");
  o.nesterov = true;
  const double lr = ref::num_at(c, "lr");
  for (auto convention : {optim::Momentum::pytorch, optim::Momentum::textbook}) {
    o.convention = convention;
    Mlp pb;
    optim::SGD<double> sgd(MlpNet::num_params, o);
    check_trajectory(
        c, pb, [&](std::span<double> p, std::span<const double> g, int) { sgd.step(p, g, lr); },
        [](int k) { return "sutskever_lookahead_after_step." + std::to_string(k); }, "nesterov lookahead");
  }
  // ... and not Sutskever's own theta.
  Mlp pb;
  optim::SGD<double> sgd(MlpNet::num_params, o);
  for (int t = 0; t < 3; ++t) {
    pb.evaluate();
    sgd.step(pb.params(), pb.grads(), lr);
  }
  CHECK(!ref::close_array(pb.params().data(), ref::vec_at(c, "sutskever_theta_after_step.3")));
}
