// src/cli/preset_fashion.cpp: the "fashion" preset of the ctnn tool, 784-128-10 ReLU, for Fashion-MNIST (IDX); its own
// translation unit so presets compile in parallel. Layer: tool (src/cli).
#include "cli/static_model.hpp"

namespace ctnn::cli {

std::unique_ptr<Model> make_preset_fashion(std::uint64_t seed) {
  using Net = Sequential<Dense<784, 128>, ReLU, Dense<128, 10>>;
  return std::make_unique<StaticModel<Net, CTNN_CLI_PRESET_BATCHES>>(seed);
}

}  // namespace ctnn::cli
