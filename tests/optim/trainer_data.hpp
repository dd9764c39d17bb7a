// tests/optim/trainer_data.hpp: small labelled sets (ctnn::io::Dataset) and the network the
// Trainer tests use: three Gaussian blobs in the plane, classes 0, 1, 2.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/io/dataset.hpp"

namespace trainer_test {

using Net = ctnn::Network<double, ctnn::Dense<2, 8>, ctnn::Tanh, ctnn::Dense<8, 3>>;
inline constexpr auto loss = ctnn::loss::softmax_cross_entropy;

/// n points, class i % 3, centred at (2 cos(2 pi c/3), 2 sin(2 pi c/3)) with unit-variance noise * spread.
inline ctnn::io::Dataset blobs(std::size_t n, std::uint64_t seed, double spread = 0.6) {
  ctnn::io::Dataset d;
  d.rows = n;
  d.cols = 2;
  d.feature_names = {"x", "y"};
  ctnn::Random rng(seed);
  for (std::size_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % 3);
    const double a = 2.0943951023931953 * c;
    d.features.push_back(static_cast<float>(2 * std::cos(a) + spread * rng.normal()));
    d.features.push_back(static_cast<float>(2 * std::sin(a) + spread * rng.normal()));
    d.labels.push_back(c);
  }
  return d;
}

}  // namespace trainer_test
