// Compile-fail case: element-wise sum of a 2 x 3 and a 3 x 2 leaf (neither dimension equal or 1).
// Expected: "ctnn: element-wise operands cannot be broadcast"
// (ctnn::diagnostic::broadcast_mismatch<ctnn::ops::Add, 2, 3, 3, 2>). Without CTNN_SHOULD_FAIL,
// the valid twin: 2 x 3 plus a 1 x 3 row (broadcast over the rows).
#include "ctnn/ctnn.hpp"

int main() {
  float av[6] = {1, 2, 3, 4, 5, 6}, bv[6] = {1, 2, 3, 4, 5, 6}, ga[6] = {}, gb[6] = {};
  auto a = ctnn::ad::variable<0, 2, 3>(av, ga);
#ifdef CTNN_SHOULD_FAIL
  auto b = ctnn::ad::variable<1, 3, 2>(bv, gb);
#else
  auto b = ctnn::ad::variable<1, 1, 3>(bv, gb);
#endif
  const float v = ctnn::ad::value_and_gradient(ctnn::ad::sum(a + b));
  return v > 0.0f ? 0 : 1;
}
