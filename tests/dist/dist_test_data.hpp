// tests/dist: the data the data-parallel tests train on -- a shipped CSV split, standardised with its
// own statistics (CTNN_DATA names the folder; meson sets it), and a copy of a set's first rows.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <string>

#include "ctnn/io/csv.hpp"

namespace dist_test {

inline ctnn::io::Dataset standardized(const std::string& name) {
  const char* dir = std::getenv("CTNN_DATA");
  auto d = ctnn::io::load_csv(std::string(dir ? dir : "data") + "/" + name);
  ctnn::io::Standardizer::fit(d).apply(d);
  return d;
}
inline ctnn::io::Dataset iris() { return standardized("iris_train.csv"); }

/// A copy of d's first n rows.
inline ctnn::io::Dataset first_rows(const ctnn::io::Dataset& d, std::size_t n) {
  auto c = d;
  c.rows = n;
  c.features.resize(n * d.cols);
  c.labels.resize(n);
  return c;
}

}  // namespace dist_test
