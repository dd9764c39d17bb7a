// ctnn/kernel/simd.hpp: the SIMD vocabulary of ctnn: the batch type for a scalar, loads and
// stores of full and partial batches, and math helpers written once for scalars and batches
// (so a primitive's rule is one generic function).
// Layer: kernel (includes core and xsimd only).
#pragma once
#include <cmath>
#include <cstddef>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "ctnn/core/config.hpp"

namespace ctnn::simd {

/// Whether T has a SIMD batch (float, double); other scalars (dual numbers) take scalar paths.
template <class T>
inline constexpr bool has_batch = std::is_same_v<T, float> || std::is_same_v<T, double>;

template <class T>
using batch = xsimd::batch<T>;

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

template <class T>
CTNN_INLINE batch<T> load(const T* p) noexcept { return batch<T>::load_unaligned(p); }
template <class T>
CTNN_INLINE void store(T* p, const batch<T>& v) noexcept { v.store_unaligned(p); }

/// Loads the first N (< width) elements at p into a batch; the other lanes are zero.
template <std::size_t N, class T>
CTNN_INLINE batch<T> load_partial(const T* p) noexcept {
  alignas(alignment) T tmp[width<T>] = {};
  for (std::size_t i = 0; i < N; ++i) tmp[i] = p[i];
  return batch<T>::load_aligned(tmp);
}
/// Stores the first N (< width) lanes of v at p.
template <std::size_t N, class T>
CTNN_INLINE void store_partial(T* p, const batch<T>& v) noexcept {
  alignas(alignment) T tmp[width<T>];
  v.store_aligned(tmp);
  for (std::size_t i = 0; i < N; ++i) p[i] = tmp[i];
}

// ---- math written once for scalars and batches ---------------------------------------------
template <class T>
CTNN_INLINE T select(bool c, T a, T b) noexcept { return c ? a : b; }
template <class T, class A>
CTNN_INLINE xsimd::batch<T, A> select(const xsimd::batch_bool<T, A>& c, const xsimd::batch<T, A>& a,
                                      const xsimd::batch<T, A>& b) noexcept {
  return xsimd::select(c, a, b);
}
#define CTNN_SIMD_UNARY(fn)                                                             \
  template <class T>                                                                    \
  CTNN_INLINE auto fn(const T& x) noexcept {                                            \
    if constexpr (std::is_arithmetic_v<T>) return std::fn(x);                           \
    else return xsimd::fn(x);                                                           \
  }
CTNN_SIMD_UNARY(exp)
CTNN_SIMD_UNARY(log)
CTNN_SIMD_UNARY(log1p)
CTNN_SIMD_UNARY(tanh)
CTNN_SIMD_UNARY(sqrt)
CTNN_SIMD_UNARY(abs)
#undef CTNN_SIMD_UNARY
template <class T>
CTNN_INLINE T max(const T& a, const T& b) noexcept {
  if constexpr (std::is_arithmetic_v<T>) return a < b ? b : a;
  else return xsimd::max(a, b);
}
template <class T>
CTNN_INLINE T min(const T& a, const T& b) noexcept {
  if constexpr (std::is_arithmetic_v<T>) return b < a ? b : a;
  else return xsimd::min(a, b);
}
template <class T>
CTNN_INLINE T fma(const T& a, const T& b, const T& c) noexcept {
  if constexpr (std::is_arithmetic_v<T>) return a * b + c;
  else return xsimd::fma(a, b, c);
}

}  // namespace ctnn::simd
