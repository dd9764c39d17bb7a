// tests/kernel/test_reduce.cpp: the reductions of kernel/reduce.hpp (max, sum, dot) over N floats
// and doubles, N = 1..40 (every full-batch count and every tail, including the 4 + rest split),
// against scalar references. max is checked with the largest element at every position, on rows
// that are all negative (a zero in a padding lane would win), with -inf and with equal elements.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

#include "ctnn/kernel/reduce.hpp"

namespace {

template <class T, std::size_t N>
void check_max() {
  std::vector<T> v(N + 8);  // past the end: larger values that must not be read
  for (std::size_t at = 0; at < N; ++at) {
    for (std::size_t i = 0; i < N; ++i) v[i] = static_cast<T>(-3.0 - 0.25 * static_cast<double>((i * 7) % N));
    for (std::size_t i = N; i < v.size(); ++i) v[i] = T(100);
    v[at] = T(-1.5);
    INFO("N " << N << ", the maximum at " << at);
    CHECK(ctnn::kernel::max<N>(v.data()) == T(-1.5));
    v[at] = -std::numeric_limits<T>::infinity();  // the max is then the largest of the rest
    T want = -std::numeric_limits<T>::infinity();
    for (std::size_t i = 0; i < N; ++i) want = v[i] > want ? v[i] : want;
    CHECK(ctnn::kernel::max<N>(v.data()) == want);
  }
  for (std::size_t i = 0; i < N; ++i) v[i] = T(-2);
  CHECK(ctnn::kernel::max<N>(v.data()) == T(-2));
}

template <class T, std::size_t N>
void check_sum_dot() {
  std::vector<T> a(N), b(N);
  double s = 0, d = 0, mag = 0;
  for (std::size_t i = 0; i < N; ++i) {
    a[i] = static_cast<T>(std::sin(0.7 * static_cast<double>(i) + 0.3));
    b[i] = static_cast<T>(std::cos(0.3 * static_cast<double>(i) + 0.1));
    s += static_cast<double>(a[i]);
    d += static_cast<double>(a[i]) * static_cast<double>(b[i]);
    mag += 1;
  }
  const double eps = std::is_same_v<T, float> ? 1e-6 : 1e-15;
  INFO("N " << N);
  CHECK(std::abs(static_cast<double>(ctnn::kernel::sum<N>(a.data())) - s) <= eps * mag);
  CHECK(std::abs(static_cast<double>(ctnn::kernel::dot<N>(a.data(), b.data())) - d) <= eps * mag);
}

template <class T, std::size_t... N>
void check_all(std::index_sequence<N...>) {
  (check_max<T, N + 1>(), ...);
  (check_sum_dot<T, N + 1>(), ...);
}

}  // namespace

TEST_CASE("kernel::max, sum, dot over 1..40 floats: every position of the maximum, all-negative rows, -inf") {
  check_all<float>(std::make_index_sequence<40>{});
}
TEST_CASE("kernel::max, sum, dot over 1..40 doubles") { check_all<double>(std::make_index_sequence<40>{}); }
