// ctnn/kernel/simd.hpp: the SIMD vocabulary of ctnn: the batch type for a scalar, loads and
// stores of full and partial batches, and math helpers written once for scalars and batches
// (so a primitive's rule is one generic function).
// Layer: kernel (includes core and xsimd only).
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "ctnn/core/config.hpp"  // first: works around g++ 12's AVX-512 intrinsics warnings
#include <xsimd/xsimd.hpp>
#if defined(__AVX__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "ctnn/core/config.hpp"

namespace ctnn::simd {

/// Whether T has a SIMD batch (float, double); other scalars (dual numbers) take scalar paths.
template <class T>
inline constexpr bool has_batch = std::is_same_v<T, float> || std::is_same_v<T, double>;

// The batch every kernel uses by default is 256 bits wide on AVX, AVX2 and AVX-512 machines.
// On AVX-512 the 512-bit batch (wide<T>) doubles the FMA rate of a large product on a core with
// full-width units, but small layers and element-wise passes are latency-bound: 16 lanes for a
// layer of 5 are mostly padding, and 512-bit shuffles and horizontal sums take longer. So the
// large matrix-product micro-kernels (kernel/gemm.hpp) choose wide<T> by size, and everything
// else works on 256 bits (with AVX-512VL's instructions where the compiler picks them).
#if defined(__AVX512F__) && defined(__FMA__)
using native_arch = xsimd::fma3<xsimd::avx2>;
#define CTNN_SIMD_256 1
#define CTNN_SIMD_512 1
#elif defined(__AVX__)
using native_arch = xsimd::default_arch;
#define CTNN_SIMD_256 1
#else
using native_arch = xsimd::default_arch;
#endif

template <class T>
using batch = xsimd::batch<T, native_arch>;
/// The widest batch of the build (512 bits on AVX-512; else the same as batch<T>).
template <class T>
using wide = std::conditional_t<(xsimd::batch<T>::size > xsimd::batch<T, native_arch>::size), xsimd::batch<T>,
                                xsimd::batch<T, native_arch>>;

/// Lanes per batch for T (1 for scalars without a batch type).
template <class T>
inline constexpr std::size_t width = [] {
  if constexpr (has_batch<T>) return batch<T>::size;
  else return std::size_t{1};
}();

/// The scalar type of a scalar or of a batch.
template <class V>
struct scalar_of {
  using type = V;
};
template <class T, class A>
struct scalar_of<xsimd::batch<T, A>> {
  using type = T;
};
template <class V>
using scalar_t = typename scalar_of<V>::type;

/// Math for scalar types without a batch (dual numbers: ad/dual.hpp specialises it with static
/// exp, log, log1p, tanh, sqrt, abs); the math functions below dispatch to it for such types.
template <class T>
struct scalar_math;
/// A scalar that is neither a built-in number nor a batch (takes scalar_math and scalar paths).
template <class T>
inline constexpr bool is_extension_scalar = !std::is_arithmetic_v<T> && std::is_same_v<scalar_t<T>, T>;

template <class T>
CTNN_INLINE batch<T> load(const T* p) noexcept { return batch<T>::load_unaligned(p); }
template <class T>
CTNN_INLINE void store(T* p, const batch<T>& v) noexcept { v.store_unaligned(p); }

namespace detail {
#if defined(__AVX__)
// Partial loads and stores split into 4-, 2- and 1-lane pieces. A load then always matches an
// earlier store of the same size at the same address, so it is store-forwarded (a wide load
// over narrower stores, or any masked load, waits for the stores to retire), and nothing
// outside [p, p + N) is touched. 64-bit pieces of floats go through __m128i loads/stores, which
// may alias anything (a double* cast would break strict aliasing). Masked stores are avoided: microcoded and slow on AMD Zen.
template <std::size_t N>
CTNN_INLINE __m128 load_lt4(const float* p) noexcept {
  if constexpr (N == 0) return _mm_setzero_ps();
  else if constexpr (N == 1) return _mm_load_ss(p);
  else if constexpr (N == 2) return _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  else if constexpr (N == 3) return _mm_movelh_ps(_mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))), _mm_load_ss(p + 2));
  else return _mm_loadu_ps(p);
}
template <std::size_t N>
CTNN_INLINE void store_lt4(float* p, __m128 v) noexcept {
  if constexpr (N == 1) _mm_store_ss(p, v);
  else if constexpr (N == 2) _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_castps_si128(v));
  else if constexpr (N == 3) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_castps_si128(v));
    _mm_store_ss(p + 2, _mm_movehl_ps(v, v));
  } else if constexpr (N == 4) {
    _mm_storeu_ps(p, v);
  }
}
#endif
}  // namespace detail

#if defined(CTNN_SIMD_256)
/// A 128-bit float batch: element-wise work on at most 4 floats (a narrow layer, a tail) runs on
/// it instead of a mostly empty 256-bit batch (two micro-ops per instruction on AMD Zen 1/2).
using batch4f = xsimd::batch<float, xsimd::sse4_2>;  // simd::fma still emits vfmadd (see fma)
inline constexpr bool has_batch4f = true;
#else
inline constexpr bool has_batch4f = false;
#endif

/// a·b + c, one rounding for batches and floats (a float is the one-lane tail of a float pass,
/// which must round as its batch lanes do). xsimd's 128-bit arch on an AVX2 build has no FMA
/// kernel (it would multiply and add), so 128-bit float batches call the instruction directly.
template <class T>
CTNN_INLINE T fma(const T& a, const T& b, const T& c) noexcept {
#if defined(__FMA__)
  if constexpr (std::is_same_v<T, float>) return std::fma(a, b, c);
  else
#endif
  if constexpr (std::is_arithmetic_v<T> || is_extension_scalar<T>) return a * b + c;
#if defined(__FMA__) && defined(CTNN_SIMD_256)
  else if constexpr (std::is_same_v<T, batch4f>) return T(_mm_fmadd_ps(a, b, c));
#endif
  else return xsimd::fma(a, b, c);
}

/// f (a function of batches) applied to one float, as lane 0 of a 128-bit batch: a float's exp,
/// log, tanh and logistic use the same approximations as the lanes of a float batch.
template <class F>
CTNN_INLINE float via_batch4f(F&& f, float x) noexcept {
#if defined(CTNN_SIMD_256)
#if defined(__GNUC__) && !defined(__clang__)
  // The batch is x's own register, its other lanes left as they are: the empty asm ties the two,
  // so nothing zeroes them (_mm_set_ss's merge is one instruction and one cycle on the path of
  // every scalar sigmoid, e.g. a 4-5-1 net's output). Lane-wise math never mixes lanes, and lane
  // 0 is all that is kept. A constant x still folds (the asm would hide it from the optimiser).
  // (clang's backend cannot tie a float to a vector register; it takes _mm_set_ss.)
  if (!__builtin_constant_p(x)) {
    __m128 v;
    asm("" : "=x"(v) : "0"(x));
    return _mm_cvtss_f32(f(batch4f(v)));
  }
#endif
  return _mm_cvtss_f32(f(batch4f(_mm_set_ss(x))));
#else
  return f(x);
#endif
}

/// Loads the first N (< width) elements at p into a batch; the other lanes are zero. Never reads
/// past p[N - 1].
template <std::size_t N, class T>
CTNN_INLINE batch<T> load_partial(const T* p) noexcept {
#if defined(CTNN_SIMD_256)
  if constexpr (std::is_same_v<T, float> && width<T> == 8) {
    if constexpr (N >= 4)
      return batch<T>(_mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p)), detail::load_lt4<N - 4>(p + 4), 1));
    else
      return batch<T>(_mm256_insertf128_ps(_mm256_setzero_ps(), detail::load_lt4<N>(p), 0));
  } else if constexpr (std::is_same_v<T, double> && width<T> == 4) {
    if constexpr (N >= 2) {
      const __m128d hi = N == 3 ? _mm_load_sd(p + 2) : _mm_setzero_pd();
      return batch<T>(_mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(p)), hi, 1));
    } else {
      return batch<T>(_mm256_insertf128_pd(_mm256_setzero_pd(), _mm_load_sd(p), 0));
    }
  } else
#endif
  {
    alignas(alignment) T tmp[width<T>] = {};
    for (std::size_t i = 0; i < N; ++i) tmp[i] = p[i];
    return batch<T>::load_aligned(tmp);
  }
}
/// load_partial<r> for r (0 < r < width) given as an argument: a constant r (an inlined call from a
/// compile-time kernel) folds to that one load; a run-time one (the runtime tape) picks it.
template <class T, std::size_t R = 1>
CTNN_INLINE batch<T> load_partial_r(const T* p, std::size_t r) noexcept {
  if constexpr (R + 1 >= width<T>) {
    return load_partial<R>(p);
  } else {
    if (r == R) return load_partial<R>(p);
    return load_partial_r<T, R + 1>(p, r);
  }
}
/// Stores the first N (< width) lanes of v at p; never writes past p[N - 1].
template <std::size_t N, class T>
CTNN_INLINE void store_partial(T* p, const batch<T>& v) noexcept {
#if defined(CTNN_SIMD_256)
  if constexpr (std::is_same_v<T, float> && width<T> == 8) {
    const __m256 r = v;
    if constexpr (N >= 4) {
      _mm_storeu_ps(p, _mm256_castps256_ps128(r));
      detail::store_lt4<N - 4>(p + 4, _mm256_extractf128_ps(r, 1));
    } else {
      detail::store_lt4<N>(p, _mm256_castps256_ps128(r));
    }
  } else if constexpr (std::is_same_v<T, double> && width<T> == 4) {
    const __m256d r = v;
    if constexpr (N >= 2) {
      _mm_storeu_pd(p, _mm256_castpd256_pd128(r));
      if constexpr (N == 3) _mm_store_sd(p + 2, _mm256_extractf128_pd(r, 1));
    } else {
      _mm_store_sd(p, _mm256_castpd256_pd128(r));
    }
  } else
#endif
  {
    alignas(alignment) T tmp[width<T>];
    v.store_aligned(tmp);
    for (std::size_t i = 0; i < N; ++i) p[i] = tmp[i];
  }
}
/// store_partial<r> for r (0 < r < width) given as an argument (see load_partial_r).
template <class T, std::size_t R = 1>
CTNN_INLINE void store_partial_r(T* p, const batch<T>& v, std::size_t r) noexcept {
  if constexpr (R + 1 >= width<T>) {
    store_partial<R>(p, v);
  } else {
    if (r == R) return store_partial<R>(p, v);
    store_partial_r<T, R + 1>(p, v, r);
  }
}

/// The register type for L lanes of T: a 128-bit batch for 2 to 4 floats (when the native batch
/// is wider), the native batch otherwise, T itself for scalars without a batch and for one float.
/// One float (a layer of one unit, a loss) is scalar code: a one-lane batch would carry zeroed
/// padding lanes through every op (a multiply by (1, 0, 0, 0) where a scalar's × 1 folds away,
/// a zeroing shuffle per store and load), which lengthens a small net's training step by ~5%.
/// Its transcendental functions still run on a batch (via_batch4f), so it rounds as lanes do.
template <class T, std::size_t L>
using lanes_t = std::conditional_t<!has_batch<T> || (std::is_same_v<T, float> && L == 1), T,
                                   std::conditional_t<std::is_same_v<T, float> && has_batch4f && L <= 4 && width<T> == 8,
#if defined(CTNN_SIMD_256)
                                                      batch4f,
#else
                                                      batch<T>,
#endif
                                                      batch<T>>>;

/// Whether a tail of r (< width) floats runs as a 128-bit batch of 4 and a tail of r - 4 (a
/// float or a 128-bit batch), rather than as one zero-padded 256-bit batch: passes over a
/// narrow layer (5..7 units) then store and load exactly the pieces the next pass reads, which
/// the compiler forwards in registers; a 256-bit tail is rebuilt from them by three shuffles
/// (extract, zero, insert), each time on a small net's critical path.
template <class T, std::size_t r>
inline constexpr bool split_tail = std::is_same_v<T, float> && has_batch4f && width<T> == 8 && r > 4;

/// Loads L lanes (L <= width; the rest zero) into lanes_t<T, L>; never reads past p[L - 1].
template <std::size_t L, class T>
CTNN_INLINE lanes_t<T, L> load_n(const T* p) noexcept {
  if constexpr (std::is_same_v<lanes_t<T, L>, T>) return *p;
#if defined(CTNN_SIMD_256)
  else if constexpr (std::is_same_v<lanes_t<T, L>, batch4f>) return batch4f(detail::load_lt4<L>(p));
#endif
  else if constexpr (L == width<T>) return load(p);
  else return load_partial<L>(p);
}
/// Stores the first L lanes of v (from load_n's type); never writes past p[L - 1].
template <std::size_t L, class T>
CTNN_INLINE void store_n(T* p, const lanes_t<T, L>& v) noexcept {
  if constexpr (std::is_same_v<lanes_t<T, L>, T>) *p = v;
#if defined(CTNN_SIMD_256)
  else if constexpr (std::is_same_v<lanes_t<T, L>, batch4f>) detail::store_lt4<L>(p, v);
#endif
  else if constexpr (L == width<T>) store(p, v);
  else store_partial<L>(p, v);
}

#if defined(CTNN_SIMD_256)
/// The sum of a 128-bit float vector's lanes, in lane 0 (the other lanes are partial sums):
/// shuffle/add twice (the microcoded haddps costs 7 cycles a round on AMD Zen).
CTNN_INLINE __m128 hsum_lane0(__m128 s) noexcept {
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_add_ss(s, _mm_movehdup_ps(s));
}
#endif

/// Sum of a batch's lanes. On AVX: fold the 128-bit halves, then hsum_lane0 (the microcoded
/// haddps that xsimd::hadd uses costs 7 cycles a round on AMD Zen).
template <class T>
CTNN_INLINE T hsum(const batch<T>& v) noexcept {
#if defined(CTNN_SIMD_256)
  if constexpr (std::is_same_v<T, float> && width<T> == 8) {
    const __m256 r = v;
    return _mm_cvtss_f32(hsum_lane0(_mm_add_ps(_mm256_castps256_ps128(r), _mm256_extractf128_ps(r, 1))));
  } else if constexpr (std::is_same_v<T, double> && width<T> == 4) {
    const __m256d r = v;
    const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(r), _mm256_extractf128_pd(r, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  } else
#endif
  {
    return xsimd::hadd(v);
  }
}

#if defined(__AVX512F__)
namespace detail {
/// One butterfly level for 512-bit float sums: a + b re-paired by 128-bit chunks. Lo takes chunks
/// (c0, c1 | c0, c1) or (c0, c2 | c0, c2), Hi the others, so the sum keeps half as many partial
/// sums of each of twice as many parts.
template <int Lo, int Hi>
CTNN_INLINE __m512 fold_chunks(__m512 a, __m512 b) noexcept {
  return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, Lo), _mm512_shuffle_f32x4(a, b, Hi));
}
/// Lane j = sum of p[j]'s 16 lanes. (xsimd 8.1's haddp for AVX-512 floats swaps lanes 2-3 with
/// 4-5 and 10-11 with 12-13: tests/kernel checks every gemm path against a triple loop.)
/// Level 1 pairs p[j] with p[j + 4] (j in 0..3, 8..11): 256-bit halves summed, 8 partials each;
/// level 2 pairs those of j and j + 8: 128-bit chunks k = 0..3 hold parts j + 4k; levels 3 and 4
/// fold within the chunks by unpack/add, ending with part 4k + i in lane i of chunk k.
CTNN_INLINE __m512 transpose_sum16(const __m512* p) noexcept {
  constexpr int lo01 = _MM_SHUFFLE(1, 0, 1, 0), hi23 = _MM_SHUFFLE(3, 2, 3, 2);
  constexpr int even = _MM_SHUFFLE(2, 0, 2, 0), odd = _MM_SHUFFLE(3, 1, 3, 1);
  __m512 r[8];
  for (int j = 0; j < 4; ++j) {
    r[j] = fold_chunks<lo01, hi23>(p[j], p[j + 4]);
    r[j + 4] = fold_chunks<lo01, hi23>(p[j + 8], p[j + 12]);
  }
  __m512 s[4];
  for (int j = 0; j < 4; ++j) s[j] = fold_chunks<even, odd>(r[j], r[j + 4]);
  const __m512 t0 = _mm512_add_ps(_mm512_unpacklo_ps(s[0], s[2]), _mm512_unpackhi_ps(s[0], s[2]));
  const __m512 t1 = _mm512_add_ps(_mm512_unpacklo_ps(s[1], s[3]), _mm512_unpackhi_ps(s[1], s[3]));
  return _mm512_add_ps(_mm512_unpacklo_ps(t0, t1), _mm512_unpackhi_ps(t0, t1));
}
}  // namespace detail
#endif

/// Lane j of the result = the sum of parts[j]'s lanes, for as many parts as the batch has lanes.
template <class T, class A>
CTNN_INLINE xsimd::batch<T, A> haddp(const xsimd::batch<T, A>* parts) noexcept {
#if defined(__AVX512F__)
  using V = xsimd::batch<T, A>;
  if constexpr (std::is_same_v<T, float> && V::size == 16) {
    __m512 p[16];
    for (int j = 0; j < 16; ++j) p[j] = parts[j];
    return V(detail::transpose_sum16(p));
  } else
#endif
  {
    return xsimd::haddp(parts);
  }
}

// ---- math written once for scalars and batches ---------------------------------------------
template <class T>
CTNN_INLINE T select(bool c, T a, T b) noexcept { return c ? a : b; }
template <class T, class A>
CTNN_INLINE xsimd::batch<T, A> select(const xsimd::batch_bool<T, A>& c, const xsimd::batch<T, A>& a,
                                      const xsimd::batch<T, A>& b) noexcept {
  return xsimd::select(c, a, b);
}
// A float goes through a 128-bit batch (via_batch4f) where the build has one; see lanes_t.
#if defined(CTNN_SIMD_256)
#define CTNN_FLOAT_VIA_BATCH(fn, x) \
  if constexpr (std::is_same_v<T, float>) return via_batch4f([](auto v) { return fn(v); }, x); else
#else
#define CTNN_FLOAT_VIA_BATCH(fn, x)
#endif
#define CTNN_SIMD_UNARY(fn)                                                             \
  template <class T>                                                                    \
  CTNN_INLINE auto fn(const T& x) noexcept {                                            \
    CTNN_FLOAT_VIA_BATCH(xsimd::fn, x)                                                  \
    if constexpr (std::is_arithmetic_v<T>) return std::fn(x);                           \
    else if constexpr (is_extension_scalar<T>) return scalar_math<T>::fn(x);            \
    else return xsimd::fn(x);                                                           \
  }
CTNN_SIMD_UNARY(log1p)
CTNN_SIMD_UNARY(tanh)
#undef CTNN_SIMD_UNARY

/// The complementary error function (GELU's normal CDF), within a few ulps also in the tail:
/// std::erfc for scalars and, lane by lane, for double batches (xsimd's double erfc is ~1e-13
/// relative there, 500 ulp, which a double network's gradient checks see); a float batch through
/// xsimd's double erfc (its float one loses ~x² ulps in the tail: 40 at z = 9).
template <class T>
CTNN_INLINE auto erfc(const T& x) noexcept {
  if constexpr (std::is_arithmetic_v<T>) {
    return std::erfc(x);
  } else if constexpr (is_extension_scalar<T>) {
    return scalar_math<T>::erfc(x);
  } else if constexpr (std::is_same_v<scalar_t<T>, double>) {
    alignas(64) double lanes[T::size];
    x.store_aligned(lanes);
    for (double& v : lanes) v = std::erfc(v);
    return T::load_aligned(lanes);
  } else {
    using D = batch<double>;
    alignas(64) float f[T::size];
    alignas(64) double d[T::size < D::size ? D::size : T::size] = {};
    x.store_aligned(f);
    for (std::size_t i = 0; i < T::size; ++i) d[i] = f[i];
    for (std::size_t i = 0; i < T::size; i += D::size) xsimd::erfc(D::load_aligned(d + i)).store_aligned(d + i);
    for (std::size_t i = 0; i < T::size; ++i) f[i] = static_cast<float>(d[i]);
    return T::load_aligned(f);
  }
}

/// Natural log. xsimd 8.1's log does not compile for AVX-512BW (its int32 select casts to
/// 8/16-bit vectors), so there a 512-bit batch is taken as two 256-bit halves.
template <class T>
CTNN_INLINE auto log(const T& x) noexcept {
  CTNN_FLOAT_VIA_BATCH(xsimd::log, x)
  if constexpr (std::is_arithmetic_v<T>) {
    return std::log(x);
  } else if constexpr (is_extension_scalar<T>) {
    return scalar_math<T>::log(x);
  }
#if defined(__AVX512BW__)
  else if constexpr (std::is_same_v<T, xsimd::batch<scalar_t<T>, xsimd::avx512bw>>) {
    using S = scalar_t<T>;
    using H = xsimd::batch<S, xsimd::avx2>;
    alignas(64) S buf[T::size];
    x.store_aligned(buf);
    xsimd::log(H::load_aligned(buf)).store_aligned(buf);
    xsimd::log(H::load_aligned(buf + H::size)).store_aligned(buf + H::size);
    return T::load_aligned(buf);
  }
#endif
  else {
    return xsimd::log(x);
  }
}
// sqrt and abs of a float are single instructions: no detour through a batch.
#define CTNN_SIMD_UNARY(fn)                                                             \
  template <class T>                                                                    \
  CTNN_INLINE auto fn(const T& x) noexcept {                                            \
    if constexpr (std::is_arithmetic_v<T>) return std::fn(x);                           \
    else if constexpr (is_extension_scalar<T>) return scalar_math<T>::fn(x);            \
    else return xsimd::fn(x);                                                           \
  }
CTNN_SIMD_UNARY(sqrt)
CTNN_SIMD_UNARY(abs)
#undef CTNN_SIMD_UNARY
namespace detail {
/// e^r for |r| <= ln2/2 (a float batch): the degree-6 Taylor polynomial in Estrin form, shared by
/// exp_float and the sigmoid's exp_factors.
template <class V>
CTNN_INLINE V exp_taylor6(const V& r) noexcept {
  const V r2 = r * r;
  const V p01 = r + V(1.0f);
  const V p23 = simd::fma(r, V(1.0f / 6.0f), V(0.5f));
  const V p45 = simd::fma(r, V(1.0f / 120.0f), V(1.0f / 24.0f));
  const V r4 = r2 * r2;
  const V q = simd::fma(r2, V(1.0f / 720.0f), p45);
  return simd::fma(r4, q, simd::fma(r2, p23, p01));
}

/// e^x for a batch of floats with a short dependency chain (xsimd's takes ~46 cycles here):
/// x = n·ln2 + r with n = round(x·log2 e) by the 1.5·2²³ trick and ln2 split in two parts,
/// e^r by its degree-6 Taylor polynomial in Estrin form (|r| <= ln2/2: truncation error
/// < 5e-9 relative, below half an ulp), then 2^n added to the exponent bits. Overflow gives +inf,
/// underflow 0 (no denormals), NaN stays NaN. Measured: < 3.5 ulp over [-87, 88.7].
template <class A>
CTNN_INLINE xsimd::batch<float, A> exp_float(const xsimd::batch<float, A>& x) noexcept {
  using V = xsimd::batch<float, A>;
  using I = xsimd::batch<std::int32_t, A>;
  const V& xc = x;  // out-of-range lanes compute garbage and are replaced below (no clamp on the chain)
  const V magic(12582912.0f);  // 1.5 · 2^23: adding it rounds to an integer in the low mantissa bits
  const V t = simd::fma(xc, V(1.44269504088896341f), magic);
  const V n = t - magic;
  V r = simd::fma(n, V(-0.693145751953125f), xc);  // ln2 high part (exact product)
  r = simd::fma(n, V(-1.428606765330187e-06f), r);  // ln2 low part
  const V p = exp_taylor6(r);
  // 2^n: n sits in the low bits of t; shift it into the exponent field and add.
  const I e = xsimd::bitwise_cast<I>(t) << 23;
  const V y = xsimd::bitwise_cast<V>(xsimd::bitwise_cast<I>(p) + e);
  const V inf(std::numeric_limits<float>::infinity());
  V out = xsimd::select(x > V(88.72283f), inf, y);
  out = xsimd::select(x < V(-87.33654f), V(0.0f), out);
  return xsimd::select(xsimd::isnan(x), x, out);
}
}  // namespace detail

/// The logistic function on a batch of floats with a short dependency chain: e = e^{-|x|} (its
/// argument is never positive, so no overflow handling; clamped at -87.3, below which σ(x) < 1e-38
/// is flushed to 0), then one division σ = (x >= 0 ? 1 : e) / (1 + e). The range reduction uses
/// one FMA with ln 2 rounded to float: the resulting error in e is at most n·1.9e-9 (n <= 126).
/// Measured against double (tests/kernel/test_float_math.cpp): at most 3.9 ulp for |x| < 17,
/// 5.6 ulp down to -87.3.
/// Latency: 1 + e = fma(p, 2^n, 1), with 2^n shifted out of t's bits beside the polynomial; what
/// picks the numerator (x >= 0, the flush, NaN) waits for nothing but x, so only one multiply of
/// the numerator waits for the polynomial, beside the denominator's FMA.
namespace detail {
/// e^z = p · 2^n for z = -min(|x|, 87.3) (never positive), as the two factors: p = e^r by its
/// degree-6 Taylor polynomial in Estrin form, 2^n by one shift of the rounding sum's bits
/// (1.5 · 2^23 + 127: adding it rounds to an integer, and t's low mantissa bits hold n + 127, the
/// biased exponent of 2^n; n = t - magic is exact). Shared by both forms of the sigmoid below.
template <class V>
struct ExpFactors {
  V p, scale;
};
template <class A>
CTNN_INLINE ExpFactors<xsimd::batch<float, A>> exp_factors(const xsimd::batch<float, A>& z) noexcept {
  using V = xsimd::batch<float, A>;
  using I = xsimd::batch<std::int32_t, A>;
  const V magic(12583039.0f);
  const V t = simd::fma(z, V(1.44269504088896341f), magic);
  const V n = t - magic;
  const V r = simd::fma(n, V(-0.693147180559945309f), z);
  return {exp_taylor6(r), xsimd::bitwise_cast<V>(xsimd::bitwise_cast<I>(t) << 23)};
}

/// The portable form (xsimd): -|x| by OR-ing the sign bit, then a max for the clamp; the
/// numerator by three selects.
template <class A>
CTNN_INLINE xsimd::batch<float, A> sigmoid_portable(const xsimd::batch<float, A>& x) noexcept {
  using V = xsimd::batch<float, A>;
  const V z = xsimd::max(x | V(-0.0f), V(-87.33654f));  // -min(|x|, 87.3)
  const auto [p, scale] = exp_factors(z);
  V num = xsimd::select(x < V(-87.33654f), V(0.0f), p * scale);
  num = xsimd::select(x >= V(0.0f), V(1.0f), num);
  num = xsimd::select(xsimd::isnan(x), x, num);  // NaN stays NaN (training's NaN checks rely on it)
  return num / simd::fma(p, scale, V(1.0f));
}

#if defined(__AVX512VL__) && defined(__AVX512DQ__)
/// The same arithmetic with AVX-512 (128- and 256-bit batches), so the same results bit for bit,
/// 4 cycles shorter (41 instead of 45 measured, one sigmoid feeding the next) and 5 instructions
/// fewer: z = -min(|x|, 87.3) is one VRANGEPS (OR then max: two dependent ops); the numerator is
/// one merge-masked multiply, e where -87.3 <= x <= 0 (exactly the lanes where z == x, never NaN),
/// into a base that VFIXUPIMMPS makes from x's class in one instruction: +1 for x > 0, +0, -0 and
/// +inf, 0 for x < 0 and -inf, NaN for NaN (table 0xA8A8AA22, one response nibble per class).
inline constexpr bool has_sigmoid_avx512 = true;
template <class A>
CTNN_INLINE xsimd::batch<float, A> sigmoid_avx512(const xsimd::batch<float, A>& x) noexcept {
  using V = xsimd::batch<float, A>;
  static_assert(V::size == 4 || V::size == 8);
#define CTNN_SIGMOID_AVX512(P)                                                                       \
  const V z(P##_range_ps(x, P##_set1_ps(87.33654f), 0x0E)); /* min of |x|, |c|; sign set */        \
  const auto [p, scale] = exp_factors(z);                                                           \
  const V base(P##_fixupimm_ps(x, x, P##_set1_epi32(0xA8A8AA22), 0));                               \
  const V num(P##_mask_mul_ps(base, P##_cmp_ps_mask(z, x, _CMP_EQ_OQ), p, scale));                  \
  return num / simd::fma(p, scale, V(1.0f));
  if constexpr (V::size == 4) {
    CTNN_SIGMOID_AVX512(_mm)
  } else {
    CTNN_SIGMOID_AVX512(_mm256)
  }
#undef CTNN_SIGMOID_AVX512
}
#else
inline constexpr bool has_sigmoid_avx512 = false;
#endif
}  // namespace detail

template <class A>
CTNN_INLINE xsimd::batch<float, A> sigmoid_float(const xsimd::batch<float, A>& x) noexcept {
#if defined(__AVX512VL__) && defined(__AVX512DQ__)
  if constexpr (xsimd::batch<float, A>::size == 4 || xsimd::batch<float, A>::size == 8) return detail::sigmoid_avx512(x);
  else
#endif
    return detail::sigmoid_portable(x);
}

/// e^x: std::exp for scalars, a short-latency polynomial for float batches (see detail::exp_float),
/// xsimd's for double batches.
template <class T>
CTNN_INLINE auto exp(const T& x) noexcept {
  CTNN_FLOAT_VIA_BATCH(detail::exp_float, x)
  if constexpr (std::is_arithmetic_v<T>) return std::exp(x);
  else if constexpr (is_extension_scalar<T>) return scalar_math<T>::exp(x);
  else if constexpr (std::is_same_v<scalar_t<T>, float>) return detail::exp_float(x);
  else return xsimd::exp(x);
}

/// max(a, b) = (a < b ? b : a) and min(a, b) = (b < a ? b : a), on scalars and batches alike: a NaN
/// in `a` comes out (relu(NaN), maximum(NaN, c), minimum(NaN, c) are NaN, as in PyTorch), and a
/// tie returns `a`. x86's maxps/minps return their second operand when either is NaN, so the
/// batch form passes them (b, a), which is the same comparison: one instruction, no select.
template <class T>
CTNN_INLINE T max(const T& a, const T& b) noexcept {
  if constexpr (std::is_arithmetic_v<T> || is_extension_scalar<T>) return a < b ? b : a;
  else return xsimd::max(b, a);
}
template <class T>
CTNN_INLINE T min(const T& a, const T& b) noexcept {
  if constexpr (std::is_arithmetic_v<T> || is_extension_scalar<T>) return b < a ? b : a;
  else return xsimd::min(b, a);
}

#undef CTNN_FLOAT_VIA_BATCH
}  // namespace ctnn::simd
