// Central-difference gradient checker for tests (header-only, double precision).
//
//   auto r = ctnn::test::gradcheck(f, theta, grad, n);   // f(const double* theta) -> double
//   CHECK_MESSAGE(r.max_rel_err < 1e-6, r.report);
//
// Each component i of the analytic gradient `grad` is compared with the 4-point central stencil
//   fd_i = (f(x - 2h) - 8 f(x - h) + 8 f(x + h) - f(x + 2h)) / (12 h),   h = step * max(1, |x_i|)
// (h rounded so that x + h is exact; truncation error O(h^4)). The error of component i is
//   |ad_i - fd_i| / max(|ad_i|, |fd_i|, floor_i),
//   floor_i = max(abs_floor, noise_i / rel_tol, tiny),   noise_i = noise_ulps * eps * max|f(stencil)| / h
// noise_i bounds the stencil's own rounding error, so a component too small for the stencil to
// resolve to rel_tol (e.g. an exact 0 by symmetry) is judged by an absolute bound of rel_tol * floor
// ~ noise instead of a meaningless relative one. Non-finite values (analytic, stencil, or f) give
// an infinite error. The result names the worst component and lists every component whose
// error is at least rel_tol.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

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

namespace detail {
inline std::string gc_format(const char* fmt, std::size_t i, double x, double ad, double fd, double err,
                             double floor) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, i, x, ad, fd, err, floor);
  return buf;
}
}  // namespace detail

/// Checks the analytic gradient `grad` (n components) of `f` at `theta` against central
/// differences. `f` is called as f(const double*) and must return something convertible to
/// double; theta itself is not modified (f sees a perturbed copy).
template <class F>
GradCheckResult gradcheck(F&& f, const double* theta, const double* grad, std::size_t n,
                          const GradCheckOptions& opt = {}) {
  GradCheckResult res;
  res.fd.assign(n, 0.0);
  std::vector<double> x(theta, theta + n);
  constexpr double eps = std::numeric_limits<double>::epsilon();
  constexpr double tiny = std::numeric_limits<double>::min();
  constexpr double inf = std::numeric_limits<double>::infinity();
  std::string failing;
  std::size_t n_failing = 0;
  const double f0 = static_cast<double>(f(static_cast<const double*>(x.data())));
  for (std::size_t i = 0; i < n; ++i) {
    const double xi = theta[i];
    double h = opt.step * std::max(1.0, std::abs(xi));
    {
      volatile double t = xi + h;  // make h exactly representable as (x + h) - x
      h = t - xi;
    }
    auto at = [&](double v) {
      x[i] = v;
      const double r = static_cast<double>(f(static_cast<const double*>(x.data())));
      x[i] = xi;
      return r;
    };
    const double fm2 = at(xi - 2 * h), fm1 = at(xi - h), fp1 = at(xi + h), fp2 = at(xi + 2 * h);
    const double fd = ((fm2 - fp2) + 8.0 * (fp1 - fm1)) / (12.0 * h);
    res.fd[i] = fd;
    const double fmax = std::max({std::abs(fm2), std::abs(fm1), std::abs(fp1), std::abs(fp2), std::abs(f0)});
    const double noise = opt.noise_ulps * eps * fmax / h;
    const double floor = std::max({opt.abs_floor, noise / opt.rel_tol, tiny});
    const double ad = grad[i];
    double err;
    if (!std::isfinite(ad) || !std::isfinite(fd) || !std::isfinite(fmax)) err = inf;
    else err = std::abs(ad - fd) / std::max({std::abs(ad), std::abs(fd), floor});
    if (i == 0 || !(err <= res.max_rel_err)) {  // NaN-safe: a NaN error becomes the worst
      res.max_rel_err = std::isnan(err) ? inf : err;
      res.worst = i;
    }
    if (!(err < opt.rel_tol)) {
      if (++n_failing <= 20)
        failing += detail::gc_format("  [%zu] x = %.17g: analytic %.17g, fd %.17g, rel err %.3g (floor %.3g)\n", i, xi,
                                     ad, fd, err, floor);
    }
  }
  char head[256];
  if (n == 0) {
    std::snprintf(head, sizeof head, "gradcheck: no components\n");
  } else {
    std::snprintf(head, sizeof head,
                  "gradcheck: %zu components, f(theta) = %.17g, max rel err %.3g at [%zu] (analytic %.17g, fd "
                  "%.17g); %zu component(s) >= %.1g\n",
                  n, f0, res.max_rel_err, res.worst, grad[res.worst], res.fd[res.worst], n_failing, opt.rel_tol);
  }
  res.report = head + failing;
  if (n_failing > 20) res.report += "  ...\n";
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
