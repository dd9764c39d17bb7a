// tests/curvature/test_lbfgs.cpp: L-BFGS with the strong-Wolfe line search. On Rosenbrock from
// (-1.2, 1) it retraces PyTorch's run (optimizers.json "lbfgs": every iterate, every evaluation
// count, and the three step() calls with PyTorch's default settings); on a network's loss it
// reaches a stationary point; the stopping tests report which one fired.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <span>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/optim/lbfgs.hpp"
#include "ctnn/train/gradient_descent.hpp"
#include "reference.hpp"

namespace ref = ctnn::test::ref;
using ctnn::optim::GradNorm;
using ctnn::optim::Lbfgs;
using ctnn::optim::LbfgsOptions;
using ctnn::optim::LbfgsStop;

namespace {

template <class T>
T rosenbrock(std::span<const T> x, std::span<T> g) {
  const T a = 1 - x[0], b = x[1] - x[0] * x[0];
  g[0] = -2 * a - 400 * x[0] * b;
  g[1] = 200 * b;
  return a * a + 100 * b * b;
}

double l2(std::span<const double> v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

// PyTorch's settings for the reference run (tolerances 0: only the counts stop it).
LbfgsOptions reference_options(std::size_t max_iterations) {
  LbfgsOptions o;
  o.history = 10;
  o.lr = 1;
  o.max_iterations = max_iterations;
  o.max_evaluations = 1000000;
  o.grad_tolerance = 0;
  o.change_tolerance = 0;
  return o;
}

}  // namespace

TEST_CASE("L-BFGS on Rosenbrock from (-1.2, 1) retraces PyTorch's iterates and evaluation counts") {
  const auto& lb = ref::at(ref::optimizers(), "lbfgs");
  const auto& all = ref::at(lb, "all_iterates");
  const std::size_t k = ref::length(all);
  REQUIRE(k == 37);

  Lbfgs<double> opt(2, reference_options(k));
  std::vector<double> x = ref::vec_at(lb, "start");
  double worst = 0;
  std::size_t mismatched_counts = 0;
  const auto r = opt.minimize(rosenbrock<double>, std::span<double>(x), [&](const ctnn::optim::LbfgsIterate<double>& it) {
    const auto& e = ref::element(all, it.iteration - 1);
    REQUIRE(static_cast<std::size_t>(ref::int_at(e, "iteration")) == it.iteration);
    const auto xr = ref::vec_at(e, "x");
    for (int i = 0; i < 2; ++i) worst = std::max(worst, std::abs(it.x[i] - xr[i]));
    worst = std::max(worst, std::abs(it.loss - ref::num_at(e, "f")) / std::max(1.0, std::abs(ref::num_at(e, "f"))));
    if (static_cast<long long>(it.evaluations) != ref::int_at(e, "func_evals")) ++mismatched_counts;
  });
  std::printf("L-BFGS Rosenbrock: ctnn %zu iterations, %zu evaluations; PyTorch %lld, %lld; max |x - x_torch| over all "
              "iterates %.2e\n",
              r.iterations, r.evaluations, ref::int_at(lb, "converged.iterations"), ref::int_at(lb, "converged.func_evals"),
              worst);
  CHECK(worst <= 1e-9);  // rounding_sensitivity: 5.4e-12
  CHECK(mismatched_counts == 0);
  CHECK(r.iterations == static_cast<std::size_t>(ref::int_at(lb, "converged.iterations")));
  CHECK(r.evaluations == static_cast<std::size_t>(ref::int_at(lb, "converged.func_evals")));
  double g[2];
  rosenbrock<double>(x, g);
  CHECK(l2(g) < 1e-8);
  CHECK(std::abs(x[0] - 1) < 1e-6);
  CHECK(std::abs(x[1] - 1) < 1e-6);
}

TEST_CASE("L-BFGS stops on the Euclidean gradient norm < 1e-8 exactly where PyTorch's run first gets there") {
  const auto& lb = ref::at(ref::optimizers(), "lbfgs");
  LbfgsOptions o = reference_options(1000);
  o.grad_tolerance = 1e-8;
  o.grad_norm = GradNorm::l2;
  Lbfgs<double> opt(2, o);
  std::vector<double> x = ref::vec_at(lb, "start");
  const auto r = opt.minimize(rosenbrock<double>, std::span<double>(x));
  CHECK(r.stopped_by == LbfgsStop::gradient);
  CHECK(r.grad_norm < 1e-8);
  CHECK(r.iterations == 37);
  CHECK(r.evaluations == 46);
  const auto xr = ref::vec_at(lb, "converged.x");
  CHECK(std::abs(x[0] - xr[0]) <= 1e-9);
  CHECK(std::abs(x[1] - xr[1]) <= 1e-9);
  CHECK(r.loss < 1e-18);  // PyTorch: 3.7e-20
}

TEST_CASE("L-BFGS with PyTorch's default settings: three step() calls continue one run") {
  // max_iter 20, max_eval 25 per call, tolerance_grad 1e-7 on max|g|, tolerance_change 1e-9.
  const auto& lb = ref::at(ref::optimizers(), "lbfgs");
  const auto& calls = ref::at(lb, "pytorch_step_calls_default_settings.calls");
  LbfgsOptions o;
  o.max_iterations = 20;
  o.max_evaluations = 25;
  o.grad_tolerance = 1e-7;
  o.grad_norm = GradNorm::max_abs;
  o.change_tolerance = 1e-9;
  Lbfgs<double> opt(2, o);
  std::vector<double> x = ref::vec_at(lb, "start");
  const LbfgsStop expected[3] = {LbfgsStop::max_evaluations, LbfgsStop::no_descent, LbfgsStop::no_descent};
  for (std::size_t c = 0; c < ref::length(calls); ++c) {
    const auto& e = ref::element(calls, c);
    const auto r = opt.minimize(rosenbrock<double>, std::span<double>(x));
    const auto xr = ref::vec_at(e, "x");
    std::printf("call %zu: stopped by %s; cumulative iterations %zu (PyTorch %lld), evaluations %zu (PyTorch %lld)\n",
                c + 1, ctnn::optim::to_string(r.stopped_by), r.total_iterations, ref::int_at(e, "cumulative_iterations"),
                r.total_evaluations, ref::int_at(e, "cumulative_func_evals"));
    CHECK(std::abs(x[0] - xr[0]) <= 1e-9);
    CHECK(std::abs(x[1] - xr[1]) <= 1e-9);
    CHECK(r.total_iterations == static_cast<std::size_t>(ref::int_at(e, "cumulative_iterations")));
    CHECK(r.total_evaluations == static_cast<std::size_t>(ref::int_at(e, "cumulative_func_evals")));
    CHECK(r.stopped_by == expected[c]);
  }
}

TEST_CASE("L-BFGS in float converges on Rosenbrock to float accuracy") {
  LbfgsOptions o;
  o.grad_tolerance = 1e-4;
  Lbfgs<float> opt(2, o);
  std::vector<float> x{-1.2f, 1.0f};
  const auto r = opt.minimize(rosenbrock<float>, std::span<float>(x));
  CHECK(std::abs(x[0] - 1) < 1e-3f);
  CHECK(std::abs(x[1] - 1) < 2e-3f);
  CHECK(r.iterations < 100);
}

TEST_CASE("L-BFGS on an ill-conditioned quadratic: the budgets stop it and say so; history m is honoured") {
  constexpr std::size_t n = 50;
  double condition = 1e4;
  auto quad = [&condition](std::span<const double> x, std::span<double> g) {
    double f = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double a = std::pow(condition, double(i) / double(x.size() - 1));  // eigenvalues 1 .. condition
      g[i] = a * (x[i] - 1);
      f += 0.5 * a * (x[i] - 1) * (x[i] - 1);
    }
    return f;
  };
  // Minimises quad from 0 with options o; x receives the result, pairs the pairs kept at the end.
  std::size_t pairs = 0;
  std::vector<double> x(n);
  auto run = [&](const LbfgsOptions& o) {
    Lbfgs<double> opt(n, o);
    std::fill(x.begin(), x.end(), 0.0);
    const auto r = opt.minimize(quad, std::span<double>(x));
    pairs = opt.pairs_stored();
    return r;
  };
  LbfgsOptions o;  // a run to high accuracy: only the gradient or the budgets stop it
  o.grad_tolerance = 1e-10;
  o.change_tolerance = 0;
  o.curvature_threshold = 0;
  SUBCASE("m >= n and a near-exact line search: n iterations, as conjugate gradient") {
    // With exact line searches and all pairs kept, L-BFGS on a quadratic generates CG's iterates
    // and ends in n steps (Nocedal & Wright, Thm 7.4 / 6.4): a check of the two-loop recursion.
    o.history = n;
    o.line_search.c2 = 1e-3;
    o.line_search.max_evaluations = 100;
    o.max_evaluations = 100000;
    const auto r = run(o);
    CHECK(r.stopped_by == LbfgsStop::gradient);
    CHECK(r.iterations <= n);
    for (double v : x) CHECK(std::abs(v - 1) < 1e-12);
  }
  SUBCASE("m = 5, more iterations than pairs: the ring of pairs wraps; converges") {
    condition = 1e2;
    o.history = 5;
    const auto r = run(o);
    std::printf("quadratic n = 50, condition 1e2, m = 5: %zu iterations, %zu evaluations, |g| %.1e\n", r.iterations,
                r.evaluations, r.grad_norm);
    CHECK(r.stopped_by == LbfgsStop::gradient);
    CHECK(r.iterations > 5);
    CHECK(pairs == 5);
    for (double v : x) CHECK(std::abs(v - 1) < 1e-10);
  }
  SUBCASE("PyTorch's absolute curvature threshold 1e-10 stalls it near the minimum; 0 does not") {
    condition = 1e2;
    o.history = 5;
    o.max_iterations = 300;
    o.max_evaluations = 100000;
    const double g0 = run(o).grad_norm;
    o.curvature_threshold = 1e-10;
    const double g1 = run(o).grad_norm;
    std::printf("after at most 300 iterations: |g| %.1e with threshold 1e-10, %.1e with 0\n", g1, g0);
    CHECK(g0 <= 1e-10);
    CHECK(g1 > 100 * g0);
  }
  SUBCASE("max_iterations") {
    o.max_iterations = 3;
    o.max_evaluations = 100;
    const auto r = run(o);
    CHECK(r.stopped_by == LbfgsStop::max_iterations);
    CHECK(r.iterations == 3);
  }
  SUBCASE("max_evaluations") {
    o.max_evaluations = 4;
    const auto r = run(o);
    CHECK(r.stopped_by == LbfgsStop::max_evaluations);
    CHECK(r.evaluations >= 4);
    CHECK(r.evaluations < 4 + 25);
  }
  SUBCASE("loss change") {
    o.grad_tolerance = 0;
    o.change_tolerance = 1e-3;
    const auto r = run(o);
    CHECK((r.stopped_by == LbfgsStop::loss_change || r.stopped_by == LbfgsStop::step_tolerance ||
           r.stopped_by == LbfgsStop::no_descent));
    std::vector<double> x0(n, 0.0), g0(n);
    CHECK(r.loss < quad(x0, g0));
  }
  SUBCASE("already stationary: no iteration") {
    Lbfgs<double> opt(n);
    std::vector<double> one(n, 1.0);
    const auto r = opt.minimize(quad, std::span<double>(one));
    CHECK(r.stopped_by == LbfgsStop::gradient);
    CHECK(r.iterations == 0);
    CHECK(r.evaluations == 1);
  }
}

TEST_CASE("L-BFGS on a network's full-batch loss (reference mlp 4-5-1 tanh/sigmoid) reaches a stationary point") {
  using Net = ctnn::Network<double, ctnn::Dense<4, 5>, ctnn::Tanh, ctnn::Dense<5, 1>, ctnn::Sigmoid>;
  const auto& prob = ref::at(ref::optimizers(), "problems.mlp");
  const auto X = ref::vec_at(prob, "X"), Y = ref::vec_at(prob, "Y");
  const auto theta0 = ref::vec_at(prob, "theta0");
  REQUIRE(X.size() == 8 * 4);
  Net net;
  std::copy(theta0.begin(), theta0.end(), net.params().begin());

  LbfgsOptions o;
  o.grad_tolerance = 1e-9;
  o.change_tolerance = 0;
  o.max_iterations = 2000;
  o.max_evaluations = 4000;
  Lbfgs<double> opt(Net::num_params, o);
  std::vector<double> losses;
  ctnn::optim::NetworkObjective<8, Net, ctnn::loss::MseHalfSum> f(net, ctnn::loss::mse_half_sum, X.data(), Y.data());
  const auto r = opt.minimize(f, net.params(), [&](const auto& it) { losses.push_back(it.loss); });
  std::printf("L-BFGS on the mlp problem: loss %.6g -> %.6g, |grad| %.2e, %zu iterations, %zu evaluations, stopped by "
              "%s\n",
              ref::num_at(prob, "loss0"), r.loss, r.grad_norm, r.iterations, r.evaluations,
              ctnn::optim::to_string(r.stopped_by));
  CHECK(r.stopped_by == LbfgsStop::gradient);
  CHECK(r.loss < ref::num_at(prob, "loss0"));
  CHECK(losses.front() < ref::num_at(prob, "loss0"));
  for (std::size_t i = 1; i < losses.size(); ++i) CHECK(losses[i] <= losses[i - 1]);  // sufficient decrease
  // Stationary at the returned parameters (the gradient recomputed there, not the optimiser's copy).
  net.gradient<8>(ctnn::loss::mse_half_sum, X.data(), Y.data());
  CHECK(l2(net.grads()) < 1e-9);

  SUBCASE("a sample count that is not the batch size: a lambda over full_batch_gradient (chunks of 3)") {
    Net net2;
    std::copy(theta0.begin(), theta0.end(), net2.params().begin());
    auto chunked = [&](std::span<const double> x, std::span<double> g) {
      std::copy(x.begin(), x.end(), net2.params().begin());
      return ctnn::full_batch_gradient<3>(net2, ctnn::loss::mse_half_sum, X.data(), Y.data(), 8, g);
    };
    std::vector<double> p(theta0), g8(Net::num_params), g3(Net::num_params);
    const double l8 = f(std::span<const double>(p), std::span<double>(g8));
    const double l3 = chunked(std::span<const double>(p), std::span<double>(g3));
    CHECK(std::abs(l8 - l3) <= 1e-14);
    for (std::size_t k = 0; k < Net::num_params; ++k) CHECK(std::abs(g8[k] - g3[k]) <= 1e-14);
    Lbfgs<double> opt2(Net::num_params, o);
    const auto r2 = opt2.minimize(chunked, std::span<double>(p));
    CHECK(r2.stopped_by == LbfgsStop::gradient);
    CHECK(std::abs(r2.loss - r.loss) <= 1e-9);
  }
}

TEST_CASE("minimize_loss: L-BFGS on a float network's loss decreases it") {
  using Net = ctnn::Network<float, ctnn::Dense<2, 4>, ctnn::Tanh, ctnn::Dense<4, 1>, ctnn::Sigmoid>;
  const float X[4 * 2] = {0, 0, 0, 1, 1, 0, 1, 1};
  const float Y[4] = {0, 1, 1, 0};
  Net net(3);
  const float l0 = net.loss<4>(ctnn::loss::bce_prob, X, Y);
  LbfgsOptions o;
  o.grad_tolerance = 1e-5;
  o.max_iterations = 500;
  Lbfgs<float> opt(Net::num_params, o);
  const auto r = ctnn::optim::minimize_loss<4>(opt, net, ctnn::loss::bce_prob, X, Y);
  CHECK(r.loss < 0.05f * l0);
  CHECK(std::abs(net.loss<4>(ctnn::loss::bce_prob, X, Y) - r.loss) <= 1e-6f);
}

TEST_CASE("Lbfgs rejects bad sizes with a message") {
  CHECK_THROWS_AS(Lbfgs<double>(0), std::invalid_argument);
  LbfgsOptions o;
  o.history = 0;
  CHECK_THROWS_AS(Lbfgs<double>(2, o), std::invalid_argument);
  Lbfgs<double> opt(3);
  std::vector<double> x(2);
  CHECK_THROWS_AS(opt.minimize(rosenbrock<double>, std::span<double>(x)), std::invalid_argument);
}

TEST_CASE("L-BFGS stops on a NaN loss and puts x back at the last accepted iterate") {
  // f = (x0 - 3)^2 + x1^2, but NaN for x0 > 1.5: the minimiser lies beyond the valid region.
  auto f = [](std::span<const double> x, std::span<double> g) {
    g[0] = 2 * (x[0] - 3);
    g[1] = 2 * x[1];
    return x[0] > 1.5 ? std::nan("") : (x[0] - 3) * (x[0] - 3) + x[1] * x[1];
  };
  Lbfgs<double> opt(2);
  std::vector<double> x{0.0, 1.0};
  std::vector<double> last_x;
  double last_loss = 0;
  std::size_t accepted = 0;
  const auto r = opt.minimize(f, std::span<double>(x), [&](const ctnn::optim::LbfgsIterate<double>& it) {
    last_x.assign(it.x.begin(), it.x.end());
    last_loss = it.loss;
    ++accepted;
  });
  CHECK(r.stopped_by == LbfgsStop::non_finite);
  CHECK(std::isfinite(r.loss));
  CHECK(x[0] <= 1.5);
  double g[2];
  CHECK(f(x, g) == doctest::Approx(r.loss).epsilon(1e-15));
  // Where that iteration started: the iterate the observer saw last, its loss and gradient norm.
  REQUIRE(accepted >= 1);
  CHECK(r.iterations == accepted + 1);  // the failed iteration counts
  CHECK(x == last_x);
  CHECK(r.loss == last_loss);
  CHECK(r.grad_norm == doctest::Approx(std::hypot(g[0], g[1])).epsilon(1e-15));
  std::vector<double> bad{2.0, 0.0};
  Lbfgs<double> opt2(2);
  CHECK(opt2.minimize(f, std::span<double>(bad)).stopped_by == LbfgsStop::non_finite);
  CHECK(bad[0] == 2.0);
}

TEST_CASE("L-BFGS non_finite: x goes back to the start of the iteration, not to the search's last finite trial") {
  // f = -x on x <= 5 (slope -1), NaN beyond with a zero gradient. From x = 0 the line search tries
  // t = 1 (f = -1: sufficient decrease, but the slope has not flattened), extrapolates to t = 10, where
  // f is NaN and the zero gradient meets the curvature condition: the search returns that step.
  std::vector<double> trials, values;
  auto f = [&](std::span<const double> x, std::span<double> g) {
    const bool inside = x[0] <= 5;
    g[0] = inside ? -1.0 : 0.0;
    const double v = inside ? -x[0] : std::nan("");
    trials.push_back(x[0]);
    values.push_back(v);
    return v;
  };
  Lbfgs<double> opt(1);
  std::vector<double> x{0.0};
  std::size_t observed = 0;
  const auto r = opt.minimize(f, std::span<double>(x), [&](const ctnn::optim::LbfgsIterate<double>&) { ++observed; });
  CHECK(r.stopped_by == LbfgsStop::non_finite);
  CHECK(observed == 0);
  CHECK(r.iterations == 1);
  REQUIRE(trials.size() == 3);
  CHECK(trials[1] == 1.0);
  CHECK(values[1] == -1.0);  // a finite trial, lower than the start...
  CHECK(std::isnan(values.back()));
  CHECK(x[0] == 0.0);  // ...yet x is the caller's start, the first iteration's starting point
  CHECK(r.loss == 0.0);
  CHECK(r.grad_norm == 1.0);
  CHECK(r.evaluations == 3);
}
