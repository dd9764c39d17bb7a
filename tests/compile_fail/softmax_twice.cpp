// Compile-fail case: a network ending in Softmax trained with softmax_cross_entropy, which takes
// logits (the softmax would be applied twice: it trains, to a worse loss, with no error at run
// time). Expected: "ctnn: softmax applied twice" (ctnn::diagnostic::softmax_applied_twice<true>).
// Without CTNN_SHOULD_FAIL, the valid twin: the same network trained with cross_entropy.
#include "ctnn/ctnn.hpp"

int main() {
  ctnn::Sequential<ctnn::Dense<4, 3>, ctnn::Softmax> net(1);
  ctnn::Matrix<float, 2, 4> x{};
  ctnn::Matrix<float, 2, 3> y{};
#ifdef CTNN_SHOULD_FAIL
  const float l = net.gradient<2>(ctnn::loss::softmax_cross_entropy, x.data(), y.data());
#else
  const float l = net.gradient<2>(ctnn::loss::cross_entropy, x.data(), y.data());
#endif
  return l >= 0.0f ? 0 : 1;
}
