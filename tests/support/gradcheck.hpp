// Central-difference gradient checker for tests (header-only, double precision): the tests' adapter
// to the public ctnn::check_gradient (include/ctnn/nn/gradient_check.hpp, which documents the
// stencil, the noise floor and the error measure), for f(const double* theta) and a const theta.
//
//   auto r = ctnn::test::gradcheck(f, theta, grad, n);   // f(const double* theta) -> double
//   CHECK_MESSAGE(r.max_rel_err < 1e-6, r.report);
//
// The result names the worst component and lists every component whose error is at least rel_tol.
#pragma once

#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/nn/gradient_check.hpp"

namespace ctnn::test {

struct GradCheckOptions {
  double step = 1e-4;        // relative step: h = step * max(1, |x|)
  double rel_tol = 1e-6;     // used for the report and for the noise floor (see above)
  double abs_floor = 0.0;    // optional fixed absolute floor of the denominator
  double noise_ulps = 16.0;  // rounding error of the stencil, in units of eps * max|f| / h
};

struct GradCheckResult {
  double max_rel_err = 0.0;  // worst error over all components (0 for n = 0)
  std::size_t worst = 0;     // index of the worst component
  std::string report;        // human-readable summary (worst component, every failing one)
  std::vector<double> fd;    // the finite-difference gradient, for further checks
};

/// Checks the analytic gradient `grad` (n components) of `f` at `theta` against central
/// differences, by the public ctnn::check_gradient (one block). `f` is called as f(const double*)
/// and must return something convertible to double; theta itself is not modified (f sees a
/// perturbed copy).
template <class F>
GradCheckResult gradcheck(F&& f, const double* theta, const double* grad, std::size_t n,
                          const GradCheckOptions& opt = {}) {
  std::vector<double> x(theta, theta + n);
  ctnn::GradientCheckOptions o;
  o.step = opt.step;
  o.rel_tol = opt.rel_tol;
  o.abs_floor = opt.abs_floor;
  o.noise_ulps = opt.noise_ulps;
  const auto r = ctnn::check_gradient([&] { return static_cast<double>(f(static_cast<const double*>(x.data()))); },
                                      std::span<double>(x), std::span<const double>(grad, n), o);
  GradCheckResult res;
  res.max_rel_err = r.max_rel_err;
  res.worst = r.worst;
  res.report = r.report();
  res.fd = r.numeric;
  return res;
}

/// Convenience overload for std::vector-like containers (data() and size()).
template <class F, class V1, class V2>
GradCheckResult gradcheck(F&& f, const V1& theta, const V2& grad, const GradCheckOptions& opt = {}) {
  if (grad.size() != theta.size()) {
    GradCheckResult r;
    r.max_rel_err = std::numeric_limits<double>::infinity();
    r.report = "gradcheck: gradient has " + std::to_string(grad.size()) + " components, theta " +
               std::to_string(theta.size()) + "\n";
    return r;
  }
  return gradcheck(std::forward<F>(f), theta.data(), grad.data(), theta.size(), opt);
}

}  // namespace ctnn::test
