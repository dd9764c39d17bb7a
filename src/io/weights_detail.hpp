// Helpers shared by the compiled weight and checkpoint files (src/io only; not installed).
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "ctnn/io/weights.hpp"

namespace ctnn::io::detail {

// One parameter block of a spec: layer index, 'W' or 'b', shape ([out, in] or [out]), flat offset.
struct Block {
  std::size_t layer;
  char which;
  std::vector<std::size_t> shape;
  std::size_t offset;
  std::size_t size() const { return shape.size() == 2 ? shape[0] * shape[1] : shape[0]; }
};

std::string read_file(const std::string& path);  // whole file; DataError if it cannot be read
[[noreturn]] void bad(const std::string& path, const std::string& place, const std::string& what);
std::string shape_string(const std::vector<std::size_t>& shape);
std::string number_string(double v);  // 17 significant digits, "nan", "inf"
std::vector<Block> blocks_of(const ModelSpec& spec);
std::string block_name(const ModelSpec& spec, const Block& b);  // "layer 0 (Dense(4,8)) W"
void check_size(const ModelSpec& spec, std::size_t n, const char* what);

// Saving refuses a non-finite weight (a file that no loader would accept).
template <class T>
void check_finite_for_save(const std::string& path, const ModelSpec& spec, std::span<const T> params) {
  for (const Block& b : blocks_of(spec))
    for (std::size_t k = 0; k < b.size(); ++k)
      if (!std::isfinite(params[b.offset + k]))
        throw DataError(path + ": cannot save: " + block_name(spec, b) + " value " + std::to_string(k) +
                            " is non-finite (" + number_string(static_cast<double>(params[b.offset + k])) + ")",
                        path);
}

}  // namespace ctnn::io::detail
