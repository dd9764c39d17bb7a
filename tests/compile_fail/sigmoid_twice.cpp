// Compile-fail case: a network ending in Sigmoid trained with bce_logits, which takes logits.
// Expected: "ctnn: sigmoid applied twice" (ctnn::diagnostic::sigmoid_applied_twice<true>).
// Without CTNN_SHOULD_FAIL, the valid twin: the same network trained with bce_prob.
#include "ctnn/ctnn.hpp"

int main() {
  ctnn::Sequential<ctnn::Dense<4, 1>, ctnn::Sigmoid> net(1);
  ctnn::Matrix<float, 2, 4> x{};
  ctnn::Matrix<float, 2, 1> y{};
#ifdef CTNN_SHOULD_FAIL
  const float l = net.gradient<2>(ctnn::loss::bce_logits, x.data(), y.data());
#else
  const float l = net.gradient<2>(ctnn::loss::bce_prob, x.data(), y.data());
#endif
  return l >= 0.0f ? 0 : 1;
}
