// SIMD tails of the reductions and row-wise nodes (sum, mean, logsumexp, softmax on a 1 x N row,
// row_sum on an RS x N block) in double and float at sizes 1, W-1, W, W+1, 2W+3, 4W+5, against a
// double reference, with sentinels past the end (see simd_tail_check.hpp).
#include "simd_tail_check.hpp"

namespace st = ctnn::test::simdtail;
constexpr std::size_t Wd = ctnn::simd::width<double>;
constexpr std::size_t Wf = ctnn::simd::width<float>;

TEST_CASE("SIMD tails (double): sum, mean, logsumexp, softmax, row_sum at sizes 1, W-1, W, W+1, 2W+3, 4W+5") {
  st::reduction_sizes<double, 3, 1, Wd - 1, Wd, Wd + 1, 2 * Wd + 3, 4 * Wd + 5>();
}

TEST_CASE("SIMD tails (float): sum, mean, logsumexp, softmax, row_sum at sizes 1, W-1, W, W+1, 2W+3, 4W+5") {
  st::reduction_sizes<float, 2, 1, Wf - 1, Wf, Wf + 1, 2 * Wf + 3, 4 * Wf + 5>();
}
