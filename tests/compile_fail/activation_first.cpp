// Compile-fail case: an activation as the first layer. It has no input size, so the network's
// input width is unknown. Expected: "ctnn: the first layer of a Sequential must fix the input
// size" (ctnn::diagnostic::first_layer_needs_input_size<false, ...>).
// The input is spelled std::array<float, Net::inputs>: the message appears when the network's
// shape check is instantiated (forward/gradient/loss); a 4-wide input would instead fail
// overload resolution first (see docs/errors.md). Without CTNN_SHOULD_FAIL, the valid twin.
#include <array>

#include "ctnn/ctnn.hpp"

#ifdef CTNN_SHOULD_FAIL
using Net = ctnn::Sequential<ctnn::ReLU, ctnn::Dense<4, 1>>;
#else
using Net = ctnn::Sequential<ctnn::Dense<4, 4>, ctnn::ReLU, ctnn::Dense<4, 1>>;
#endif

int main() {
  Net net(1);
  std::array<float, Net::inputs> x{};
  x.fill(1.0f);
  const auto y = net.forward(x);
  return y[0] > 0.0f ? 0 : 1;
}
