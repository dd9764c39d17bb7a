// SIMD tails in double, element-wise primitives (half B of the list in unary_ops.hpp): the SIMD
// path at sizes 1, W-1, W, W+1, 2W+3 (W = ctnn::simd::width<double>, 4 on AVX2) as a 1 x N leaf,
// against a scalar std:: reference, with sentinels past the end (see simd_tail_check.hpp).
#include "simd_tail_check.hpp"

namespace st = ctnn::test::simdtail;
using T = double;
constexpr std::size_t W = ctnn::simd::width<T>;

TEST_CASE_TEMPLATE("SIMD tails (double): element-wise primitive vs std:: at sizes 1, W-1, W, W+1, 2W+3", D,
                   CTNN_UNARY_OPS_B) {
  st::unary_sizes<T, D, 1, W - 1, W, W + 1, 2 * W + 3>();
}
