// SIMD tails in float, element-wise primitives (half A of the list in unary_ops.hpp): the SIMD
// path at sizes 1, W-1, W, W+1, 2W+3 (W = ctnn::simd::width<float>, 8 on AVX2) as a 1 x N leaf,
// against a scalar std:: reference, with sentinels past the end (see simd_tail_check.hpp).
// (These caught the strict-aliasing bug of the 2-float pieces of simd::detail::load_lt4/store_lt4,
// fixed in a174c23: lanes 4-5 of a 7-lane float tail read back stale at -O3.)
#include "simd_tail_check.hpp"

namespace st = ctnn::test::simdtail;
using T = float;
constexpr std::size_t W = ctnn::simd::width<T>;

TEST_CASE_TEMPLATE("SIMD tails (float): element-wise primitive vs std:: at sizes 1, W-1, W, W+1, 2W+3", D,
                   CTNN_UNARY_OPS_A) {
  st::unary_sizes<T, D, 1, W - 1, W, W + 1, 2 * W + 3>();
}
