// Shared helpers of the tests/ad translation units: the primitive tolerance rule of
// tests/data/REFERENCE.md, small random generators and buffer utilities.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace ctnn::test::adcheck {

// ---- REFERENCE.md, "Recommended tolerances", primitives -------------------------------------
//   values: |a - e| <= 1e-12 |e|   (plus the smallest normal double, so that an exact 0 can match 0)
//   vjps:   |a - e| <= 1e-12 |e| + 4.4e-16 |u|
// `uscale[i]` is the |u| that goes with component i (see the callers). NaN/Inf in `a` fail.
inline constexpr double kRel = 1e-12;
inline constexpr double kUAbs = 4.4e-16;
inline constexpr double kTiny = std::numeric_limits<double>::min();

inline bool close_rule(const double* a, const std::vector<double>& e, const std::vector<double>& abs_tol,
                       std::string* why) {
  bool ok = true;
  std::size_t bad = 0, worst = 0;
  double worst_ratio = -1;
  for (std::size_t i = 0; i < e.size(); ++i) {
    const double tol = kRel * std::abs(e[i]) + abs_tol[i];
    const double d = std::abs(a[i] - e[i]);
    const bool fine = std::isfinite(a[i]) && d <= tol;
    const double ratio = fine ? d / (tol > 0 ? tol : 1) : std::numeric_limits<double>::infinity();
    if (!fine) {
      ok = false;
      ++bad;
    }
    if (ratio > worst_ratio) {
      worst_ratio = ratio;
      worst = i;
    }
  }
  if (why && !e.empty()) {
    char buf[320];
    std::snprintf(buf, sizeof buf, "worst [%zu]: actual %.17g expected %.17g diff %.3g tol %.3g; %zu outside", worst,
                  a[worst], e[worst], std::abs(a[worst] - e[worst]), kRel * std::abs(e[worst]) + abs_tol[worst],
                  bad);
    *why = buf;
  }
  return ok;
}

/// Values of a primitive against the reference (exact where given).
inline bool close_value(const double* a, const std::vector<double>& e, std::string* why) {
  return close_rule(a, e, std::vector<double>(e.size(), kTiny), why);
}
/// A vjp against the reference; uscale[i] is |u| for component i.
inline bool close_vjp(const double* a, const std::vector<double>& e, const std::vector<double>& uscale,
                      std::string* why) {
  std::vector<double> t(e.size());
  for (std::size_t i = 0; i < e.size(); ++i) t[i] = kUAbs * uscale[i] + kTiny;
  return close_rule(a, e, t, why);
}

// ---- helpers ---------------------------------------------------------------------------------
inline std::vector<double> abs_of(const std::vector<double>& v) {
  std::vector<double> r(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) r[i] = std::abs(v[i]);
  return r;
}

inline bool all_finite(const double* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i])) return false;
  return true;
}
inline bool all_finite(const float* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i])) return false;
  return true;
}

/// Deterministic uniform numbers in [lo, hi).
class Rng {
 public:
  explicit Rng(unsigned seed) : g_(seed) {}
  double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(g_); }
  std::vector<double> uniform(std::size_t n, double lo, double hi) {
    std::vector<double> v(n);
    for (auto& x : v) x = uniform(lo, hi);
    return v;
  }
  /// Uniform in [lo, hi) but at least `gap` away from every point in `kinks`.
  template <class Kinks>
  double away_from(double lo, double hi, const Kinks& kinks, double gap) {
    for (;;) {
      const double x = uniform(lo, hi);
      bool ok = true;
      for (double k : kinks) ok = ok && std::abs(x - k) >= gap;
      if (ok) return x;
    }
  }

 private:
  std::mt19937_64 g_;
};

/// A NaN-filled gradient buffer: a leaf gradient that is never written stays NaN and fails.
inline std::vector<double> nan_buffer(std::size_t n) {
  return std::vector<double>(n, std::numeric_limits<double>::quiet_NaN());
}

}  // namespace ctnn::test::adcheck
