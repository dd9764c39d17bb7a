// src/cli/preset_wine.cpp: the "wine" preset of the ctnn tool, 13-16-3 ReLU, for data/wine_*.csv; its own
// translation unit so presets compile in parallel. Layer: tool (src/cli).
#include "cli/static_model.hpp"

namespace ctnn::cli {

std::unique_ptr<Model> make_preset_wine(std::uint64_t seed) {
  using Net = Sequential<Dense<13, 16>, ReLU, Dense<16, 3>>;
  return std::make_unique<StaticModel<Net, CTNN_CLI_PRESET_BATCHES>>(seed);
}

}  // namespace ctnn::cli
