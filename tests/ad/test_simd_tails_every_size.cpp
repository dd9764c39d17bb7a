// SIMD tails: every size 1 .. 2W+1 of an element-wise map (square, as a 1 x N leaf) in float and
// double, so every partial-batch length (and its 4-, 2- and 1-lane pieces) is exercised, against a
// scalar reference with sentinels past the end (see simd_tail_check.hpp).
#include <utility>

#include "simd_tail_check.hpp"

namespace st = ctnn::test::simdtail;
constexpr std::size_t Wd = ctnn::simd::width<double>;
constexpr std::size_t Wf = ctnn::simd::width<float>;

namespace {
template <class T, std::size_t... I>
void square_every_size(std::index_sequence<I...>) {
  st::unary_sizes<T, ctnn::test::unary::Square, (I + 1)...>();
}
}  // namespace

TEST_CASE("SIMD tails (float): every size 1 .. 2W+1 of an element-wise map") {
  square_every_size<float>(std::make_index_sequence<2 * Wf + 1>{});
}
TEST_CASE("SIMD tails (double): every size 1 .. 2W+1 of an element-wise map") {
  square_every_size<double>(std::make_index_sequence<2 * Wd + 1>{});
}
