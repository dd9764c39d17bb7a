// src/cli/presets.cpp: the table of the ctnn tool's compiled presets (each defined in its own
// preset_<name>.cpp). Layer: tool (src/cli).
#include <array>

#include "cli/model.hpp"

namespace ctnn::cli {

std::unique_ptr<Model> make_preset_digits(std::uint64_t seed);
std::unique_ptr<Model> make_preset_iris(std::uint64_t seed);
std::unique_ptr<Model> make_preset_wine(std::uint64_t seed);
std::unique_ptr<Model> make_preset_breast_cancer(std::uint64_t seed);
std::unique_ptr<Model> make_preset_fashion(std::uint64_t seed);

std::span<const Preset> presets() {
  static const std::array<Preset, 5> table{{
      {"digits", "64-32-10 ReLU (data/digits_*.csv, 8x8 digit images)", make_preset_digits},
      {"iris", "4-8-3 ReLU (data/iris_*.csv)", make_preset_iris},
      {"wine", "13-16-3 ReLU (data/wine_*.csv)", make_preset_wine},
      {"breast_cancer", "30-16-2 ReLU (data/breast_cancer_*.csv)", make_preset_breast_cancer},
      {"fashion", "784-128-10 ReLU (Fashion-MNIST, IDX)", make_preset_fashion},
  }};
  return table;
}

}  // namespace ctnn::cli
