// ctnn/core/config.hpp: build-wide switches and the few macros every layer uses.
// Layer: core (includes nothing from ctnn).
#pragma once
#include <cstddef>

#if defined(__GNUC__)
#define CTNN_INLINE inline __attribute__((always_inline))
#define CTNN_RESTRICT __restrict__
#else
#define CTNN_INLINE inline
#define CTNN_RESTRICT
#endif

namespace ctnn {
/// Alignment of every buffer ctnn allocates (a cache line; enough for AVX-512 loads).
inline constexpr std::size_t alignment = 64;
/// Workspaces up to this many bytes live on the stack of the calling pass; larger ones are
/// allocated once per thread and reused (see ad/tape_static.hpp).
inline constexpr std::size_t stack_workspace_limit = 16 * 1024;
}  // namespace ctnn
