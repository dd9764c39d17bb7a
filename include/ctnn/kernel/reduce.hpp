// ctnn/kernel/reduce.hpp: reductions over N contiguous elements (compile-time N) with several
// independent accumulators, so long sums run at FMA throughput, not latency.
// Padding lanes never enter a result: the tail is loaded with neutral elements.
// Layer: kernel.
#pragma once
#include <cstddef>
#include <limits>

#include "ctnn/kernel/simd.hpp"

namespace ctnn::kernel {

template <std::size_t N, class T>
CTNN_INLINE T sum(const T* CTNN_RESTRICT p) noexcept {
  if constexpr (simd::has_batch<T> && N >= simd::width<T>) {
    constexpr std::size_t W = simd::width<T>;
    constexpr std::size_t U = N >= 4 * W ? 4 : 1;  // independent accumulators
    simd::batch<T> acc[U];
    for (std::size_t u = 0; u < U; ++u) acc[u] = simd::batch<T>(T(0));
    std::size_t i = 0;
    for (; i + U * W <= N; i += U * W)
      for (std::size_t u = 0; u < U; ++u) acc[u] += simd::load(p + i + u * W);
    for (; i + W <= N; i += W) acc[0] += simd::load(p + i);
    if constexpr (N % W != 0) acc[0] += simd::load_partial<N % W>(p + N / W * W);
    for (std::size_t u = 1; u < U; ++u) acc[0] += acc[u];
    return simd::hsum(acc[0]);
  } else {
    T s = T(0);
    for (std::size_t i = 0; i < N; ++i) s += p[i];
    return s;
  }
}

template <std::size_t N, class T>
CTNN_INLINE T max(const T* CTNN_RESTRICT p) noexcept {
  static_assert(N > 0);
  T m = p[0];
  for (std::size_t i = 1; i < N; ++i) m = p[i] > m ? p[i] : m;
  return m;
}

template <std::size_t N, class T>
CTNN_INLINE T dot(const T* CTNN_RESTRICT a, const T* CTNN_RESTRICT b) noexcept {
  if constexpr (simd::has_batch<T> && N >= simd::width<T>) {
    constexpr std::size_t W = simd::width<T>;
    simd::batch<T> acc(T(0));
    std::size_t i = 0;
    for (; i + W <= N; i += W) acc = simd::fma(simd::load(a + i), simd::load(b + i), acc);
    if constexpr (N % W != 0)
      acc = simd::fma(simd::load_partial<N % W>(a + i), simd::load_partial<N % W>(b + i), acc);
    return simd::hsum(acc);
  } else {
    T s = T(0);
    for (std::size_t i = 0; i < N; ++i) s += a[i] * b[i];
    return s;
  }
}

}  // namespace ctnn::kernel
