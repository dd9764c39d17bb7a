// examples/width_sweep.hpp: the candidates of the hidden-width sweep (examples/width_sweep.cpp) --
// ONE compile-time list of widths -- and the code that cross-validates and trains them.
// Every topology is instantiated from the list by the template Slice<Begin, End> (the candidates
// Widths[Begin..End)). Its two halves are explicitly instantiated in two translation units
// (width_sweep.cpp and width_sweep_wide.cpp) so neither pays for all six networks' code
// generation (~4.6 s CPU each at -O3, on a ~13 s base for the Trainer): each TU stays under ~30 s.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/io/dataset.hpp"
#include "ctnn/optim/optim.hpp"
#include "ctnn/train/trainer.hpp"

namespace width_sweep {

using Widths = std::index_sequence<4, 8, 16, 32, 64, 128>;  // the candidates: one list
inline constexpr std::size_t kCandidates = Widths::size(), kSplit = kCandidates / 2;
template <std::size_t W>
using Candidate = ctnn::Sequential<ctnn::Dense<64, W>, ctnn::ReLU, ctnn::Dense<W, 10>>;

inline constexpr std::size_t kFolds = 5, kEpochs = 20, kBatch = 32;
inline constexpr double kLr = 0.003;
inline constexpr std::uint64_t kSeed = 2026;

struct Score {
  std::size_t width = 0, params = 0;
  double mean_acc = 0, sd_acc = 0, seconds = 0;
};
using Folds = std::vector<std::vector<std::size_t>>;  // folds[f] = the training rows of fold f

// Rows `idx` of d, in that order.
inline ctnn::io::Dataset subset(const ctnn::io::Dataset& d, const std::vector<std::size_t>& idx) {
  ctnn::io::Dataset s;
  s.rows = idx.size();
  s.cols = d.cols;
  s.feature_names = d.feature_names;
  s.features.reserve(s.rows * s.cols);
  for (std::size_t i : idx) {
    s.features.insert(s.features.end(), d.row(i), d.row(i) + d.cols);
    s.labels.push_back(d.labels[i]);
  }
  return s;
}

// One training run of width W: a fresh network and Adam, the Trainer for kEpochs epochs.
// Returns the accuracy on `val` and adds the training seconds (sum of epoch times) to *seconds.
template <std::size_t W>
double train_and_score(const ctnn::io::Dataset& train, const ctnn::io::Dataset& val, std::uint64_t seed,
                       double* seconds, const std::string& csv = {}, const char* val_name = "val") {
  using Net = Candidate<W>;
  Net net(seed);
  ctnn::optim::Adam<float> adam(Net::num_params, ctnn::optim::AdamOptions{kLr});
  ctnn::train::TrainerOptions o;
  o.epochs = kEpochs;
  o.seed = seed;
  o.display = csv.empty() ? ctnn::train::Display::none : ctnn::train::Display::automatic;
  o.csv_path = csv;
  o.validation_name = val_name;
  auto trainer = ctnn::train::make_trainer<kBatch>(net, adam, o);
  const auto r = trainer.fit(ctnn::loss::softmax_cross_entropy, train, &val);
  if (r.stopped_by == ctnn::train::StopCriterion::non_finite) throw std::runtime_error(r.message);
  for (const auto& e : r.history) *seconds += e.seconds;
  return r.validation.accuracy();
}

// k-fold cross-validation of width W on the training set.
template <std::size_t W>
Score cross_validate(const ctnn::io::Dataset& train, const Folds& folds) {
  Score s{W, Candidate<W>::num_params};
  std::vector<double> acc;
  for (std::size_t f = 0; f < folds.size(); ++f) {
    std::vector<std::size_t> rest;
    for (std::size_t g = 0; g < folds.size(); ++g)
      if (g != f) rest.insert(rest.end(), folds[g].begin(), folds[g].end());
    acc.push_back(train_and_score<W>(subset(train, rest), subset(train, folds[f]), kSeed + f, &s.seconds));
  }
  const double n = static_cast<double>(acc.size());
  s.mean_acc = std::accumulate(acc.begin(), acc.end(), 0.0) / n;
  double ss = 0;
  for (double a : acc) ss += (a - s.mean_acc) * (a - s.mean_acc);
  s.sd_acc = std::sqrt(ss / (n - 1));
  return s;
}

template <std::size_t I, std::size_t... W>
constexpr std::size_t width_at(std::index_sequence<W...>) {
  constexpr std::size_t w[] = {W...};
  return w[I];
}

// The candidates Widths[Begin..End): their cross-validation scores, and the final run of the
// one chosen at run time (dispatched to its compile-time network).
template <std::size_t Begin, std::size_t End>
struct Slice {
  static std::vector<Score> sweep(const ctnn::io::Dataset& train, const Folds& folds);
  /// Trains `width` on train, scores it on test; false when the width is not in this slice.
  static bool final_run(std::size_t width, const ctnn::io::Dataset& train, const ctnn::io::Dataset& test,
                        const std::string& csv, double* test_acc, double* seconds);
};
// Defined out of the class (so not inline): a TU that sees `extern template` below does not
// instantiate them, not even for inlining.
template <std::size_t Begin, std::size_t End>
std::vector<Score> Slice<Begin, End>::sweep(const ctnn::io::Dataset& train, const Folds& folds) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return std::vector<Score>{cross_validate<width_at<Begin + I>(Widths{})>(train, folds)...};
  }(std::make_index_sequence<End - Begin>{});
}
template <std::size_t Begin, std::size_t End>
bool Slice<Begin, End>::final_run(std::size_t width, const ctnn::io::Dataset& train, const ctnn::io::Dataset& test,
                                  const std::string& csv, double* test_acc, double* seconds) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return ((width_at<Begin + I>(Widths{}) == width
                 ? (*test_acc = train_and_score<width_at<Begin + I>(Widths{})>(train, test, kSeed, seconds, csv, "test"),
                    true)
                 : false) || ...);
  }(std::make_index_sequence<End - Begin>{});
}
// The two halves, each compiled in its own translation unit.
extern template struct Slice<0, kSplit>;             // width_sweep.cpp
extern template struct Slice<kSplit, kCandidates>;  // width_sweep_wide.cpp

}  // namespace width_sweep
