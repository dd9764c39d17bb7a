// ctnn/kernel/gemm.hpp: fixed-size matrix products on SIMD batches, register-blocked with
// compile-time trip counts (small sizes unroll completely; large ones run blocked loops, so a
// 784x128 layer does not blow up code size). All matrices are row-major and contiguous.
//
//   gemm_nt<M,N,K>(A[M,K], B[N,K], C[M,N]):  C = A Bᵀ   (dot-product form: a Dense forward X Wᵀ)
//   gemm_nn<M,N,K>(A[M,K], B[K,N], C[M,N]):  C = A B    (broadcast form: dX = dZ W)
//   gemm_tn<M,N,K>(A[K,M], B[K,N], C[M,N]):  C = Aᵀ B   (broadcast form: dW = dZᵀ X; outer product when K = 1)
//   gemv = gemm_nt with M = 1, gemv_t = gemm_nn with M = 1, outer = gemm_tn with K = 1.
// Acc = true adds into C instead of overwriting it; Scaled = true multiplies the product by alpha
// first (C += alpha·A·B: a fused training step applies −lr·gradient in the kernel that makes it).
// Layer: kernel.
#pragma once
#include <cstddef>
#include <type_traits>

#include "ctnn/kernel/simd.hpp"

namespace ctnn::kernel {

namespace detail {

#if defined(CTNN_SIMD_256) && defined(__FMA__)
// The dot product of a tail of 4 + r floats (r = 1..3; a constant in compile-time kernels), as 4
// lanes and the rest, as an element-wise pass stores them (map's split tail): their loads are
// then store-forwarded as they are, with no 256-bit vector to assemble (and zero-pad) from them,
// and the sum is a 128-bit one. On the 4-5-1 training step's critical path (its output layer).
CTNN_INLINE float dot_tail4(const float* a, const float* b, std::size_t r) noexcept {
  __m128 p = _mm_mul_ps(_mm_loadu_ps(a), _mm_loadu_ps(b));
  if (r == 3) p = _mm_fmadd_ps(simd::detail::load_lt4<3>(a + 4), simd::detail::load_lt4<3>(b + 4), p);
  if (r == 2) p = _mm_fmadd_ps(simd::detail::load_lt4<2>(a + 4), simd::detail::load_lt4<2>(b + 4), p);
  float s = _mm_cvtss_f32(simd::hsum_lane0(p));
  if (r == 1) s = std::fma(a[4], b[4], s);
  return s;
}
#endif

// C[i, 0..nr) (=|+=) A[i, :] · B[j, :] for i < mr, j < nr <= W: one accumulator per output, then
// haddp folds W accumulators into one batch of W sums, stored as one vector (a partial one for
// nr < W), so the next node's vector loads are store-forwarded. K is an argument (a constant in
// kernel's products, which inline it; a run-time size in ad/runtime/kernels.hpp's).
template <std::size_t mr, std::size_t nr, bool Acc, bool Scaled, class T>
CTNN_INLINE void nt_tile(const T* CTNN_RESTRICT A, const T* CTNN_RESTRICT B, T* CTNN_RESTRICT C,
                         std::size_t ldc, T alpha, std::size_t K) noexcept {
  using V = simd::batch<T>;
  constexpr std::size_t W = simd::width<T>;
  static_assert(nr <= W);
  V acc[mr][nr];
  for (std::size_t i = 0; i < mr; ++i)
    for (std::size_t j = 0; j < nr; ++j) acc[i][j] = V(T(0));
  const std::size_t Kf = K / W * W, kr = K % W;
  for (std::size_t k = 0; k < Kf; k += W) {
    V b[nr];
    for (std::size_t j = 0; j < nr; ++j) b[j] = simd::load(B + j * K + k);
    for (std::size_t i = 0; i < mr; ++i) {
      const V a = simd::load(A + i * K + k);
      for (std::size_t j = 0; j < nr; ++j) acc[i][j] = simd::fma(a, b[j], acc[i][j]);
    }
  }
#if defined(CTNN_SIMD_256) && defined(__FMA__)
  if constexpr (nr == 1 && simd::split_tail<T, 5>) {
    if (kr > 4) {  // a tail of 5..7 floats: see dot_tail4
      for (std::size_t i = 0; i < mr; ++i) {
        float s = dot_tail4(A + i * K + Kf, B + Kf, kr - 4);
        if (Kf > 0) s += simd::hsum(acc[i][0]);
        if constexpr (Scaled) s *= alpha;
        if constexpr (Acc) C[i * ldc] += s;
        else C[i * ldc] = s;
      }
      return;
    }
  }
#endif
  if (kr != 0) {
    V b[nr];
    for (std::size_t j = 0; j < nr; ++j) b[j] = simd::load_partial_r(B + j * K + Kf, kr);
    for (std::size_t i = 0; i < mr; ++i) {
      const V a = simd::load_partial_r(A + i * K + Kf, kr);
      for (std::size_t j = 0; j < nr; ++j) acc[i][j] = simd::fma(a, b[j], acc[i][j]);
    }
  }
  if constexpr (nr == 1) {  // one output per row: a plain horizontal sum
    for (std::size_t i = 0; i < mr; ++i) {
      const T s = Scaled ? alpha * simd::hsum(acc[i][0]) : simd::hsum(acc[i][0]);
      if constexpr (Acc) C[i * ldc] += s;
      else C[i * ldc] = s;
    }
    return;
  }
  for (std::size_t i = 0; i < mr; ++i) {
    V parts[W];
    for (std::size_t j = 0; j < W; ++j) parts[j] = j < nr ? acc[i][j] : V(T(0));
    V s = simd::haddp(parts);
    if constexpr (Scaled) s *= V(alpha);
    T* c = C + i * ldc;
    if constexpr (nr == W) {
      if constexpr (Acc) s += simd::load(c);
      simd::store(c, s);
    } else {
      if constexpr (Acc) s += simd::load_partial<nr>(c);
      simd::store_partial<nr>(c, s);
    }
  }
}

#if defined(__AVX__)
// Sums of four float vectors, lane i = sum of p[i]'s lanes: two unpack/add rounds (latency
// 1 + 3 + 1 + 3) instead of two haddps rounds (microcoded on AMD Zen, 7 cycles each).
CTNN_INLINE __m128 hsum4(__m128 p0, __m128 p1, __m128 p2, __m128 p3) noexcept {
  const __m128 u0 = _mm_add_ps(_mm_unpacklo_ps(p0, p1), _mm_unpackhi_ps(p0, p1));  // p0 p1 p0 p1 (half sums)
  const __m128 u1 = _mm_add_ps(_mm_unpacklo_ps(p2, p3), _mm_unpackhi_ps(p2, p3));  // p2 p3 p2 p3
  return _mm_add_ps(_mm_movelh_ps(u0, u1), _mm_movehl_ps(u1, u0));
}

// C[0..nr) (=|+=) a · B[j, :] for j < nr <= 4, K <= 4 (floats): a layer narrower than a 256-bit
// batch (4 inputs) works in 128-bit registers; products are summed by hsum4, so the output is
// one short dependency chain (mul, then the two shuffle/add rounds). Every output is summed the
// same way (hsum4's lane i, or hsum_lane0 for one output: (p0 + p2) + (p1 + p3)) whatever nr is.
// K (1..4) is an argument, as for the tiles below (a constant from the compile-time products).
template <std::size_t nr, bool Acc, bool Scaled>
CTNN_INLINE void nt_tile_k4(const float* CTNN_RESTRICT a, const float* CTNN_RESTRICT B, float* CTNN_RESTRICT C,
                            float alpha, std::size_t K) noexcept {
  static_assert(nr >= 1 && nr <= 4);
  const auto load = [K](const float* p) {
    if (K == 4) return _mm_loadu_ps(p);
    if (K == 3) return simd::detail::load_lt4<3>(p);
    if (K == 2) return simd::detail::load_lt4<2>(p);
    return simd::detail::load_lt4<1>(p);
  };
  const __m128 x = load(a);
  if constexpr (nr == 1) {  // one output: a plain horizontal sum (hsum4 would add three zero rows)
    __m128 s = simd::hsum_lane0(_mm_mul_ps(x, load(B)));
    if constexpr (Scaled) s = _mm_mul_ss(s, _mm_set_ss(alpha));
    if constexpr (Acc) s = _mm_add_ss(s, _mm_load_ss(C));
    _mm_store_ss(C, s);
    return;
  }
  __m128 p[4];
  for (std::size_t j = 0; j < 4; ++j) p[j] = j < nr ? _mm_mul_ps(x, load(B + j * K)) : _mm_setzero_ps();
  __m128 s = hsum4(p[0], p[1], p[2], p[3]);
  if constexpr (Scaled) s = _mm_mul_ps(s, _mm_set1_ps(alpha));
  if constexpr (nr == 4) {
    if constexpr (Acc) s = _mm_add_ps(s, _mm_loadu_ps(C));
    _mm_storeu_ps(C, s);
  } else {
    if constexpr (Acc) s = _mm_add_ps(s, simd::detail::load_lt4<nr>(C));
    simd::detail::store_lt4<nr>(C, s);
  }
}

// C[i, 0..nr) (=|+=) A[i, :] · B[j, :] for i < mr, j < nr <= 4 (floats, 256-bit batches): the
// register-blocked dot-product tile of a batched Dense forward. mr·nr accumulators take mr + nr
// loads per mr·nr FMAs (3 x 4: 7 loads per 12 FMAs, so the FMA pipes, not the loads, set the
// pace); each row's nr sums fold 256 -> 128 bits and meet in one hsum4, stored as nr floats.
// Every output is one chain over k, folded the same way whatever mr and nr are; K is an argument
// (see nt_tile_wide).
template <std::size_t mr, std::size_t nr, bool Acc, bool Scaled>
CTNN_INLINE void nt_tile_blocked(const float* CTNN_RESTRICT A, const float* CTNN_RESTRICT B, float* CTNN_RESTRICT C,
                                 std::size_t ldc, float alpha, std::size_t K) noexcept {
  using V = simd::batch<float>;
  constexpr std::size_t W = simd::width<float>;
  static_assert(W == 8 && nr >= 1 && nr <= 4);
  V acc[mr][nr];
  for (std::size_t i = 0; i < mr; ++i)
    for (std::size_t j = 0; j < nr; ++j) acc[i][j] = V(0.0f);
  const std::size_t Kf = K / W * W;
  for (std::size_t k = 0; k < Kf; k += W) {
    V b[nr];
    for (std::size_t j = 0; j < nr; ++j) b[j] = simd::load(B + j * K + k);
    for (std::size_t i = 0; i < mr; ++i) {
      const V a = simd::load(A + i * K + k);
      for (std::size_t j = 0; j < nr; ++j) acc[i][j] = simd::fma(a, b[j], acc[i][j]);
    }
  }
  if (K % W != 0) {
    V b[nr];
    for (std::size_t j = 0; j < nr; ++j) b[j] = simd::load_partial_r(B + j * K + Kf, K % W);
    for (std::size_t i = 0; i < mr; ++i) {
      const V a = simd::load_partial_r(A + i * K + Kf, K % W);
      for (std::size_t j = 0; j < nr; ++j) acc[i][j] = simd::fma(a, b[j], acc[i][j]);
    }
  }
  for (std::size_t i = 0; i < mr; ++i) {
    __m128 h[4];
    for (std::size_t j = 0; j < 4; ++j) {
      if (j < nr) {
        const __m256 v = acc[i][j];
        h[j] = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
      } else {
        h[j] = _mm_setzero_ps();
      }
    }
    __m128 s = hsum4(h[0], h[1], h[2], h[3]);
    if constexpr (Scaled) s = _mm_mul_ps(s, _mm_set1_ps(alpha));
    float* c = C + i * ldc;
    if constexpr (nr == 4) {
      if constexpr (Acc) s = _mm_add_ps(s, _mm_loadu_ps(c));
      _mm_storeu_ps(c, s);
    } else {
      if constexpr (Acc) s = _mm_add_ps(s, simd::detail::load_lt4<nr>(c));
      simd::detail::store_lt4<nr>(c, s);
    }
  }
}
#endif

#if defined(CTNN_SIMD_512)
// Sums of nr (<= 4) 512-bit float vectors, lane i = sum of v[i]'s lanes: folded 512 -> 256 -> 128
// bits, then one hsum4.
template <std::size_t nr>
CTNN_INLINE __m128 hsum_wide(const __m512* v) noexcept {
  __m128 h[4];
  for (std::size_t j = 0; j < 4; ++j) {
    if (j < nr) {
      const __m256 y = _mm256_add_ps(_mm512_castps512_ps256(v[j]), _mm512_extractf32x8_ps(v[j], 1));
      h[j] = _mm_add_ps(_mm256_castps256_ps128(y), _mm256_extractf128_ps(y, 1));
    } else {
      h[j] = _mm_setzero_ps();
    }
  }
  return hsum4(h[0], h[1], h[2], h[3]);
}

// Sums of eight 512-bit float vectors, lane i = sum of v[i]'s lanes, by a transposing tree: pairs
// of vectors meet in one vector at every level (unpack, then 128-bit lane shuffles), 16 shuffles
// and 8 adds in all (folding each vector 512 -> 128 bits and then four at a time takes 28 and 22).
CTNN_INLINE __m256 hsum8_wide(const __m512* v) noexcept {
  __m512 t[4];
  for (std::size_t j = 0; j < 4; ++j)  // per 128-bit lane: [a0+a2, b0+b2, a1+a3, b1+b3]
    t[j] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * j], v[2 * j + 1]), _mm512_unpackhi_ps(v[2 * j], v[2 * j + 1]));
  __m512 u[2];
  for (std::size_t j = 0; j < 2; ++j)  // per 128-bit lane: [a, b, c, d] (that lane's share)
    u[j] = _mm512_add_ps(_mm512_shuffle_ps(t[2 * j], t[2 * j + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(t[2 * j], t[2 * j + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  // 128-bit lanes: [u0 L0+L1, u0 L2+L3, u1 L0+L1, u1 L2+L3], then [u0 total, u1 total].
  const __m512 w = _mm512_add_ps(_mm512_shuffle_f32x4(u[0], u[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_f32x4(u[0], u[1], _MM_SHUFFLE(3, 1, 3, 1)));
  const __m512 x = _mm512_add_ps(_mm512_shuffle_f32x4(w, w, _MM_SHUFFLE(3, 1, 2, 0)),
                                 _mm512_shuffle_f32x4(w, w, _MM_SHUFFLE(2, 0, 3, 1)));
  return _mm512_castps512_ps256(x);
}

// The dot-product tile of a large batched product on 512-bit vectors: C[i, 0..nr) (=|+=)
// A[i, :] · B[j, :] for i < mr, j < nr, K >= 16. The K tail is one masked load per row (AVX-512
// masks suppress faults past the end). mr·nr accumulators cover the FMA latency of both FMA pipes.
// K is an argument, not a template parameter: the compile-time products pass a constant (the tile
// is inlined, so the code is the same), the runtime tape's products (ad/runtime/kernels.hpp) a
// run-time size, and both get the same operations in the same order. Every output's sum is one
// chain over k whatever mr and nr are; only the fold differs, hsum8_wide for groups of 8 outputs,
// hsum_wide (the same for every n <= 4) for the rest.
template <std::size_t mr, std::size_t nr, bool Acc, bool Scaled>
CTNN_INLINE void nt_tile_wide(const float* CTNN_RESTRICT A, const float* CTNN_RESTRICT B, float* CTNN_RESTRICT C,
                              std::size_t ldc, float alpha, std::size_t K) noexcept {
  constexpr std::size_t W = 16;
  __m512 acc[mr][nr];
  const std::size_t Kf = K / W * W;
  {  // the first products start the sums (a multiply, one cycle shorter than an FMA with zero)
    __m512 a[mr];
    for (std::size_t i = 0; i < mr; ++i) a[i] = _mm512_loadu_ps(A + i * K);
    for (std::size_t j = 0; j < nr; ++j) {
      const __m512 b = _mm512_loadu_ps(B + j * K);
      for (std::size_t i = 0; i < mr; ++i) acc[i][j] = _mm512_mul_ps(a[i], b);
    }
  }
  for (std::size_t k = W; k < Kf; k += W) {
    __m512 a[mr];
    for (std::size_t i = 0; i < mr; ++i) a[i] = _mm512_loadu_ps(A + i * K + k);
    for (std::size_t j = 0; j < nr; ++j) {
      __m512 b = _mm512_loadu_ps(B + j * K + k);
#if defined(__GNUC__)
      // One load per vector of B: g++ otherwise folds the load into each of the mr FMAs that use it
      // (mr loads of the same vector; at 3 x 8, 27 loads per 24 FMAs: the load ports, not the FMAs,
      // then set the pace of a batched Dense forward).
      if constexpr (mr > 1) asm("" : "+v"(b));
#endif
      for (std::size_t i = 0; i < mr; ++i) acc[i][j] = _mm512_fmadd_ps(a[i], b, acc[i][j]);
    }
  }
  if (K % W != 0) {
    const __mmask16 m = __mmask16((1u << (K % W)) - 1);
    __m512 a[mr];
    for (std::size_t i = 0; i < mr; ++i) a[i] = _mm512_maskz_loadu_ps(m, A + i * K + Kf);
    for (std::size_t j = 0; j < nr; ++j) {
      const __m512 b = _mm512_maskz_loadu_ps(m, B + j * K + Kf);
      for (std::size_t i = 0; i < mr; ++i) acc[i][j] = _mm512_fmadd_ps(a[i], b, acc[i][j]);
    }
  }
  for (std::size_t i = 0; i < mr; ++i) {
    float* c = C + i * ldc;
    std::size_t j0 = 0;
    // Eight sums go out as one 256-bit store: the next pass (bias, activation) loads them in
    // 256-bit batches, and only a load of the stored width is store-forwarded.
    for (; j0 + 8 <= nr; j0 += 8) {
      __m256 s = hsum8_wide(acc[i] + j0);
      if constexpr (Scaled) s = _mm256_mul_ps(s, _mm256_set1_ps(alpha));
      if constexpr (Acc) s = _mm256_add_ps(s, _mm256_loadu_ps(c + j0));
      _mm256_storeu_ps(c + j0, s);
    }
    for (; j0 < nr; j0 += 4) {
      const std::size_t n = nr - j0 < 4 ? nr - j0 : 4;
      __m128 s;
      if (n == 4) s = hsum_wide<4>(acc[i] + j0);
      else if (n == 3) s = hsum_wide<3>(acc[i] + j0);
      else if (n == 2) s = hsum_wide<2>(acc[i] + j0);
      else s = hsum_wide<1>(acc[i] + j0);
      if constexpr (Scaled) s = _mm_mul_ps(s, _mm_set1_ps(alpha));
      const __mmask8 m = __mmask8((1u << n) - 1);
      if constexpr (Acc) s = _mm_add_ps(s, _mm_maskz_loadu_ps(m, c + j0));
      _mm_mask_storeu_ps(c + j0, m, s);
    }
  }
}

// The broadcast tile of a large product on 512-bit vectors: C[0..mr, 0..16·(nv−1) + last) (=|+=)
// (alpha ·) Σ_k opA[i][k] · B[k, :], opA[i][k] = A[i·SAm + k·SAk] broadcast, B's rows (N floats
// apart) loaded in nv 16-float vectors, the last one masked to `last` lanes. The sizes and strides
// are arguments (constants from the compile-time products, run-time ones from the runtime tape's;
// see nt_tile_wide): every output is one chain over k, whatever mr and nv are.
template <std::size_t mr, std::size_t nv, bool Acc, bool Scaled>
CTNN_INLINE void bcast_tile_wide(const float* CTNN_RESTRICT A, const float* CTNN_RESTRICT B, float* CTNN_RESTRICT C,
                                 float alpha, std::size_t N, std::size_t K, std::size_t SAm, std::size_t SAk,
                                 std::size_t last) noexcept {
  constexpr std::size_t W = 16;
  const __mmask16 lm = __mmask16(last == W ? 0xffffu : (1u << last) - 1);
  auto ld = [last, lm](const float* p, std::size_t j) {
    if (last == W) return _mm512_loadu_ps(p + j * W);
    else return j + 1 < nv ? _mm512_loadu_ps(p + j * W) : _mm512_maskz_loadu_ps(lm, p + j * W);
  };
  __m512 acc[mr][nv];
  if (K == 1 && Scaled && Acc) {  // outer-product update: alpha scales b (see bcast_tile)
    __m512 b[nv];
    for (std::size_t j = 0; j < nv; ++j) b[j] = _mm512_mul_ps(_mm512_set1_ps(alpha), ld(B, j));
    for (std::size_t i = 0; i < mr; ++i) {
      const __m512 a = _mm512_set1_ps(A[i * SAm]);
      for (std::size_t j = 0; j < nv; ++j) acc[i][j] = _mm512_fmadd_ps(a, b[j], ld(C + i * N, j));
    }
  } else {
    for (std::size_t i = 0; i < mr; ++i)
      for (std::size_t j = 0; j < nv; ++j) acc[i][j] = (Acc && !Scaled) ? ld(C + i * N, j) : _mm512_setzero_ps();
    for (std::size_t k = 0; k < K; ++k) {
      __m512 b[nv];
      for (std::size_t j = 0; j < nv; ++j) b[j] = ld(B + k * N, j);
      for (std::size_t i = 0; i < mr; ++i) {
        const __m512 a = _mm512_set1_ps(A[i * SAm + k * SAk]);
        for (std::size_t j = 0; j < nv; ++j) acc[i][j] = _mm512_fmadd_ps(a, b[j], acc[i][j]);
      }
    }
    if constexpr (Scaled) {
      const __m512 al = _mm512_set1_ps(alpha);
      for (std::size_t i = 0; i < mr; ++i)
        for (std::size_t j = 0; j < nv; ++j)
          acc[i][j] = Acc ? _mm512_fmadd_ps(al, acc[i][j], ld(C + i * N, j)) : _mm512_mul_ps(al, acc[i][j]);
    }
  }
  for (std::size_t i = 0; i < mr; ++i)
    for (std::size_t j = 0; j < nv; ++j) {
      if (last == W || j + 1 < nv) _mm512_storeu_ps(C + i * N + j * W, acc[i][j]);
      else _mm512_mask_storeu_ps(C + i * N + j * W, lm, acc[i][j]);
    }
}

// A large broadcast-form product on 512-bit tiles of MR rows by NV vectors: column panels outer
// (B's panel, K x 16·NV floats, stays in L1 while the row blocks pass), row blocks inner.
template <std::size_t MR, std::size_t NV, std::size_t M, std::size_t N, std::size_t K, std::size_t SAm,
          std::size_t SAk, bool Acc, bool Scaled>
CTNN_INLINE void gemm_bcast_wide(const float* CTNN_RESTRICT A, const float* CTNN_RESTRICT B, float* CTNN_RESTRICT C,
                                 float alpha) noexcept {
  constexpr std::size_t NC = NV * 16, Mf = M / MR * MR, Nf = N / NC * NC;
  // Inlined, as g++ 12 did while the tile's sizes were template parameters (left to itself it now
  // makes each column panel of, e.g., a 64-32-10 batch step's weight update a call).
  auto col_block = [&]<std::size_t nc>(std::size_t n0) CTNN_INLINE_LAMBDA {
    constexpr std::size_t nv = (nc + 15) / 16, last = nc - (nv - 1) * 16;
    for (std::size_t m0 = 0; m0 < Mf; m0 += MR)
      bcast_tile_wide<MR, nv, Acc, Scaled>(A + m0 * SAm, B + n0, C + m0 * N + n0, alpha, N, K, SAm, SAk, last);
    if constexpr (M % MR != 0)
      bcast_tile_wide<M % MR, nv, Acc, Scaled>(A + Mf * SAm, B + n0, C + Mf * N + n0, alpha, N, K, SAm, SAk, last);
  };
  for (std::size_t n0 = 0; n0 < Nf; n0 += NC) col_block.template operator()<NC>(n0);
  if constexpr (N % NC != 0) col_block.template operator()<N % NC>(Nf);
}

template <std::size_t MR, std::size_t NR, std::size_t M, std::size_t N, std::size_t K, bool Acc, bool Scaled>
CTNN_INLINE void gemm_nt_wide(const float* CTNN_RESTRICT A, const float* CTNN_RESTRICT B, float* CTNN_RESTRICT C,
                              float alpha) noexcept {
  // W rows (NR of them, reused by every row block of A) stay in L1 while A's rows stream past.
  constexpr std::size_t Mf = M / MR * MR, Nf = N / NR * NR;
  auto col_block = [&]<std::size_t nr>(std::size_t n0) {
    for (std::size_t m0 = 0; m0 < Mf; m0 += MR)
      nt_tile_wide<MR, nr, Acc, Scaled>(A + m0 * K, B + n0 * K, C + m0 * N + n0, N, alpha, K);
    if constexpr (M % MR != 0)
      nt_tile_wide<M % MR, nr, Acc, Scaled>(A + Mf * K, B + n0 * K, C + Mf * N + n0, N, alpha, K);
  };
  for (std::size_t n0 = 0; n0 < Nf; n0 += NR) col_block.template operator()<NR>(n0);
  if constexpr (N % NR != 0) col_block.template operator()<N % NR>(Nf);
}
#endif

// C[m0.., n0..n0+ncols) (=|+=) sum_k opA[m][k] * B[k][n]; opA[m][k] = A[m*SAm + k*SAk]
template <std::size_t mr, std::size_t ncols, std::size_t N, std::size_t K, std::size_t SAm,
          std::size_t SAk, bool Acc, bool Scaled, class T>
CTNN_INLINE void bcast_tile(const T* CTNN_RESTRICT A, const T* CTNN_RESTRICT B, T* CTNN_RESTRICT C, T alpha) noexcept {
  constexpr std::size_t W = simd::width<T>;
  constexpr std::size_t nv = (ncols + W - 1) / W;
  constexpr std::size_t last = ncols - (nv - 1) * W;  // lanes used in the last vector
  // One vector of at most 4 floats: a 128-bit batch (lanes_t), not a mostly empty 256-bit one.
  using V = std::conditional_t<nv == 1, simd::lanes_t<T, last>, simd::batch<T>>;
  auto ld = [](const T* p, std::size_t j) -> V {
    if constexpr (nv == 1) return simd::load_n<last>(p);
    else if constexpr (last == W) return simd::load(p + j * W);
    else return j + 1 < nv ? simd::load(p + j * W) : simd::load_partial<last>(p + j * W);
  };
#if defined(CTNN_SIMD_512)
  if constexpr (std::is_same_v<T, float> && K == 1 && Scaled && Acc && ncols == N && mr * N == 16 &&
                (N == 2 || N == 4 || N == 8)) {
    // An outer-product update of whole narrow rows (N = 2, 4, 8: mr rows are 16 adjacent floats)
    // as one 512-bit FMA over the flat block: a expanded to [a0 x N, a1 x N, ...], b repeated.
    // Row by row, g++ 12 merges the mr narrow stores into one wide store assembled on the stack,
    // whose reload cannot be store-forwarded (~15 cycles on a training step's critical path).
    alignas(64) static constexpr int rows[16] = {0 / N, 1 / N, 2 / N, 3 / N, 4 / N, 5 / N, 6 / N, 7 / N,
                                                 8 / N, 9 / N, 10 / N, 11 / N, 12 / N, 13 / N, 14 / N, 15 / N};
    alignas(64) static constexpr int cols[16] = {0 % N, 1 % N, 2 % N, 3 % N, 4 % N, 5 % N, 6 % N, 7 % N,
                                                 8 % N, 9 % N, 10 % N, 11 % N, 12 % N, 13 % N, 14 % N, 15 % N};
    // Loads of exactly mr and N floats (no masked or wider loads: A is often a value the pass
    // has just stored, and only a load of the stored size is store-forwarded).
    auto load8 = []<std::size_t n>(const float* p, std::size_t stride) {
      if constexpr (n == 8) {
        if (stride == 1) return _mm512_castps256_ps512(_mm256_loadu_ps(p));
      }
      if constexpr (n <= 4) {
        if (stride == 1) return _mm512_castps128_ps512(simd::detail::load_lt4<n>(p));
      }
      alignas(64) float v[16] = {};
      for (std::size_t i = 0; i < n; ++i) v[i] = p[i * stride];
      return _mm512_load_ps(v);
    };
    const __m512 a = load8.template operator()<mr>(A, SAm);
    const __m512 ae = _mm512_permutexvar_ps(_mm512_load_si512(rows), a);
    const __m512 b = load8.template operator()<N>(B, 1);
    const __m512 be = _mm512_mul_ps(_mm512_set1_ps(alpha), _mm512_permutexvar_ps(_mm512_load_si512(cols), b));
    _mm512_storeu_ps(C, _mm512_fmadd_ps(ae, be, _mm512_loadu_ps(C)));
    return;
  }
#endif
  V acc[mr][nv];
  if constexpr (K == 1 && Scaled && Acc) {
    // An outer-product update C += a (alpha·b)ᵀ: one FMA per vector. alpha scales b (in a training
    // step, the layer's input, known early) rather than a (the freshly computed adjoint), so the
    // multiply stays off the step's critical path.
    V b[nv];
    for (std::size_t j = 0; j < nv; ++j) b[j] = V(alpha) * ld(B, j);
    for (std::size_t i = 0; i < mr; ++i) {
      const V a(A[i * SAm]);
      for (std::size_t j = 0; j < nv; ++j) acc[i][j] = simd::fma(a, b[j], ld(C + i * N, j));
    }
  } else {
  for (std::size_t i = 0; i < mr; ++i)
    for (std::size_t j = 0; j < nv; ++j) acc[i][j] = (Acc && !Scaled) ? ld(C + i * N, j) : V(T(0));
  for (std::size_t k = 0; k < K; ++k) {
    V b[nv];
    for (std::size_t j = 0; j < nv; ++j) b[j] = ld(B + k * N, j);
    for (std::size_t i = 0; i < mr; ++i) {
      const V a(A[i * SAm + k * SAk]);
      for (std::size_t j = 0; j < nv; ++j) acc[i][j] = simd::fma(a, b[j], acc[i][j]);
    }
  }
  if constexpr (Scaled) {  // C (=|+=) alpha · acc: the update of a fused training step
    const V al(alpha);
    for (std::size_t i = 0; i < mr; ++i)
      for (std::size_t j = 0; j < nv; ++j) acc[i][j] = Acc ? simd::fma(al, acc[i][j], ld(C + i * N, j)) : al * acc[i][j];
  }
  }
  for (std::size_t i = 0; i < mr; ++i)
    for (std::size_t j = 0; j < nv; ++j) {
      if constexpr (nv == 1) simd::store_n<last>(C + i * N, acc[i][j]);
      else if constexpr (last == W) simd::store(C + i * N + j * W, acc[i][j]);
      else if (j + 1 < nv) simd::store(C + i * N + j * W, acc[i][j]);
      else simd::store_partial<last>(C + i * N + j * W, acc[i][j]);
    }
}

/// Size rules for the 512-bit tiles (float, AVX-512 builds): a product takes them when its rows
/// are long enough to fill 16-float vectors and it is large enough for throughput, not latency,
/// to matter; smaller ones keep the 256/128-bit tiles, whose shorter shuffles and narrower
/// padding win on latency-bound single samples. (Measured in bench/bench_kernels and
/// bench/bench_foundation.)
/// (Functions, so the runtime tape's products take the same rule at run time.)
constexpr bool wide_bcast(std::size_t M, std::size_t N, std::size_t K) noexcept { return N >= 32 && M * N * K >= 2048; }
constexpr bool wide_nt(std::size_t M, std::size_t N, std::size_t K) noexcept {
  return K >= 64 && N >= 8 && M * N * K >= 2048;
}
template <std::size_t M, std::size_t N, std::size_t K>
inline constexpr bool use_wide_bcast = wide_bcast(M, N, K);
template <std::size_t M, std::size_t N, std::size_t K>
inline constexpr bool use_wide_nt = wide_nt(M, N, K);

template <std::size_t M, std::size_t N, std::size_t K, std::size_t SAm, std::size_t SAk, bool Acc, bool Scaled, class T>
CTNN_INLINE void gemm_bcast(const T* CTNN_RESTRICT A, const T* CTNN_RESTRICT B, T* CTNN_RESTRICT C, T alpha) noexcept {
  if constexpr (!simd::has_batch<T>) {
    for (std::size_t m = 0; m < M; ++m)
      for (std::size_t n = 0; n < N; ++n) {
        T s = T(0);
        for (std::size_t k = 0; k < K; ++k) s += A[m * SAm + k * SAk] * B[k * N + n];
        if constexpr (Scaled) s = alpha * s;
        if constexpr (Acc) C[m * N + n] += s;
        else C[m * N + n] = s;
      }
  }
#if defined(CTNN_SIMD_512)
  else if constexpr (std::is_same_v<T, float> && use_wide_bcast<M, N, K>) {
    gemm_bcast_wide<(M >= 8 ? 8 : M), 3, M, N, K, SAm, SAk, Acc, Scaled>(A, B, C, alpha);
  }
#endif
  else {
    constexpr std::size_t W = simd::width<T>;
    constexpr std::size_t MR = M >= 4 ? 4 : M;
    constexpr std::size_t NC = (M >= 4 ? 2 : 4) * W;  // columns per tile
    constexpr std::size_t Mf = M / MR * MR, Nf = N / NC * NC;
    auto row_block = [&]<std::size_t mr>(std::size_t m0) {
      for (std::size_t n0 = 0; n0 < Nf; n0 += NC)
        bcast_tile<mr, NC, N, K, SAm, SAk, Acc, Scaled>(A + m0 * SAm, B + n0, C + m0 * N + n0, alpha);
      if constexpr (simd::split_tail<T, N % NC>) {  // 5..7 columns: 4 in a 128-bit batch, then the rest
        bcast_tile<mr, 4, N, K, SAm, SAk, Acc, Scaled>(A + m0 * SAm, B + Nf, C + m0 * N + Nf, alpha);
        bcast_tile<mr, N % NC - 4, N, K, SAm, SAk, Acc, Scaled>(A + m0 * SAm, B + Nf + 4, C + m0 * N + Nf + 4, alpha);
      } else if constexpr (N % NC != 0) {
        bcast_tile<mr, N % NC, N, K, SAm, SAk, Acc, Scaled>(A + m0 * SAm, B + Nf, C + m0 * N + Nf, alpha);
      }
    };
    for (std::size_t m0 = 0; m0 < Mf; m0 += MR) row_block.template operator()<MR>(m0);
    if constexpr (M % MR != 0) row_block.template operator()<M % MR>(Mf);
  }
}

}  // namespace detail

template <std::size_t M, std::size_t N, std::size_t K, bool Acc = false, bool Scaled = false, class T>
CTNN_INLINE void gemm_nt(const T* CTNN_RESTRICT A, const T* CTNN_RESTRICT B, T* CTNN_RESTRICT C,
                         T alpha = T(1)) noexcept {
  if constexpr (!simd::has_batch<T>) {
    for (std::size_t m = 0; m < M; ++m)
      for (std::size_t n = 0; n < N; ++n) {
        T s = T(0);
        for (std::size_t k = 0; k < K; ++k) s += A[m * K + k] * B[n * K + k];
        if constexpr (Scaled) s = alpha * s;
        if constexpr (Acc) C[m * N + n] += s;
        else C[m * N + n] = s;
      }
  }
#if defined(CTNN_SIMD_512)
  else if constexpr (std::is_same_v<T, float> && detail::use_wide_nt<M, N, K>) {
    detail::gemm_nt_wide<(M >= 3 ? 3 : M), 8, M, N, K, Acc, Scaled>(A, B, C, alpha);
  }
#endif
#if defined(__AVX__)
  else if constexpr (std::is_same_v<T, float> && K <= 4) {
    constexpr std::size_t Nf = N / 4 * 4;
    for (std::size_t m = 0; m < M; ++m) {
      for (std::size_t n0 = 0; n0 < Nf; n0 += 4)
        detail::nt_tile_k4<4, Acc, Scaled>(A + m * K, B + n0 * K, C + m * N + n0, alpha, K);
      if constexpr (N % 4 != 0) detail::nt_tile_k4<N % 4, Acc, Scaled>(A + m * K, B + Nf * K, C + m * N + Nf, alpha, K);
    }
  }
  else if constexpr (std::is_same_v<T, float> && simd::width<T> == 8 && M >= 3 && K >= 16) {
    // A batch (rows of A are samples): 3 x 4 register tiles; the 3 rows of A stay in L1 while
    // the rows of B stream past them.
    constexpr std::size_t MR = 3, NR = 4;
    constexpr std::size_t Mf = M / MR * MR, Nf = N / NR * NR;
    auto row_block = [&]<std::size_t mr>(std::size_t m0) {
      for (std::size_t n0 = 0; n0 < Nf; n0 += NR)
        detail::nt_tile_blocked<mr, NR, Acc, Scaled>(A + m0 * K, B + n0 * K, C + m0 * N + n0, N, alpha, K);
      if constexpr (N % NR != 0)
        detail::nt_tile_blocked<mr, N % NR, Acc, Scaled>(A + m0 * K, B + Nf * K, C + m0 * N + Nf, N, alpha, K);
    };
    for (std::size_t m0 = 0; m0 < Mf; m0 += MR) row_block.template operator()<MR>(m0);
    if constexpr (M % MR != 0) row_block.template operator()<M % MR>(Mf);
  }
#endif
  else {
    constexpr std::size_t NR = simd::width<T>;
    constexpr std::size_t Nf = N / NR * NR;
    for (std::size_t m = 0; m < M; ++m) {
      for (std::size_t n0 = 0; n0 < Nf; n0 += NR)
        detail::nt_tile<1, NR, Acc, Scaled>(A + m * K, B + n0 * K, C + m * N + n0, N, alpha, K);
      if constexpr (N % NR != 0)
        detail::nt_tile<1, N % NR, Acc, Scaled>(A + m * K, B + Nf * K, C + m * N + Nf, N, alpha, K);
    }
  }
}

template <std::size_t M, std::size_t N, std::size_t K, bool Acc = false, bool Scaled = false, class T>
CTNN_INLINE void gemm_nn(const T* A, const T* B, T* C, T alpha = T(1)) noexcept {
  detail::gemm_bcast<M, N, K, K, 1, Acc, Scaled>(A, B, C, alpha);
}
template <std::size_t M, std::size_t N, std::size_t K, bool Acc = false, bool Scaled = false, class T>
CTNN_INLINE void gemm_tn(const T* A, const T* B, T* C, T alpha = T(1)) noexcept {
  detail::gemm_bcast<M, N, K, 1, M, Acc, Scaled>(A, B, C, alpha);
}

/// y[N] (=|+=) W[N,K] x[K]
template <std::size_t N, std::size_t K, bool Acc = false, class T>
CTNN_INLINE void gemv(const T* W, const T* x, T* y) noexcept { gemm_nt<1, N, K, Acc>(x, W, y); }
/// y[K] (=|+=) W[N,K]ᵀ x[N]
template <std::size_t N, std::size_t K, bool Acc = false, class T>
CTNN_INLINE void gemv_t(const T* W, const T* x, T* y) noexcept { gemm_nn<1, K, N, Acc>(x, W, y); }
/// A[M,N] (=|+=) u[M] vᵀ[N]
template <std::size_t M, std::size_t N, bool Acc = false, class T>
CTNN_INLINE void outer(const T* u, const T* v, T* A) noexcept { gemm_tn<M, N, 1, Acc>(u, v, A); }

}  // namespace ctnn::kernel
