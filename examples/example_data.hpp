// examples/example_data.hpp: how the textbook examples find and load the UCI CSV files of data/:
// the folder is the first command-line argument, else $CTNN_DATA (set by the meson tests), else
// ./data; a missing or malformed file, or one of the wrong shape, ends the program with exit
// status 2 (not 1, which the examples keep for "the claim failed") and a message naming the file.
// Layer: examples (uses io).
#pragma once
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "ctnn/io/csv.hpp"

namespace example {

inline std::string data_dir(int argc, char** argv) {
  const char* env = std::getenv("CTNN_DATA");
  return argc > 1 ? argv[1] : env ? env : "data";
}

/// dir/file, which must have `cols` features and `classes` classes.
inline ctnn::io::Dataset load(const char* program, const std::string& dir, const std::string& file, std::size_t cols,
                              std::size_t classes) {
  const std::string path = dir + "/" + file;
  ctnn::io::Dataset d;
  try {
    d = ctnn::io::load_csv(path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n(give the data folder as the first argument or in CTNN_DATA)\n", program, e.what());
    std::exit(2);
  }
  if (d.cols != cols || d.num_classes() != classes) {
    std::fprintf(stderr, "%s: %s: %zu features and %zu classes, expected %zu and %zu\n", program, path.c_str(), d.cols,
                 d.num_classes(), cols, classes);
    std::exit(2);
  }
  return d;
}

}  // namespace example
