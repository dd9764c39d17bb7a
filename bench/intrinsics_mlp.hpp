// The 64-32-10 relu/softmax net (workload B) hand-written in AVX-512 intrinsics, one sample: what an
// expert gets from this machine with no library at all, to show how far ctnn's generated passes are
// from the hardware and how much of the Eigen baseline's time is the work itself (a 64 x 32 weight
// update is 128 read-modify-write 64-byte vectors; ~50 ns here on its own).
// Same arithmetic as the others (bench/reference_mlp.hpp checks it like every implementation); the
// float exp and log are ctnn's (simd::exp, simd::log), the fastest we have, and so is the 8-row sum
// of 512-bit vectors (kernel::detail::hsum8_wide), which an expert would write the same way. Layout: the flat order of
// the other implementations (W1 row-major [32][64], b1, W2 row-major [10][32], b2).
// Only built where AVX-512 F/DQ/VL are enabled (-march=native on this machine).
#pragma once

#if defined(__AVX512F__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
#include <immintrin.h>

#include <cmath>
#include <cstddef>

#include "ctnn/kernel/gemm.hpp"
#include "ctnn/kernel/simd.hpp"

namespace intrinsics_mlp {

inline constexpr bool available = true;

struct NetB {
  alignas(64) float W1[32 * 64];
  alignas(64) float b1[32];
  alignas(64) float W2[10 * 32];
  alignas(64) float b2[16];  // 10 used
  static constexpr std::size_t num_params = 32 * 64 + 32 + 10 * 32 + 10;
  void load_flat(const double* p) {
    std::size_t k = 0;
    for (float& w : W1) w = float(p[k++]);
    for (float& w : b1) w = float(p[k++]);
    for (float& w : W2) w = float(p[k++]);
    for (std::size_t i = 0; i < 10; ++i) b2[i] = float(p[k++]);
  }
  void store_flat(float* p) const {
    std::size_t k = 0;
    for (float w : W1) p[k++] = w;
    for (float w : b1) p[k++] = w;
    for (float w : W2) p[k++] = w;
    for (std::size_t i = 0; i < 10; ++i) p[k++] = b2[i];
  }
};

namespace detail {
using V8 = ctnn::simd::batch<float>;
using V4 = ctnn::simd::batch4f;

// Logits z (z1: layer 1's pre-activations, h = relu(z1), kept for the backward pass).
struct Forward {
  __m512 x[4];
  alignas(64) float z1[32], h[32];
  __m256 zlo;  // logits 0..7
  __m128 zhi;  // logits 8, 9 (lanes 0, 1; lanes 2, 3 repeat them)
};

inline void logits(const NetB& p, const float* xin, Forward& f) {
  for (int k = 0; k < 4; ++k) f.x[k] = _mm512_loadu_ps(xin + 16 * k);
  for (int blk = 0; blk < 4; ++blk) {  // 8 rows of W1 at a time: 8 dot products of length 64
    __m512 acc[8];
    for (int j = 0; j < 8; ++j) {
      const float* w = p.W1 + (8 * blk + j) * 64;
      __m512 a = _mm512_mul_ps(f.x[0], _mm512_loadu_ps(w));
      for (int k = 1; k < 4; ++k) a = _mm512_fmadd_ps(f.x[k], _mm512_loadu_ps(w + 16 * k), a);
      acc[j] = a;
    }
    const __m256 z = _mm256_add_ps(ctnn::kernel::detail::hsum8_wide(acc), _mm256_loadu_ps(p.b1 + 8 * blk));
    _mm256_store_ps(f.z1 + 8 * blk, z);
    _mm256_store_ps(f.h + 8 * blk, _mm256_max_ps(z, _mm256_setzero_ps()));
  }
  const __m512 h0 = _mm512_load_ps(f.h), h1 = _mm512_load_ps(f.h + 16);
  __m512 acc[10];
  for (int j = 0; j < 10; ++j)
    acc[j] = _mm512_fmadd_ps(h1, _mm512_loadu_ps(p.W2 + j * 32 + 16), _mm512_mul_ps(h0, _mm512_loadu_ps(p.W2 + j * 32)));
  f.zlo = _mm256_add_ps(ctnn::kernel::detail::hsum8_wide(acc), _mm256_loadu_ps(p.b2));
  const float z8 = _mm512_reduce_add_ps(acc[8]) + p.b2[8], z9 = _mm512_reduce_add_ps(acc[9]) + p.b2[9];
  f.zhi = _mm_setr_ps(z8, z9, z8, z9);
}

// e = exp(z − max z) for the 10 logits; returns Σe and the maximum.
inline float softmax_parts(const Forward& f, __m256& e0, __m128& e1, float& m) {
  __m128 m4 = _mm_max_ps(_mm_max_ps(_mm256_castps256_ps128(f.zlo), _mm256_extractf128_ps(f.zlo, 1)), f.zhi);
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
  m = _mm_cvtss_f32(m4);
  e0 = ctnn::simd::exp(V8(f.zlo) - V8(m));
  e1 = _mm_movelh_ps(ctnn::simd::exp(V4(_mm_sub_ps(f.zhi, _mm_set1_ps(m)))), _mm_setzero_ps());  // lanes 2, 3: 0
  return ctnn::simd::hsum(V8(_mm256_add_ps(e0, _mm256_castps128_ps256(e1))));
}
}  // namespace detail

/// probs (10 floats) = softmax(W2 relu(W1 x + b1) + b2).
inline void forward_b(const NetB& p, const float* x, float* probs) {
  detail::Forward f;
  detail::logits(p, x, f);
  __m256 e0;
  __m128 e1;
  float m;
  const float inv = 1.0f / detail::softmax_parts(f, e0, e1, m);
  _mm256_storeu_ps(probs, _mm256_mul_ps(e0, _mm256_set1_ps(inv)));
  _mm_storel_pi(reinterpret_cast<__m64*>(probs + 8), _mm_mul_ps(e1, _mm_set1_ps(inv)));
}

/// One SGD step on softmax cross-entropy in place; returns the loss before the update.
inline float sgd_step_b(NetB& p, const float* x, int label, float lr) {
  detail::Forward f;
  detail::logits(p, x, f);
  __m256 e0;
  __m128 e1;
  float m;
  const float s = detail::softmax_parts(f, e0, e1, m);
  const float inv = 1.0f / s;
  alignas(64) float z[16], d2[16] = {};  // logits; dL/dz = softmax(z) − onehot(label)
  _mm256_store_ps(z, f.zlo);
  _mm_store_ps(z + 8, f.zhi);
  const float loss = m + std::log(s) - z[label];
  _mm256_store_ps(d2, _mm256_mul_ps(e0, _mm256_set1_ps(inv)));
  _mm_store_ps(d2 + 8, _mm_mul_ps(e1, _mm_set1_ps(inv)));
  d2[label] -= 1.0f;
  // dh = W2ᵀ d2 with the old W2, then W2 −= lr·d2 hᵀ, b2 −= lr·d2.
  __m512 dh0 = _mm512_setzero_ps(), dh1 = _mm512_setzero_ps();
  for (int j = 0; j < 10; ++j) {
    const __m512 g = _mm512_set1_ps(d2[j]);
    dh0 = _mm512_fmadd_ps(g, _mm512_loadu_ps(p.W2 + j * 32), dh0);
    dh1 = _mm512_fmadd_ps(g, _mm512_loadu_ps(p.W2 + j * 32 + 16), dh1);
  }
  const __m512 nlr = _mm512_set1_ps(-lr);
  const __m512 hs0 = _mm512_mul_ps(nlr, _mm512_load_ps(f.h)), hs1 = _mm512_mul_ps(nlr, _mm512_load_ps(f.h + 16));
  for (int j = 0; j < 10; ++j) {
    const __m512 g = _mm512_set1_ps(d2[j]);
    _mm512_storeu_ps(p.W2 + j * 32, _mm512_fmadd_ps(g, hs0, _mm512_loadu_ps(p.W2 + j * 32)));
    _mm512_storeu_ps(p.W2 + j * 32 + 16, _mm512_fmadd_ps(g, hs1, _mm512_loadu_ps(p.W2 + j * 32 + 16)));
  }
  const __mmask16 ten = 0x3ff;
  _mm512_mask_storeu_ps(p.b2, ten, _mm512_fmadd_ps(nlr, _mm512_load_ps(d2), _mm512_load_ps(p.b2)));
  // d1 = dh ⊙ [z1 > 0]; W1 −= lr·d1 xᵀ, b1 −= lr·d1.
  alignas(64) float d1[32];
  const __m512 zero = _mm512_setzero_ps();
  _mm512_store_ps(d1, _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_load_ps(f.z1), zero, _CMP_GT_OQ), dh0));
  _mm512_store_ps(d1 + 16, _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_load_ps(f.z1 + 16), zero, _CMP_GT_OQ), dh1));
  __m512 xs[4];
  for (int k = 0; k < 4; ++k) xs[k] = _mm512_mul_ps(nlr, f.x[k]);
  for (int i = 0; i < 32; ++i) {
    const __m512 g = _mm512_set1_ps(d1[i]);
    for (int k = 0; k < 4; ++k)
      _mm512_storeu_ps(p.W1 + i * 64 + 16 * k, _mm512_fmadd_ps(g, xs[k], _mm512_loadu_ps(p.W1 + i * 64 + 16 * k)));
  }
  for (int k = 0; k < 2; ++k)
    _mm512_storeu_ps(p.b1 + 16 * k, _mm512_fmadd_ps(nlr, _mm512_load_ps(d1 + 16 * k), _mm512_loadu_ps(p.b1 + 16 * k)));
  return loss;
}

}  // namespace intrinsics_mlp
#else
namespace intrinsics_mlp {
inline constexpr bool available = false;
}
#endif
