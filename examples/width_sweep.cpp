// examples/width_sweep.cpp: choosing a hidden width by trying candidates, on data/digits (8x8
// handwritten digits, 64 features, 10 classes).
//
// The candidates are ONE compile-time list of widths (`Widths` in width_sweep.hpp); every topology
// Sequential<Dense<64, W>, ReLU, Dense<W, 10>> is instantiated from it by a fold over the list,
// trained with the Trainer (Adam, fixed seeds) and scored by k-fold cross-validation on the
// TRAINING set only (the test set plays no part in the choice). The table gives width, parameter
// count, mean (and spread of) validation accuracy over the folds, and training time. The best
// mean validation accuracy wins (a tie goes to the smaller network). The chosen width is then
// trained on the whole training set and scored once on the test set.
// The claim checked (exit status): the chosen width's test accuracy is at least 0.97.
// This file holds main and the narrower half of the candidates' code (explicit instantiation);
// width_sweep_wide.cpp the wider half, to keep each translation unit's compile time moderate.
//
// Run: build/examples/width_sweep [data folder] [run.csv]
//   data folder: default $CTNN_DATA, else ./data
//   run.csv:     optional; the final run's per-epoch log (Trainer's CSV, the test set as its
//                monitored validation set), e.g. for tools/plot-run.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/io/csv.hpp"
#include "width_sweep.hpp"

namespace width_sweep {
template struct Slice<0, kSplit>;
}  // namespace width_sweep

int main(int argc, char** argv) {
  using namespace width_sweep;
  constexpr double kRequiredTest = 0.97;
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
  Folds folds(kFolds);
  for (std::size_t i = 0; i < perm.size(); ++i) folds[i % kFolds].push_back(perm[i]);

  std::printf("digits: %zu train / %zu test rows, 64 features, 10 classes; 64-W-10 ReLU, Adam lr %g, batch %zu, "
              "%zu epochs, %zu-fold cross-validation on the training set\n\n",
              train.rows, test.rows, kLr, kBatch, kEpochs, kFolds);
  std::vector<Score> scores;
  try {
    scores = Slice<0, kSplit>::sweep(train, folds);
    const auto wide = Slice<kSplit, kCandidates>::sweep(train, folds);
    scores.insert(scores.end(), wide.begin(), wide.end());
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
    if (!Slice<0, kSplit>::final_run(width, train, test, csv, &test_acc, &seconds) &&
        !Slice<kSplit, kCandidates>::final_run(width, train, test, csv, &test_acc, &seconds))
      throw std::logic_error("width " + std::to_string(width) + " is not a candidate");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "width_sweep: %s\n", e.what());
    return 3;
  }
  std::printf("width %zu: test accuracy %.4f (required >= %.2f), %.2f s training\n", width, test_acc, kRequiredTest,
              seconds);
  if (!csv.empty()) std::printf("run log: %s\n", csv.c_str());
  return test_acc >= kRequiredTest ? 0 : 1;
}
