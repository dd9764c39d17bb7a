// src/cli/preset_digits.cpp: the "digits" preset of the ctnn tool, 64-32-10 ReLU, for data/digits_*.csv (8x8 digit images); its own
// translation unit so presets compile in parallel. Layer: tool (src/cli).
#include "cli/static_model.hpp"

namespace ctnn::cli {

std::unique_ptr<Model> make_preset_digits(std::uint64_t seed) {
  using Net = Sequential<Dense<64, 32>, ReLU, Dense<32, 10>>;
  return std::make_unique<StaticModel<Net, CTNN_CLI_PRESET_BATCHES>>(seed);
}

}  // namespace ctnn::cli
