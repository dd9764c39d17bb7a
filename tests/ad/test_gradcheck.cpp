// tests/support/gradcheck.hpp itself: it accepts an exact gradient (well below 1e-6), rejects a gradient
// with one wrong component (and names it), reports NaN/Inf as an infinite error, and judges a
// zero component by the absolute noise floor instead of a relative error.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "gradcheck.hpp"

using ctnn::test::gradcheck;

namespace {
// f(x) = sum_i x_i^3 + x_0 x_1 + exp(x_2); scale parameter to test large |x|
double f(const double* x) { return x[0] * x[0] * x[0] + x[1] * x[1] * x[1] + x[2] * x[2] * x[2] + x[0] * x[1] + std::exp(x[2]); }
std::vector<double> grad(const std::vector<double>& x) {
  return {3 * x[0] * x[0] + x[1], 3 * x[1] * x[1] + x[0], 3 * x[2] * x[2] + std::exp(x[2])};
}
}  // namespace

TEST_CASE("gradcheck: an exact gradient passes with a tiny error") {
  for (const auto& x : {std::vector<double>{0.3, -1.2, 0.7}, std::vector<double>{250.0, -40.0, 3.0}}) {
    const auto r = gradcheck(f, x, grad(x));
    // (the second point has f ~ 1.6e7 and a component of 47: the stencil's rounding shows)
    CHECK_MESSAGE(r.max_rel_err < (x[0] > 1 ? 1e-7 : 1e-9), r.report);
    REQUIRE(r.fd.size() == 3);
  }
}

TEST_CASE("gradcheck: a wrong component is caught and named") {
  const std::vector<double> x{0.3, -1.2, 0.7};
  auto g = grad(x);
  g[1] *= 1.0 + 1e-5;
  const auto r = gradcheck(f, x, g);
  CHECK(r.max_rel_err > 5e-6);
  CHECK(r.max_rel_err < 2e-5);
  CHECK(r.worst == 1);
  CHECK(r.report.find("[1]") != std::string::npos);
  g = grad(x);
  g[2] = -g[2];  // a sign error
  CHECK(gradcheck(f, x, g).max_rel_err > 1.0);
}

TEST_CASE("gradcheck: NaN or Inf in the analytic gradient or in f is an infinite error") {
  const std::vector<double> x{0.3, -1.2, 0.7};
  auto g = grad(x);
  g[0] = std::numeric_limits<double>::quiet_NaN();
  auto r = gradcheck(f, x, g);
  CHECK(std::isinf(r.max_rel_err));
  CHECK(r.worst == 0);
  g = grad(x);
  r = gradcheck([](const double* t) { return t[0] > 0.2999 ? std::numeric_limits<double>::infinity() : 1.0; }, x, g);
  CHECK(std::isinf(r.max_rel_err));
  CHECK_FALSE(r.max_rel_err < 1e-6);
}

TEST_CASE("gradcheck: components that are 0 are judged against the noise floor") {
  // f = x0^2 + 1e3 at x0 = 0: the derivative is exactly 0 and the stencil gives ~0
  const std::vector<double> x{0.0, 2.0};
  auto h = [](const double* t) { return t[0] * t[0] + 1e3 + t[1]; };
  auto r = gradcheck(h, x, std::vector<double>{0.0, 1.0});
  CHECK_MESSAGE(r.max_rel_err < 1e-6, r.report);
  // a clearly non-zero value where the derivative is 0 is still caught (floor ~ 16 eps |f| / h / 1e-6)
  r = gradcheck(h, x, std::vector<double>{1e-3, 1.0});
  CHECK_FALSE(r.max_rel_err < 1e-6);
  CHECK(r.worst == 0);
  r = gradcheck(h, x, std::vector<double>{1e-7, 1.0});
  CHECK_FALSE(r.max_rel_err < 1e-6);
}

TEST_CASE("gradcheck: mismatched sizes fail") {
  const std::vector<double> x{0.3, -1.2, 0.7};
  const auto r = gradcheck(f, x, std::vector<double>{1.0, 2.0});
  CHECK(std::isinf(r.max_rel_err));
}
