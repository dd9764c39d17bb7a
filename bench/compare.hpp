// bench/compare.hpp: the benchmarks' correctness gate — compares a float (or double) result with the
// double-precision reference and prints what differs. Shared by bench_foundation and bench/peers.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <span>

namespace bench {

// Each value must satisfy |got − want| <= 1e-5·|want| + 1e-6. Prints "ok ..." or the first mismatches.
template <class T>
bool compare(const char* what, std::span<const double> want, std::span<const T> got) {
  if (want.size() != got.size()) {
    std::printf("MISMATCH %s: size %zu (want %zu)\n", what, got.size(), want.size());
    return false;
  }
  std::size_t bad = 0;
  double max_rel = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double w = want[i], g = static_cast<double>(got[i]);
    const double err = std::abs(g - w);
    max_rel = std::max(max_rel, err / std::max(std::abs(w), 1e-30));
    if (!(err <= 1e-5 * std::abs(w) + 1e-6)) {
      if (bad < 10) std::printf("MISMATCH %s[%zu]: got %.9g want %.9g (abs err %.3g)\n", what, i, g, w, err);
      ++bad;
    }
  }
  if (bad) std::printf("MISMATCH %s: %zu of %zu values differ\n", what, bad, want.size());
  else std::printf("ok  %-32s %7zu values, max rel err %.2e\n", what, want.size(), max_rel);
  return bad == 0;
}

inline bool compare_scalar(const char* what, double want, double got) {
  const double w[1] = {want}, g[1] = {got};
  return compare<double>(what, w, g);
}

}  // namespace bench
