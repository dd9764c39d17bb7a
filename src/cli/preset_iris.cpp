// src/cli/preset_iris.cpp: the "iris" preset of the ctnn tool, 4-8-3 ReLU, for data/iris_*.csv; its own
// translation unit so presets compile in parallel. Layer: tool (src/cli).
#include "cli/static_model.hpp"

namespace ctnn::cli {

std::unique_ptr<Model> make_preset_iris(std::uint64_t seed) {
  using Net = Sequential<Dense<4, 8>, ReLU, Dense<8, 3>>;
  return std::make_unique<StaticModel<Net, CTNN_CLI_PRESET_BATCHES>>(seed);
}

}  // namespace ctnn::cli
