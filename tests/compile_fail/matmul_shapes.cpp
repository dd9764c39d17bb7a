// Compile-fail case: the matrix product of a 2 x 3 and a 2 x 3 leaf (inner sizes 3 and 2).
// Expected: "ctnn: matrix product of incompatible shapes"
// (ctnn::diagnostic::matmul_inner_mismatch<2, 3, 2, 3>). Without CTNN_SHOULD_FAIL, the valid
// twin (2 x 3 times 3 x 2).
#include "ctnn/ctnn.hpp"

int main() {
  float av[6] = {1, 2, 3, 4, 5, 6}, bv[6] = {1, 2, 3, 4, 5, 6}, ga[6] = {}, gb[6] = {};
  auto a = ctnn::ad::variable<0, 2, 3>(av, ga);
#ifdef CTNN_SHOULD_FAIL
  auto b = ctnn::ad::variable<1, 2, 3>(bv, gb);
#else
  auto b = ctnn::ad::variable<1, 3, 2>(bv, gb);
#endif
  const float v = ctnn::ad::value_and_gradient(ctnn::ad::sum(ctnn::ad::matmul(a, b)));
  return v > 0.0f ? 0 : 1;
}
