// ctnn/core/config.hpp: build-wide switches and the few macros every layer uses.
// Layer: core (includes nothing from ctnn).
#pragma once
#include <cstddef>

// g++ 12.1-12.2 (Debian 12's) reports its own AVX-512 intrinsics as reading uninitialised values
// wherever they are inlined (GCC bug 105593: `__m512 __Y = __Y;` in _mm512_undefined_*, fixed in
// 12.3). The diagnostic is located in the intrinsic headers, so ignoring it around their first
// inclusion silences exactly those reports and no warning about our own code. Every ctnn header
// includes this file before xsimd.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12 && __GNUC_MINOR__ < 3 && defined(__AVX512F__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif

#if defined(__GNUC__)
#define CTNN_INLINE inline __attribute__((always_inline))
#define CTNN_INLINE_LAMBDA __attribute__((always_inline))  // after a lambda's parameter list
#define CTNN_RESTRICT __restrict__
#else
#define CTNN_INLINE inline
#define CTNN_INLINE_LAMBDA
#define CTNN_RESTRICT
#endif

namespace ctnn {
/// Alignment of every buffer ctnn allocates (a cache line; enough for AVX-512 loads).
inline constexpr std::size_t alignment = 64;
/// Workspaces up to this many bytes live on the stack of the calling pass; larger ones are
/// allocated once per thread and reused (see ad/tape_static.hpp).
inline constexpr std::size_t stack_workspace_limit = 16 * 1024;
}  // namespace ctnn
