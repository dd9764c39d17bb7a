// Compile-fail case: a layer whose declared input size differs from what the previous layer
// outputs. Dense<4, 5> outputs 5 values, ReLU keeps the width, but Dense<6, 1> (position 3,
// counting from 1) declares 6 inputs. Expected: one static assertion,
//   ctnn::diagnostic::layer_input_size_mismatch<3, ctnn::Dense<6, 1>, 5, 6>
// with "ctnn: layer input size mismatch". Every entry point (forward, gradient, loss) is used,
// and still only one error may be reported. Without CTNN_SHOULD_FAIL, the valid twin.
#include <array>

#include "ctnn/ctnn.hpp"

#ifdef CTNN_SHOULD_FAIL
using Net = ctnn::Sequential<ctnn::Dense<4, 5>, ctnn::ReLU, ctnn::Dense<6, 1>>;
#else
using Net = ctnn::Sequential<ctnn::Dense<4, 5>, ctnn::ReLU, ctnn::Dense<5, 1>>;
#endif

int main() {
  Net net(1);
  const std::array<float, 4> x{1, 2, 3, 4};
  const auto y = net.forward(x);
  ctnn::Matrix<float, 2, 4> xb{};
  ctnn::Matrix<float, 2, 1> tb{};
  const auto g = net.gradient<2>(ctnn::loss::mse_half_sum, xb, tb);
  const float l = net.loss<2>(ctnn::loss::mse_half_sum, xb.data(), tb.data());
  return y[0] + g.loss + l > 0.0f ? 0 : 1;
}
