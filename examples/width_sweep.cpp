// examples/width_sweep.cpp: choosing a hidden width by trying candidates, on data/digits (8x8
// handwritten digits, 64 features, 10 classes).
//
// The candidates are ONE compile-time list of widths (`Widths` below); every topology
// Sequential<Dense<64, W>, ReLU, Dense<W, 10>> is instantiated from it by a fold over the list,
// trained with the Trainer (Adam, fixed seeds) and scored by k-fold cross-validation on the
// TRAINING set only (the test set plays no part in the choice). The table gives width, parameter
// count, mean (and spread of) validation accuracy over the folds, and training time. The best
// mean validation accuracy wins (a tie goes to the smaller network). The chosen width is then
// trained on the whole training set and scored once on the test set.
// The claim checked (exit status): the chosen width's test accuracy is at least 0.97.
//
// Run: build/examples/width_sweep [data folder] [run.csv]
//   data folder: default $CTNN_DATA, else ./data
//   run.csv:     optional; the final run's per-epoch log (Trainer's CSV, the test set as its
//                monitored validation set), e.g. for tools/plot-run.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/io/csv.hpp"
#include "ctnn/optim/optim.hpp"
#include "ctnn/train/trainer.hpp"

namespace {

using Widths = std::index_sequence<4, 8, 16, 32, 64, 128>;  // the candidates: one list
template <std::size_t W>
using Candidate = ctnn::Sequential<ctnn::Dense<64, W>, ctnn::ReLU, ctnn::Dense<W, 10>>;

constexpr std::size_t kFolds = 5, kEpochs = 20, kBatch = 32;
constexpr double kLr = 0.003, kRequiredTest = 0.97;
constexpr std::uint64_t kSeed = 2026;

struct Score {
  std::size_t width = 0, params = 0;
  double mean_acc = 0, sd_acc = 0, seconds = 0;
};

// Rows `idx` of d, in that order.
ctnn::io::Dataset subset(const ctnn::io::Dataset& d, const std::vector<std::size_t>& idx) {
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

// k-fold cross-validation of width W on the training set; folds[f] = the rows of fold f.
template <std::size_t W>
Score cross_validate(const ctnn::io::Dataset& train, const std::vector<std::vector<std::size_t>>& folds) {
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

template <std::size_t... W>
std::vector<Score> sweep(std::index_sequence<W...>, const ctnn::io::Dataset& train,
                         const std::vector<std::vector<std::size_t>>& folds) {
  return {cross_validate<W>(train, folds)...};
}

// The final run for the width chosen at run time: dispatched to its compile-time candidate.
template <std::size_t... W>
double final_run(std::index_sequence<W...>, std::size_t width, const ctnn::io::Dataset& train,
                 const ctnn::io::Dataset& test, const std::string& csv, double* seconds) {
  double acc = -1;
  ((W == width ? (acc = train_and_score<W>(train, test, kSeed, seconds, csv, "test"), 0) : 0), ...);
  return acc;
}

}  // namespace

int main(int argc, char** argv) {
  const char* env = std::getenv("CTNN_DATA");
  const std::string dir = argc > 1 ? argv[1] : env ? env : "data";
  const std::string csv = argc > 2 ? argv[2] : "";
  ctnn::io::Dataset train, test;
  try {
    train = ctnn::io::load_csv(dir + "/digits_train.csv");
    test = ctnn::io::load_csv(dir + "/digits_test.csv");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "width_sweep: %s\n", e.what());
    return 2;
  }
  const auto standardizer = ctnn::io::Standardizer::fit(train);  // training statistics only
  standardizer.apply(train);
  standardizer.apply(test);

  // k folds of the training set: a seeded permutation dealt round-robin.
  std::vector<std::size_t> perm(train.rows);
  std::iota(perm.begin(), perm.end(), std::size_t{0});
  ctnn::Random rng(kSeed);
  for (std::size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);
  std::vector<std::vector<std::size_t>> folds(kFolds);
  for (std::size_t i = 0; i < perm.size(); ++i) folds[i % kFolds].push_back(perm[i]);

  std::printf("digits: %zu train / %zu test rows, 64 features, 10 classes; 64-W-10 ReLU, Adam lr %g, batch %zu, "
              "%zu epochs, %zu-fold cross-validation on the training set\n\n",
              train.rows, test.rows, kLr, kBatch, kEpochs, kFolds);
  std::vector<Score> scores;
  try {
    scores = sweep(Widths{}, train, folds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "width_sweep: %s\n", e.what());
    return 3;
  }
  std::size_t best = 0;  // highest mean accuracy; ties keep the earlier (smaller) width
  for (std::size_t i = 1; i < scores.size(); ++i)
    if (scores[i].mean_acc > scores[best].mean_acc) best = i;
  std::printf("%6s %8s %18s %12s\n", "width", "params", "val acc (mean±sd)", "train s");
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const Score& s = scores[i];
    std::printf("%6zu %8zu %11.4f±%.4f %12.2f%s\n", s.width, s.params, s.mean_acc, s.sd_acc, s.seconds,
                i == best ? "  <- best" : "");
  }
  const std::size_t width = scores[best].width;
  std::printf("\nchosen width %zu; training it on all %zu training rows (test set monitored only)\n", width,
              train.rows);
  std::fflush(stdout);
  double seconds = 0, test_acc = -1;
  try {
    test_acc = final_run(Widths{}, width, train, test, csv, &seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "width_sweep: %s\n", e.what());
    return 3;
  }
  std::printf("width %zu: test accuracy %.4f (required >= %.2f), %.2f s training\n", width, test_acc, kRequiredTest,
              seconds);
  if (!csv.empty()) std::printf("run log: %s\n", csv.c_str());
  return test_acc >= kRequiredTest ? 0 : 1;
}
