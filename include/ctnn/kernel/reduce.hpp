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

#if defined(CTNN_SIMD_256)
namespace detail {
// Lanes L.. of a 128-bit vector of L valid floats set to lane 0 (a max over the vector is then the
// max of the L floats).
template <std::size_t L>
CTNN_INLINE __m128 fill_from_lane0(__m128 v) noexcept {
  if constexpr (L == 1) return _mm_shuffle_ps(v, v, _MM_SHUFFLE(0, 0, 0, 0));
  else if constexpr (L == 2) return _mm_movelh_ps(v, v);
  else if constexpr (L == 3) return _mm_shuffle_ps(v, v, _MM_SHUFFLE(0, 2, 1, 0));
  else return v;
}
}  // namespace detail
#endif

/// The largest of N elements. Floats (N >= 4, 256-bit builds) are read in the pieces an element-wise
/// pass stores them (256-bit batches, then 4 and the rest; see simd::split_tail), so the loads are
/// store-forwarded, and reduced as a tree (a softmax's row maximum is on a training step's path).
template <std::size_t N, class T>
CTNN_INLINE T max(const T* CTNN_RESTRICT p) noexcept {
  static_assert(N > 0);
#if defined(CTNN_SIMD_256)
  if constexpr (std::is_same_v<T, float> && simd::width<T> == 8 && N >= 4) {
    constexpr std::size_t Nf = N / 8 * 8, r = N % 8;
    __m128 m;
    if constexpr (Nf > 0) {
      __m256 v = _mm256_loadu_ps(p);
      for (std::size_t i = 8; i < Nf; i += 8) v = _mm256_max_ps(v, _mm256_loadu_ps(p + i));
      m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
      if constexpr (r >= 4) m = _mm_max_ps(m, _mm_loadu_ps(p + Nf));
    } else {
      m = _mm_loadu_ps(p);  // r >= 4
    }
    constexpr std::size_t rest = r >= 4 ? r - 4 : r, at = N - rest;
    if constexpr (rest > 0) m = _mm_max_ps(m, detail::fill_from_lane0<rest>(simd::detail::load_lt4<rest>(p + at)));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
  } else
#endif
  {
    T m = p[0];
    for (std::size_t i = 1; i < N; ++i) m = p[i] > m ? p[i] : m;
    return m;
  }
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

/// Whether all n values are finite: x - x is 0 for a finite x and NaN for Inf or NaN, so one SIMD
/// sum of them is 0 exactly when every value is finite (a branch-free pass; the training loops'
/// check of every step's gradient).
template <class T>
bool all_finite(const T* p, std::size_t n) noexcept {
  std::size_t k = 0;
  T tail = 0;
  if constexpr (simd::has_batch<T>) {
    constexpr std::size_t W = simd::width<T>;
    simd::batch<T> acc(T(0));
    for (; k + W <= n; k += W) {
      const auto v = simd::load(p + k);
      acc += v - v;
    }
    tail = xsimd::hadd(acc);
  }
  for (; k < n; ++k) tail += p[k] - p[k];
  return tail == T(0);
}

}  // namespace ctnn::kernel
