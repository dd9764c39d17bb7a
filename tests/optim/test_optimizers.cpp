// tests/optim/test_optimizers.cpp: every entry of optimizers.json optimizers[] (SGD, momentum,
// Nesterov, AdaGrad, RMSProp, Adam, Adam with coupled L2, AdamW, weight decay on all parameters
// or weights only) matched step by step at 1e-10: the mlp problem through a ctnn network and
// net.gradient, the Rosenbrock problem through a user function.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "ctnn/optim/optim.hpp"
#include "problems.hpp"

using namespace optim_test;
namespace optim = ctnn::optim;

namespace {

double hyper(const nlohmann::json& c, const char* key, double fallback = 0) {
  const std::string path = std::string("hyper.") + key;
  return ref::has(c, path) ? ref::num_at(c, path) : fallback;
}

// Builds the optimiser the entry names, runs its trajectory on `pb`, returns false for an
// unknown name (the test then fails: no entry may be skipped silently).
template <class Problem, class Net = void>
bool run_case(const nlohmann::json& c, Problem& pb) {
  const std::string name = ref::str_at(c, "name"), problem = ref::str_at(c, "problem");
  const std::size_t n = pb.params().size();
  const double lr = hyper(c, "lr");
  optim::DecayMask mask;
  if (ref::has(c, "hyper.weight_decay_applies_to")) {
    const std::string to = ref::str_at(c, "hyper.weight_decay_applies_to");
    if (to == "weight matrices only") {
      if constexpr (std::is_void_v<Net>) return false;
      else mask = optim::weight_ranges<Net>();
    } else {
      REQUIRE(to == "all parameters (weights and biases)");
    }
  }
  const std::string what = problem + "/" + name;
  auto key = [](int k) { return "params_after_step." + std::to_string(k); };
  auto run = [&](auto opt) {
    check_trajectory(c, pb, [&](std::span<double> p, std::span<const double> g, int) { opt.step(p, g, lr); }, key,
                     what);
    CHECK(opt.step_count() == 10);
  };
  if (name.starts_with("sgd")) {
    optim::SGDOptions o;
    o.momentum = hyper(c, "momentum");
    o.nesterov = name == "sgd_nesterov";
    CHECK(o.nesterov == ref::has(c, "hyper.nesterov"));
    o.weight_decay = hyper(c, "weight_decay");
    run(optim::SGD<double>(n, o, mask));
  } else if (name == "adagrad") {
    optim::AdaGradOptions o;
    o.lr_decay = hyper(c, "lr_decay");
    o.initial_accumulator_value = hyper(c, "initial_accumulator_value");
    o.eps = hyper(c, "eps");
    run(optim::AdaGrad<double>(n, o, mask));
  } else if (name == "rmsprop") {
    optim::RMSPropOptions o;
    o.alpha = hyper(c, "alpha");
    o.eps = hyper(c, "eps");
    run(optim::RMSProp<double>(n, o, mask));
  } else if (name.starts_with("adam")) {
    optim::AdamOptions o;
    o.beta1 = ref::num_at(c, "hyper.betas.0");
    o.beta2 = ref::num_at(c, "hyper.betas.1");
    o.eps = hyper(c, "eps");
    // adam_coupled_l2: torch.optim.Adam(weight_decay) = L2 in the gradient; adamw*: decoupled.
    (name.starts_with("adamw") ? o.decoupled_weight_decay : o.weight_decay) = hyper(c, "weight_decay");
    run(optim::Adam<double>(n, o, mask));
  } else {
    return false;
  }
  return true;
}

}  // namespace

TEST_CASE("every optimizers.json optimizers[] entry, step by step at 1e-10") {
  const auto& list = ref::at(ref::optimizers(), "optimizers");
  REQUIRE(ref::length(list) == 20);
  std::size_t mlp = 0, rosen = 0;
  for (std::size_t i = 0; i < ref::length(list); ++i) {
    const auto& c = ref::element(list, i);
    const std::string problem = ref::str_at(c, "problem"), name = ref::str_at(c, "name");
    CAPTURE(problem);
    CAPTURE(name);
    if (problem == "mlp") {
      Mlp pb;
      CHECK_MESSAGE((run_case<Mlp, MlpNet>(c, pb)), "no ctnn optimiser for " << name);
      ++mlp;
    } else {
      REQUIRE(problem == "rosenbrock");
      Rosenbrock pb;
      CHECK_MESSAGE(run_case(c, pb), "no ctnn optimiser for " << name);
      ++rosen;
    }
  }
  CHECK(mlp == 11);
  CHECK(rosen == 9);
}

TEST_CASE("the mlp problem's starting point is the reference's: loss0 and grad0") {
  Mlp pb;
  const auto& p = ref::at(ref::optimizers(), "problems.mlp");
  CHECK(close_number(pb.evaluate(), ref::num_at(p, "loss0")));
  std::string why;
  CHECK_MESSAGE(ref::close_array(pb.grads().data(), ref::vec_at(p, "grad0"), 1e-10, 1e-12, &why), why);
  Rosenbrock r;
  const auto& q = ref::at(ref::optimizers(), "problems.rosenbrock");
  CHECK(close_number(r.evaluate(), ref::num_at(q, "loss0")));
  CHECK(ref::close_array(r.grads().data(), ref::vec_at(q, "grad0"), 1e-10, 1e-12, &why));
}

TEST_CASE("weight_ranges<Net>: the W blocks of a network, biases excluded") {
  const auto m = optim::weight_ranges<MlpNet>();
  REQUIRE(m.ranges().size() == 2);
  CHECK(m.ranges()[0].begin == 0);
  CHECK(m.ranges()[0].end == 20);   // W1 5x4
  CHECK(m.ranges()[1].begin == 25); // after b1 (5)
  CHECK(m.ranges()[1].end == 30);   // W2 1x5; b2 at 30
  // Decoupled decay with a zero gradient touches exactly the masked entries.
  std::vector<double> p(31, 1.0), g(31, 0.0);
  optim::SGDOptions o;
  o.decoupled_weight_decay = 0.5;
  optim::SGD<double> sgd(31, o, m);
  sgd.step(p, g, 0.1);
  for (std::size_t i = 0; i < 31; ++i) CHECK(p[i] == ((i < 20 || (i >= 25 && i < 30)) ? 0.95 : 1.0));
}

TEST_CASE("coupled L2 and decoupled decay are distinct for Adam, equal for plain SGD") {
  std::vector<double> g{0.3, -0.2, 0.05}, p1{1, 2, 3}, p2 = p1;
  optim::AdamOptions a;
  a.weight_decay = 0.1;
  optim::AdamOptions b;
  b.decoupled_weight_decay = 0.1;
  optim::Adam<double> coupled(3, a), decoupled(3, b);
  coupled.step(p1, g, 0.01);
  decoupled.step(p2, g, 0.01);
  CHECK(std::abs(p1[2] - p2[2]) > 1e-4);
  // SGD: theta - lr (g + wd theta) == theta (1 - lr wd) - lr g
  std::vector<double> q1{1, 2, 3}, q2 = q1;
  optim::SGDOptions s1, s2;
  s1.weight_decay = 0.1;
  s2.decoupled_weight_decay = 0.1;
  optim::SGD<double> c1(3, s1), c2(3, s2);
  c1.step(q1, g, 0.01);
  c2.step(q2, g, 0.01);
  for (int i = 0; i < 3; ++i) CHECK(q1[i] == doctest::Approx(q2[i]).epsilon(1e-15));
}

TEST_CASE("state() is contiguous and restoring it with the step count continues the same trajectory") {
  Mlp a, b;
  optim::Adam<double> oa(MlpNet::num_params), ob(MlpNet::num_params);
  CHECK(oa.state().size() == 2 * MlpNet::num_params);
  for (int t = 0; t < 4; ++t) {
    a.evaluate();
    oa.step(a.params(), a.grads(), 0.01);
  }
  // b: copy parameters, state and the step count (a checkpoint), then both take 3 more steps.
  std::copy(a.params().begin(), a.params().end(), b.params().begin());
  std::copy(oa.state().begin(), oa.state().end(), ob.state().begin());
  ob.set_step_count(oa.step_count());
  for (int t = 0; t < 3; ++t) {
    a.evaluate();
    oa.step(a.params(), a.grads(), 0.01);
    b.evaluate();
    ob.step(b.params(), b.grads(), 0.01);
  }
  for (std::size_t i = 0; i < MlpNet::num_params; ++i) CHECK(a.params()[i] == b.params()[i]);
  // Without the step count (bias correction restarts at t = 1) the trajectory differs.
  Mlp c;
  optim::Adam<double> oc(MlpNet::num_params);
  std::copy(b.params().begin(), b.params().end(), c.params().begin());
  std::copy(ob.state().begin(), ob.state().end(), oc.state().begin());
  b.evaluate();
  ob.step(b.params(), b.grads(), 0.01);
  c.evaluate();
  oc.step(c.params(), c.grads(), 0.01);
  CHECK(b.params()[0] != c.params()[0]);
}

TEST_CASE("bad sizes and options are rejected with a message") {
  optim::Adam<double> a(3);
  std::vector<double> p(4), g(4);
  CHECK_THROWS_WITH_AS(a.step(p, g, 0.1), doctest::Contains("built for 3 parameters"), std::invalid_argument);
  optim::SGDOptions s;
  s.nesterov = true;
  CHECK_THROWS_AS(optim::SGD<double>(3, s), std::invalid_argument);
  CHECK_THROWS_AS(optim::SGD<double>(3, {}, optim::DecayMask({{0, 5}})), std::invalid_argument);
  // A negative or NaN learning rate, momentum or decay is refused (a NaN once passed every `x < 0`).
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH_AS(optim::SGD<double>(3, {.lr = -0.1}), "ctnn::optim::SGD: lr must be finite and >= 0, got -0.1",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(optim::Adam<double>(3, {.lr = nan}), doctest::Contains("ctnn::optim::Adam: lr must be finite"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(optim::AdaGrad<double>(3, {.lr = inf}), doctest::Contains("ctnn::optim::AdaGrad: lr must be"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(optim::RMSProp<double>(3, {.lr = -1}), doctest::Contains("ctnn::optim::RMSProp: lr must be"),
                       std::invalid_argument);
  CHECK_THROWS_AS(optim::SGD<double>(3, {.momentum = nan}), std::invalid_argument);
  CHECK_THROWS_AS(optim::Adam<double>(3, {.weight_decay = nan}), std::invalid_argument);
  CHECK_THROWS_AS(optim::AdaGrad<double>(3, {.lr_decay = nan}), std::invalid_argument);
  CHECK_THROWS_AS(optim::RMSProp<double>(3, {.momentum = nan}), std::invalid_argument);
  CHECK_NOTHROW(optim::SGD<double>(3, {.lr = 0}));  // lr 0 is allowed (PyTorch too): a frozen run
  // The learning rate of a step (a schedule's) likewise, before anything is written.
  optim::SGD<double> sgd(4, {.lr = 0.1, .momentum = 0.9});
  std::vector<double> q{1, 2, 3, 4}, gq{1, 1, 1, 1};
  CHECK_THROWS_WITH_AS(sgd.step(q, gq, -0.5), doctest::Contains("ctnn::optim::SGD::step: the learning rate must be"),
                       std::invalid_argument);
  CHECK_THROWS_AS(sgd.step(q, gq, nan), std::invalid_argument);
  CHECK(q == std::vector<double>{1, 2, 3, 4});
  CHECK(sgd.step_count() == 0);
}

TEST_CASE("RMSProp centred and with momentum follows PyTorch's formula (written out per element here)") {
  for (const bool centered : {false, true})
    for (const double mu : {0.0, 0.9}) {
      CAPTURE(centered);
      CAPTURE(mu);
      Mlp a, b;
      optim::RMSPropOptions o;
      o.centered = centered;
      o.momentum = mu;
      o.weight_decay = 0.01;
      optim::RMSProp<double> opt(MlpNet::num_params, o);
      CHECK(opt.state().size() == (1 + centered + (mu > 0)) * MlpNet::num_params);
      std::vector<double> v(MlpNet::num_params, 0.0), avg_g = v, buf = v;
      const double lr = 0.01, alpha = o.alpha, eps = o.eps;
      for (int t = 0; t < 10; ++t) {
        a.evaluate();
        opt.step(a.params(), a.grads(), lr);
        b.evaluate();
        for (std::size_t i = 0; i < MlpNet::num_params; ++i) {  // torch.optim.RMSprop, single tensor
          const double g = b.grads()[i] + 0.01 * b.params()[i];
          v[i] = alpha * v[i] + (1 - alpha) * g * g;
          double avg = std::sqrt(v[i]);
          if (centered) {
            avg_g[i] = alpha * avg_g[i] + (1 - alpha) * g;
            avg = std::sqrt(v[i] - avg_g[i] * avg_g[i]);
          }
          avg += eps;
          if (mu > 0) {
            buf[i] = mu * buf[i] + g / avg;
            b.params()[i] -= lr * buf[i];
          } else {
            b.params()[i] -= lr * g / avg;
          }
        }
      }
      std::string why;
      CHECK_MESSAGE(ref::close_array(a.params().data(), ref::Vec(b.params().begin(), b.params().end()), 1e-13, 1e-15,
                                     &why),
                    why);
    }
}

TEST_CASE("centred RMSProp in float stays finite on a constant gradient (v − a² rounding below 0 is clamped)") {
  // g = 0.1 every step: v and a² both tend to 0.01; in float v − a² rounds below 0 after ~1200
  // steps and sqrt gave NaN (PyTorch's formula does). Clamped at 0, the step is lr·g/eps there.
  constexpr std::size_t n = 19;  // two SIMD batches and a tail
  std::vector<float> p(n, 1.0f), g(n, 0.1f);
  optim::RMSPropOptions o;
  o.centered = true;
  optim::RMSProp<float> opt(n, o);
  bool went_negative = false;
  for (int t = 0; t < 3000; ++t) {
    opt.step(p, g, 1e-9);
    const auto s = opt.state();
    for (std::size_t i = 0; i < n; ++i) went_negative = went_negative || double(s[i]) < double(s[n + i]) * double(s[n + i]);
    for (float x : p) REQUIRE(std::isfinite(x));
  }
  CHECK(went_negative);  // the case happened: without the clamp the parameters would be NaN
}

TEST_CASE("Adam with amsgrad follows PyTorch's formula (written out per element here)") {
  Mlp a, b;
  optim::AdamOptions o;
  o.amsgrad = true;
  optim::Adam<double> opt(MlpNet::num_params, o);
  CHECK(opt.state().size() == 3 * MlpNet::num_params);
  std::vector<double> m(MlpNet::num_params, 0.0), v = m, vmax = m;
  const double lr = 0.05;
  bool max_used = false;  // the running maximum differs from v at some step (else amsgrad is not exercised)
  for (int t = 1; t <= 30; ++t) {
    a.evaluate();
    opt.step(a.params(), a.grads(), lr);
    b.evaluate();
    const double bc1 = 1 - std::pow(o.beta1, t), bc2 = 1 - std::pow(o.beta2, t);
    for (std::size_t i = 0; i < MlpNet::num_params; ++i) {  // torch.optim.Adam(amsgrad=True), single tensor
      const double g = b.grads()[i];
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g;
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g * g;
      vmax[i] = std::max(vmax[i], v[i]);
      max_used = max_used || vmax[i] > v[i];
      b.params()[i] -= lr / bc1 * m[i] / (std::sqrt(vmax[i]) / std::sqrt(bc2) + o.eps);
    }
  }
  CHECK(max_used);
  std::string why;
  CHECK_MESSAGE(
      ref::close_array(a.params().data(), ref::Vec(b.params().begin(), b.params().end()), 1e-12, 1e-14, &why), why);
}
