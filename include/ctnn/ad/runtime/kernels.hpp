// ctnn/ad/runtime/kernels.hpp: the kernels of kernel/ (map, fill, scale, sum, max, dot, gemm_nt,
// gemm_nn, gemm_tn) with sizes known only at run time, for the runtime tape. kernel/ takes
// compile-time sizes only, so these loops are written here; each one performs, element by
// element, the same floating-point operations in the same order as its compile-time twin (same
// batch width, same accumulator count and tail handling, same horizontal adds, the same FMA
// chains; Acc starts the broadcast GEMM's chain from C as gemm_bcast does), so a runtime pass
// over the same graph gives the static tape's numbers bit for bit where the graphs match.
// A change of operation order in kernel/ must be repeated here: tests/runtime/test_runtime_vs_static_*
// compare both tapes bit for bit. gemm_nt does not repeat kernel/'s tiles: it calls them (generic
// nt_tile for any type; for float the 512-bit ones on AVX-512, nt_tile_k4 and nt_tile_blocked on
// AVX), which take K and strides as arguments, under the same rules in the same order, so they are
// the same code. Not needed here: the fused training step's scaled products (the runtime tape has
// none).
// Layer: ad (runtime tape; includes kernel/ only).
#pragma once
#include <cstddef>
#include <type_traits>
#include <utility>

#include "ctnn/kernel/gemm.hpp"
#include "ctnn/kernel/simd.hpp"

namespace ctnn::ad::runtime::kernel {

namespace detail {
namespace kd = ctnn::kernel::detail;
/// One row of kernel::gemm_nt's generic rule with run-time sizes: kernel's nt_tile over W columns at a
/// time, then over the last N % W columns as one tile (its width picked at run time from 1..W-1), so
/// every output is the same chain and the same fold as in the compile-time product.
template <bool Acc, class T, std::size_t... R>
inline void gemm_nt_row(std::size_t N, std::size_t Nf, std::size_t K, const T* CTNN_RESTRICT a, const T* CTNN_RESTRICT B,
                        T* CTNN_RESTRICT c, std::index_sequence<R...>) noexcept {
  constexpr std::size_t W = simd::width<T>;
  for (std::size_t n0 = 0; n0 < Nf; n0 += W) kd::nt_tile<1, W, Acc, false>(a, B + n0 * K, c + n0, N, T(1), K);
  const std::size_t rest = N - Nf;
  (void)((rest == R + 1 && (kd::nt_tile<1, R + 1, Acc, false>(a, B + Nf * K, c + Nf, N, T(1), K), true)) || ...);
}
#if defined(__AVX__)
/// A dot-product product on a tile family (Tile::run<mr, nr>: kernel's nt_tile_k4, its 3 x 4
/// register-blocked nt_tile_blocked, or nt_tile_wide): rows MR at a time, then one at a time;
/// columns in the widths Nr... (the largest first), each as far as it fits, the last width 1. Each
/// output is one chain over k, folded the same way in every tile of a family, so the numbers are
/// kernel's.
template <class Tile, std::size_t MR, std::size_t... Nr>
inline void gemm_nt_tiles(std::size_t M, std::size_t N, std::size_t K, const float* CTNN_RESTRICT A,
                          const float* CTNN_RESTRICT B, float* CTNN_RESTRICT C) noexcept {
  const std::size_t Mf = M / MR * MR;
  std::size_t n0 = 0;
  auto cols = [&]<std::size_t nr>() {
    for (; n0 + nr <= N; n0 += nr) {
      for (std::size_t m0 = 0; m0 < Mf; m0 += MR)
        Tile::template run<MR, nr>(A + m0 * K, B + n0 * K, C + m0 * N + n0, N, K);
      for (std::size_t m0 = Mf; m0 < M; ++m0) Tile::template run<1, nr>(A + m0 * K, B + n0 * K, C + m0 * N + n0, N, K);
    }
  };
  (cols.template operator()<Nr>(), ...);
}
/// kernel::gemm_nt's 128-bit path for K <= 4 (nt_tile_k4): rows one at a time, columns 4 at a time
/// and then one at a time (each output is summed the same way in either tile).
template <bool Acc>
struct K4Tile {
  template <std::size_t mr, std::size_t nr>
  static void run(const float* A, const float* B, float* C, std::size_t, std::size_t K) noexcept {
    static_assert(mr == 1);
    kd::nt_tile_k4<nr, Acc, false>(A, B, C, 1.0f, K);
  }
};
template <bool Acc>
struct BlockedTile {
  template <std::size_t mr, std::size_t nr>
  static void run(const float* A, const float* B, float* C, std::size_t ldc, std::size_t K) noexcept {
    kd::nt_tile_blocked<mr, nr, Acc, false>(A, B, C, ldc, 1.0f, K);
  }
};
#endif
#if defined(CTNN_SIMD_512)
/// kernel::gemm_nt's 512-bit path (gemm_nt_wide) with run-time sizes. Every output is one chain over
/// k and is folded by hsum8_wide in a full group of 8 columns and by hsum_wide otherwise, whatever
/// the tile's rows and columns (kernel/gemm.hpp, nt_tile_wide); so columns go 8 at a time as
/// kernel's blocks do, then 4 and 1 at a time (its last block of N % 8 columns), with the same
/// numbers and six tile shapes per Acc.
template <bool Acc>
struct WideTile {
  template <std::size_t mr, std::size_t nr>
  static void run(const float* A, const float* B, float* C, std::size_t ldc, std::size_t K) noexcept {
    kd::nt_tile_wide<mr, nr, Acc, false>(A, B, C, ldc, 1.0f, K);
  }
};
/// kernel's gemm_bcast_wide with run-time sizes and strides: every output is one chain over k
/// (from C when accumulating), whatever the tile's shape; panels of 48 columns, then 16 (the last
/// one masked), rows 8 at a time, then one at a time.
template <bool Acc>
inline void gemm_bcast_wide(std::size_t M, std::size_t N, std::size_t K, std::size_t sam, std::size_t sak,
                            const float* CTNN_RESTRICT A, const float* CTNN_RESTRICT B, float* CTNN_RESTRICT C) noexcept {
  const std::size_t Mf = M / 8 * 8, N48 = N / 48 * 48;
  auto panel = [&]<std::size_t nv>(std::size_t n0, std::size_t last) {
    for (std::size_t m0 = 0; m0 < Mf; m0 += 8)
      kd::bcast_tile_wide<8, nv, Acc, false>(A + m0 * sam, B + n0, C + m0 * N + n0, 1.0f, N, K, sam, sak, last);
    for (std::size_t m0 = Mf; m0 < M; ++m0)
      kd::bcast_tile_wide<1, nv, Acc, false>(A + m0 * sam, B + n0, C + m0 * N + n0, 1.0f, N, K, sam, sak, last);
  };
  for (std::size_t n0 = 0; n0 < N48; n0 += 48) panel.template operator()<3>(n0, 16);
  for (std::size_t n0 = N48; n0 < N; n0 += 16) panel.template operator()<1>(n0, N - n0 < 16 ? N - n0 : 16);
}
#endif
}  // namespace detail

/// out[i] (=|+=) f(in[i]...) for i < n (kernel::map).
template <bool Acc = false, class T, class F, class... In>
CTNN_INLINE void map(std::size_t n, F&& f, T* CTNN_RESTRICT out, const In*... in) noexcept {
  if constexpr (simd::has_batch<T>) {
    constexpr std::size_t W = simd::width<T>;
    const std::size_t full = n / W * W;
    for (std::size_t i = 0; i < full; i += W) {
      auto v = f(simd::load(in + i)...);
      if constexpr (Acc) v += simd::load(out + i);
      simd::store(out + i, v);
    }
    if (const std::size_t r = n % W; r != 0) {
      // Every partial load (a branch on r) comes before f, so f's last product and the += sit in
      // one basic block and are fused into an FMA as in kernel::map's compile-time tail.
      const simd::batch<T> prev = Acc ? simd::load_partial_r(out + full, r) : simd::batch<T>(T(0));
      auto v = f(simd::load_partial_r(in + full, r)...);
      if constexpr (Acc) v += prev;
      simd::store_partial_r(out + full, v, r);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      if constexpr (Acc) out[i] += f(in[i]...);
      else out[i] = f(in[i]...);
    }
  }
}
template <class T, class F, class... In>
CTNN_INLINE void map(bool acc, std::size_t n, F&& f, T* CTNN_RESTRICT out, const In*... in) noexcept {
  if (acc) map<true>(n, f, out, in...);
  else map<false>(n, f, out, in...);
}

/// out[i] (=|+=) value (kernel::fill).
template <class T>
CTNN_INLINE void fill(bool acc, std::size_t n, T* CTNN_RESTRICT out, T value) noexcept {
  if constexpr (simd::has_batch<T>) {
    constexpr std::size_t W = simd::width<T>;
    const simd::batch<T> v(value);
    for (std::size_t i = 0; i + W <= n; i += W) simd::store(out + i, acc ? v + simd::load(out + i) : v);
    if (const std::size_t r = n % W; r != 0) {
      const std::size_t at = n / W * W;
      simd::store_partial_r(out + at, acc ? v + simd::load_partial_r(out + at, r) : v, r);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = acc ? out[i] + value : value;
  }
}

/// p[i] *= s (kernel::scale_inplace).
template <class T>
CTNN_INLINE void scale_inplace(std::size_t n, T* p, T s) noexcept {
  if constexpr (simd::has_batch<T>) {
    constexpr std::size_t W = simd::width<T>;
    const simd::batch<T> v(s);
    for (std::size_t i = 0; i + W <= n; i += W) simd::store(p + i, simd::load(p + i) * v);
    if (const std::size_t r = n % W; r != 0) {
      const std::size_t at = n / W * W;
      simd::store_partial_r(p + at, simd::load_partial_r(p + at, r) * v, r);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) p[i] *= s;
  }
}

/// Σ p[i] (kernel::sum: four accumulators from 4 batches on, the tail loaded with zeros).
template <class T>
CTNN_INLINE T sum(std::size_t n, const T* CTNN_RESTRICT p) noexcept {
  if constexpr (simd::has_batch<T>) {
    constexpr std::size_t W = simd::width<T>;
    if (n >= W) {
      const std::size_t U = n >= 4 * W ? 4 : 1;
      simd::batch<T> acc[4];
      for (std::size_t u = 0; u < U; ++u) acc[u] = simd::batch<T>(T(0));
      std::size_t i = 0;
      for (; i + U * W <= n; i += U * W)
        for (std::size_t u = 0; u < U; ++u) acc[u] += simd::load(p + i + u * W);
      for (; i + W <= n; i += W) acc[0] += simd::load(p + i);
      if (n % W != 0) acc[0] += simd::load_partial_r(p + n / W * W, n % W);
      for (std::size_t u = 1; u < U; ++u) acc[0] += acc[u];
      return simd::hsum(acc[0]);
    }
  }
  T s = T(0);
  for (std::size_t i = 0; i < n; ++i) s += p[i];
  return s;
}

/// max p[i], n > 0 (kernel::max).
template <class T>
CTNN_INLINE T max(std::size_t n, const T* CTNN_RESTRICT p) noexcept {
  T m = p[0];
  for (std::size_t i = 1; i < n; ++i) m = p[i] > m ? p[i] : m;
  return m;
}

/// Σ a[i] b[i] (kernel::dot: one FMA chain, the tail loaded with zeros).
template <class T>
CTNN_INLINE T dot(std::size_t n, const T* CTNN_RESTRICT a, const T* CTNN_RESTRICT b) noexcept {
  if constexpr (simd::has_batch<T>) {
    constexpr std::size_t W = simd::width<T>;
    if (n >= W) {
      simd::batch<T> acc(T(0));
      std::size_t i = 0;
      for (; i + W <= n; i += W) acc = simd::fma(simd::load(a + i), simd::load(b + i), acc);
      if (n % W != 0) acc = simd::fma(simd::load_partial_r(a + i, n % W), simd::load_partial_r(b + i, n % W), acc);
      return simd::hsum(acc);
    }
  }
  T s = T(0);
  for (std::size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

/// C[M,N] (=|+=) A[M,K] B[N,K]ᵀ (kernel::gemm_nt: one FMA chain per output over K, folded by
/// haddp per group of `width` outputs, or hadd for a lone last output).
template <class T>
inline void gemm_nt(bool acc, std::size_t M, std::size_t N, std::size_t K, const T* CTNN_RESTRICT A,
                    const T* CTNN_RESTRICT B, T* CTNN_RESTRICT C) noexcept {
#if defined(CTNN_SIMD_512)
  if constexpr (std::is_same_v<T, float>) {
    if (ctnn::kernel::detail::wide_nt(M, N, K)) {
      if (acc) detail::gemm_nt_tiles<detail::WideTile<true>, 3, 8, 4, 1>(M, N, K, A, B, C);
      else detail::gemm_nt_tiles<detail::WideTile<false>, 3, 8, 4, 1>(M, N, K, A, B, C);
      return;
    }
  }
#endif
#if defined(__AVX__)
  if constexpr (std::is_same_v<T, float>) {  // kernel::gemm_nt's next two rules, in its order
    if (K <= 4) {
      if (acc) detail::gemm_nt_tiles<detail::K4Tile<true>, 1, 4, 1>(M, N, K, A, B, C);
      else detail::gemm_nt_tiles<detail::K4Tile<false>, 1, 4, 1>(M, N, K, A, B, C);
      return;
    }
    if (simd::width<T> == 8 && M >= 3 && K >= 16) {
      if (acc) detail::gemm_nt_tiles<detail::BlockedTile<true>, 3, 4, 1>(M, N, K, A, B, C);
      else detail::gemm_nt_tiles<detail::BlockedTile<false>, 3, 4, 1>(M, N, K, A, B, C);
      return;
    }
  }
#endif
  if constexpr (!simd::has_batch<T>) {
    for (std::size_t m = 0; m < M; ++m)
      for (std::size_t n = 0; n < N; ++n) {
        T s = T(0);
        for (std::size_t k = 0; k < K; ++k) s += A[m * K + k] * B[n * K + k];
        if (acc) C[m * N + n] += s;
        else C[m * N + n] = s;
      }
  } else {  // kernel::gemm_nt's generic rule: rows one at a time, columns W at a time, then the rest
    constexpr std::size_t W = simd::width<T>;
    const std::size_t Nf = N / W * W;
    for (std::size_t m = 0; m < M; ++m) {
      if (acc) detail::gemm_nt_row<true>(N, Nf, K, A + m * K, B, C + m * N, std::make_index_sequence<W - 1>{});
      else detail::gemm_nt_row<false>(N, Nf, K, A + m * K, B, C + m * N, std::make_index_sequence<W - 1>{});
    }
  }
}

/// C[M,N] (=|+=) Σ_k opA[m,k] B[k,N] with opA[m,k] = A[m·sam + k·sak] (kernel's gemm_bcast: per
/// output one FMA chain over k, started from C when accumulating).
template <class T>
inline void gemm_bcast(bool acc, std::size_t M, std::size_t N, std::size_t K, std::size_t sam, std::size_t sak,
                       const T* CTNN_RESTRICT A, const T* CTNN_RESTRICT B, T* CTNN_RESTRICT C) noexcept {
#if defined(CTNN_SIMD_512)
  if constexpr (std::is_same_v<T, float>) {
    if (ctnn::kernel::detail::wide_bcast(M, N, K)) {
      if (acc) detail::gemm_bcast_wide<true>(M, N, K, sam, sak, A, B, C);
      else detail::gemm_bcast_wide<false>(M, N, K, sam, sak, A, B, C);
      return;
    }
  }
#endif
  if constexpr (!simd::has_batch<T>) {
    for (std::size_t m = 0; m < M; ++m)
      for (std::size_t n = 0; n < N; ++n) {
        T s = T(0);
        for (std::size_t k = 0; k < K; ++k) s += A[m * sam + k * sak] * B[k * N + n];
        if (acc) C[m * N + n] += s;
        else C[m * N + n] = s;
      }
  } else {
    using V = simd::batch<T>;
    constexpr std::size_t W = simd::width<T>;
    constexpr std::size_t NV = 4;  // vectors of C held in registers per pass over k
    const std::size_t Nf = N / W * W, nr = N % W;
    for (std::size_t m = 0; m < M; ++m) {
      const T* a = A + m * sam;
      T* c = C + m * N;
      std::size_t n0 = 0;
      for (; n0 + NV * W <= Nf; n0 += NV * W) {
        V s[NV];
        for (std::size_t j = 0; j < NV; ++j) s[j] = acc ? simd::load(c + n0 + j * W) : V(T(0));
        for (std::size_t k = 0; k < K; ++k) {
          const V av(a[k * sak]);
          for (std::size_t j = 0; j < NV; ++j) s[j] = simd::fma(av, simd::load(B + k * N + n0 + j * W), s[j]);
        }
        for (std::size_t j = 0; j < NV; ++j) simd::store(c + n0 + j * W, s[j]);
      }
      for (; n0 < Nf; n0 += W) {
        V s = acc ? simd::load(c + n0) : V(T(0));
        for (std::size_t k = 0; k < K; ++k) s = simd::fma(V(a[k * sak]), simd::load(B + k * N + n0), s);
        simd::store(c + n0, s);
      }
      if (nr != 0) {
        V s = acc ? simd::load_partial_r(c + Nf, nr) : V(T(0));
        for (std::size_t k = 0; k < K; ++k) s = simd::fma(V(a[k * sak]), simd::load_partial_r(B + k * N + Nf, nr), s);
        simd::store_partial_r(c + Nf, s, nr);
      }
    }
  }
}
/// C[M,N] (=|+=) A[M,K] B[K,N] (kernel::gemm_nn).
template <class T>
CTNN_INLINE void gemm_nn(bool acc, std::size_t M, std::size_t N, std::size_t K, const T* A, const T* B, T* C) noexcept {
  gemm_bcast(acc, M, N, K, K, 1, A, B, C);
}
/// C[M,N] (=|+=) A[K,M]ᵀ B[K,N] (kernel::gemm_tn).
template <class T>
CTNN_INLINE void gemm_tn(bool acc, std::size_t M, std::size_t N, std::size_t K, const T* A, const T* B, T* C) noexcept {
  gemm_bcast(acc, M, N, K, 1, M, A, B, C);
}

}  // namespace ctnn::ad::runtime::kernel
