// src/cli/preset_breast_cancer.cpp: the "breast_cancer" preset of the ctnn tool, 30-16-2 ReLU, for data/breast_cancer_*.csv; its own
// translation unit so presets compile in parallel. Layer: tool (src/cli).
#include "cli/static_model.hpp"

namespace ctnn::cli {

std::unique_ptr<Model> make_preset_breast_cancer(std::uint64_t seed) {
  using Net = Sequential<Dense<30, 16>, ReLU, Dense<16, 2>>;
  return std::make_unique<StaticModel<Net, CTNN_CLI_PRESET_BATCHES>>(seed);
}

}  // namespace ctnn::cli
