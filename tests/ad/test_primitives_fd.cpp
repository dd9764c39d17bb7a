// Element-wise primitives: the analytic vjp agrees with central differences in double
// (tests/support/gradcheck.hpp, relative error < 1e-6) and with the std:: derivative, on random
// inputs away from kinks (relu, leaky_relu, step, abs, minimum: no point within 1e-3 of the kink).
// Float vs double is in test_primitives_float.cpp.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "ad_check.hpp"
#include "ctnn/ad/ad.hpp"
#include "gradcheck.hpp"
#include "unary_ops.hpp"

namespace ad = ctnn::ad;
using namespace ctnn::test::adcheck;

namespace {
constexpr std::size_t R = 3, C = 5, N = R * C;  // a 3 x 5 block: 15 elements (full and partial batches)

template <class D>
std::vector<double> sample_inputs(Rng& rng, std::size_t n) {
  std::vector<double> x(n);
  for (auto& v : x) v = rng.away_from(D::lo, D::hi, D::kinks, 1e-3);
  return x;
}
// The value s of sum(op(·) · u) and its gradient g against the scalar std:: reference at the op's
// inputs `at`: 1e-13 on the value, 1e-12 relative + 4.4e-16 |u| on the gradient (REFERENCE.md's
// rule; the std:: reference is itself rounded).
template <class D>
void check_against_reference(double s, const std::vector<double>& g, const std::vector<double>& at,
                             const std::vector<double>& u) {
  double s_ref = 0, s_abs = 0;
  std::vector<double> g_ref(N), us = abs_of(u);
  for (std::size_t i = 0; i < N; ++i) {
    s_ref += u[i] * D::f(at[i]);
    s_abs += std::abs(u[i] * D::f(at[i]));
    g_ref[i] = u[i] * D::df(at[i]);
  }
  CHECK(std::abs(s - s_ref) <= 1e-13 * s_abs + kTiny);
  std::string why;
  CHECK_MESSAGE(close_vjp(g.data(), g_ref, us, &why), why);
}
}  // namespace

TEST_CASE_TEMPLATE("unary primitive: vjp matches central differences and the std:: derivative (double)", D,
                   CTNN_UNARY_OPS) {
  const std::string op_name = D::name;
  CAPTURE(op_name);
  Rng rng(1234);
  for (int trial = 0; trial < 3; ++trial) {
    CAPTURE(trial);
    const auto x = sample_inputs<D>(rng, N);
    const auto u = rng.uniform(N, -1, 1);
    auto uc = ad::constant<1, R, C>(u.data());
    auto g = nan_buffer(N);
    auto xv = ad::variable<0, R, C>(x.data(), g.data());
    const double s = ad::value_and_gradient(ad::sum(D::apply(xv) * uc));
    REQUIRE(all_finite(g.data(), N));
    check_against_reference<D>(s, g, x, u);
    // against central differences of ctnn's own forward pass
    auto f = [&](const double* t) {
      double scratch[N];
      return ad::value_and_gradient(ad::sum(D::apply(ad::variable<0, R, C>(t, scratch)) * uc));
    };
    const auto r = ctnn::test::gradcheck(f, x, g);
    CHECK_MESSAGE(r.max_rel_err < 1e-6, r.report);
  }
}

// The same vjp with the op's input an interior node (x + c), not a leaf: the tape keeps a node's
// value only where a derivative says it reads it (uses_x / uses_y), so an op that declares
// uses_x = false but reads x in derivative gets a stale or reused slot here (a leaf's x is its own
// buffer, always there: the case above cannot see it; found by a newcomer copying ops/tanh.hpp).
TEST_CASE_TEMPLATE("unary primitive on an interior node: derivative reads only what uses_x / uses_y keep", D,
                   CTNN_UNARY_OPS) {
  const std::string op_name = D::name;
  CAPTURE(op_name);
  Rng rng(4321);
  const auto x = sample_inputs<D>(rng, N);  // the op's inputs, x = (x - c) + c
  const auto u = rng.uniform(N, -1, 1), c = rng.uniform(N, -1, 1);
  std::vector<double> leaf(N), at(N);
  for (std::size_t i = 0; i < N; ++i) {
    leaf[i] = x[i] - c[i];
    at[i] = leaf[i] + c[i];  // what the tape computes (within 1 ulp of x: no kink crossed)
  }
  auto uc = ad::constant<1, R, C>(u.data());
  auto cc = ad::constant<2, R, C>(c.data());
  auto g = nan_buffer(N);
  auto xv = ad::variable<0, R, C>(leaf.data(), g.data());
  const double s = ad::value_and_gradient(ad::sum(D::apply(xv + cc) * uc));
  REQUIRE(all_finite(g.data(), N));
  check_against_reference<D>(s, g, at, u);
}
