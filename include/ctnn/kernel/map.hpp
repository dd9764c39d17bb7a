// ctnn/kernel/map.hpp: element-wise maps over N contiguous elements with a compile-time trip
// count: full SIMD batches, then one partial batch for the tail (never a scalar tail loop).
// f is one generic callable that works on scalars and on batches.
// Layer: kernel.
#pragma once
#include <cstddef>
#include <type_traits>

#include "ctnn/kernel/simd.hpp"

namespace ctnn::kernel {

/// out[i] = f(in[i]...)            (Acc = false)
/// out[i] += f(in[i]...)           (Acc = true)
template <std::size_t N, bool Acc = false, class T, class F, class... In>
CTNN_INLINE void map(F&& f, T* CTNN_RESTRICT out, const In*... in) noexcept {
  if constexpr (simd::has_batch<T>) {
    constexpr std::size_t W = simd::width<T>;
    constexpr std::size_t full = N / W * W;
    for (std::size_t i = 0; i < full; i += W) {
      auto v = f(simd::load(in + i)...);
      if constexpr (Acc) v += simd::load(out + i);
      simd::store(out + i, v);
    }
    if constexpr (N % W != 0) {
      // The tail: one (possibly 128-bit) batch, or 4 + the rest for 5..7 floats (simd::split_tail).
      auto tail = [&]<std::size_t r, std::size_t at>() {
        auto v = f(simd::load_n<r>(in + at)...);
        if constexpr (Acc) v += simd::load_n<r>(out + at);
        simd::store_n<r>(out + at, v);
      };
      if constexpr (simd::split_tail<T, N % W>) {
        tail.template operator()<4, full>();
        tail.template operator()<N % W - 4, full + 4>();
      } else {
        tail.template operator()<N % W, full>();
      }
    }
  } else {
    for (std::size_t i = 0; i < N; ++i) {
      if constexpr (Acc) out[i] += f(in[i]...);
      else out[i] = f(in[i]...);
    }
  }
}

/// out[i] = value (or += value).
template <std::size_t N, bool Acc = false, class T>
CTNN_INLINE void fill(T* CTNN_RESTRICT out, T value) noexcept {
  if constexpr (simd::has_batch<T>) {
    constexpr std::size_t W = simd::width<T>;
    const simd::batch<T> v(value);
    for (std::size_t i = 0; i + W <= N; i += W) simd::store(out + i, Acc ? v + simd::load(out + i) : v);
    if constexpr (N % W != 0) {
      constexpr std::size_t r = N % W, at = N / W * W;
      simd::store_partial<r>(out + at, Acc ? v + simd::load_partial<r>(out + at) : v);
    }
  } else {
    for (std::size_t i = 0; i < N; ++i) out[i] = Acc ? out[i] + value : value;
  }
}

/// p[i] *= s in place.
template <std::size_t N, class T>
CTNN_INLINE void scale_inplace(T* p, T s) noexcept {
  if constexpr (simd::has_batch<T>) {
    constexpr std::size_t W = simd::width<T>;
    const simd::batch<T> v(s);
    for (std::size_t i = 0; i + W <= N; i += W) simd::store(p + i, simd::load(p + i) * v);
    if constexpr (N % W != 0) {
      constexpr std::size_t r = N % W, at = N / W * W;
      simd::store_partial<r>(p + at, simd::load_partial<r>(p + at) * v);
    }
  } else {
    for (std::size_t i = 0; i < N; ++i) p[i] *= s;
  }
}

/// out = in (or out += in).
template <std::size_t N, bool Acc = false, class T>
CTNN_INLINE void copy(T* CTNN_RESTRICT out, const T* CTNN_RESTRICT in) noexcept {
  map<N, Acc>([](auto x) { return x; }, out, in);
}

}  // namespace ctnn::kernel
