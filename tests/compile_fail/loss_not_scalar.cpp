// Compile-fail case: a loss that is not reduced to a 1 x 1 expression (an element-wise square
// of the 2 x 3 error). Expected: "ctnn: a loss must be a scalar"
// (ctnn::diagnostic::loss_not_scalar<2, 3>). Without CTNN_SHOULD_FAIL, the valid twin (summed).
#include "ctnn/ctnn.hpp"

int main() {
  ctnn::Sequential<ctnn::Dense<4, 3>, ctnn::Sigmoid> net(1);
  ctnn::Matrix<float, 2, 4> x{};
  ctnn::Matrix<float, 2, 3> y{};
#ifdef CTNN_SHOULD_FAIL
  auto loss = [](auto p, auto t) { return ctnn::square(p - t); };
#else
  auto loss = [](auto p, auto t) { return ctnn::sum(ctnn::square(p - t)); };
#endif
  const float l = net.gradient<2>(loss, x.data(), y.data());
  return l >= 0.0f ? 0 : 1;
}
