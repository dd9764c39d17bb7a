// tests/train/test_gd_alloc.cpp: gradient_descent allocates its buffers once, before the loop:
// the number of heap allocations of a run does not grow with the number of iterations.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "counting_new.hpp"
#include "ctnn/ctnn.hpp"
#include "ctnn/train/gradient_descent.hpp"

using ctnn::test::allocations;

namespace {
using Net = ctnn::Network<double, ctnn::Dense<3, 4>, ctnn::Tanh, ctnn::Dense<4, 1>, ctnn::Identity>;

long count(ctnn::Descent mode, std::size_t iterations, const double* x, const double* y, std::size_t n) {
  Net net(1);
  const long before = allocations.load();
  const auto r = ctnn::gradient_descent<4>(net, ctnn::loss::mse_half_sum, x, y, n, {mode, 0.01, iterations, 0, 2});
  const long used = allocations.load() - before;
  CHECK(r.iterations == iterations);
  return used;
}
}  // namespace

TEST_CASE("gradient_descent: allocations do not depend on the number of iterations") {
  const std::size_t n = 23;  // ragged for B = 4
  double x[3 * n], y[n];
  ctnn::Random rng(0);
  for (double& v : x) v = rng.uniform(-1, 1);
  for (double& v : y) v = rng.uniform(-1, 1);
  for (auto mode : {ctnn::Descent::batch, ctnn::Descent::stochastic, ctnn::Descent::mini_batch}) {
    CAPTURE(static_cast<int>(mode));
    count(mode, 5, x, y, n);  // warm-up (per-thread workspaces, if any)
    const long few = count(mode, 10, x, y, n);
    const long many = count(mode, 2000, x, y, n);
    CHECK(few == many);
    CHECK(few <= 6);  // history, accumulator, order, two staging buffers
  }
}
