// check_expression: a scalar expression built from a flat parameter vector, checked against
// central differences (tests/support/gradcheck.hpp, relative error < 1e-6), a reference value,
// the forward-only pass, and its float twin. Shared by test_nodes_fd.cpp and test_linalg_fd.cpp.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ad_check.hpp"
#include "ctnn/ad/ad.hpp"
#include "gradcheck.hpp"

namespace ctnn::test::exprcheck {

namespace ad = ctnn::ad;
using namespace ctnn::test::adcheck;

// Checks build(theta, grad) -> scalar expression: gradient vs central differences, value vs
// `value_ref`, evaluate() vs value_and_gradient(), and the float twin vs double.
template <class Build>
inline void check_expression(const char* name, Build build, const std::vector<double>& theta, double value_ref) {
  const std::string case_name = name;
  CAPTURE(case_name);
  auto g = nan_buffer(theta.size());
  const double v = ad::value_and_gradient(build(theta.data(), g.data()));
  CHECK(v == doctest::Approx(value_ref).epsilon(1e-13));
  double v_fwd = 0;
  ad::evaluate(build(theta.data(), g.data()), &v_fwd);
  CHECK(v_fwd == doctest::Approx(v).epsilon(1e-15));
  REQUIRE(all_finite(g.data(), g.size()));
  auto f = [&](const double* t) {
    std::vector<double> scratch(theta.size());
    return ad::value_and_gradient(build(t, scratch.data()));
  };
  const auto r = ctnn::test::gradcheck(f, theta, g);
  CHECK_MESSAGE(r.max_rel_err < 1e-6, r.report);
  // float twin
  std::vector<float> tf(theta.begin(), theta.end()), gf(theta.size(), NAN);
  const float vf = ad::value_and_gradient(build(tf.data(), gf.data()));
  double gmax = 0;
  for (double x : g) gmax = std::max(gmax, std::abs(x));
  CHECK(double(vf) == doctest::Approx(v).epsilon(1e-5).scale(1.0));
  for (std::size_t i = 0; i < g.size(); ++i) {
    CAPTURE(i);
    CHECK(std::abs(double(gf[i]) - g[i]) <= 1e-5 * (std::abs(g[i]) + gmax));
  }
}

inline double sig(double x) { return 1 / (1 + std::exp(-x)); }


}  // namespace ctnn::test::exprcheck
