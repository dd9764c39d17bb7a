// examples/width_sweep.cpp: choosing a hidden width by trying candidates, on data/digits (8x8
// handwritten digits, 64 features, 10 classes).
//
// The candidates are ONE compile-time list of widths (`Widths` in width_sweep.hpp); every topology
// Sequential<Dense<64, W>, ReLU, Dense<W, 10>> is instantiated from it by a fold over the list,
// trained with the Trainer (Adam, fixed seeds) and scored by k-fold cross-validation on the
// TRAINING set only (the test set plays no part in the choice). The table gives width, parameter
// count, mean (and spread of) validation accuracy over the folds, and training time. The best
// mean validation accuracy is marked, but differences within one standard error (sd/sqrt(5)) are
// not resolved by the folds (64 vs 128: 0.9687 vs 0.9694, SE 0.0047), so the choice follows the
// one-standard-error rule: the smallest width whose mean is within one SE of the best (32,
// 0.9659). The chosen width is then trained on the whole training set and scored once on the test
// set, beside the best-mean width for comparison. Measured: chosen 32, test 0.9667; width 128 (best
// mean) 0.9750, 3 of 360 test rows more, within 2 binomial SEs (2 x 0.0082). Epoch times are
// printed (s/epoch), never asserted.
// The claims checked (exit status): the folds resolve under-capacity, i.e. the smallest width's
// mean is more than 3 SE below the best (measured 29 SE) so the rule takes a larger width; and
// the chosen width's test accuracy is within 2 binomial standard errors of the best-mean width's.
// This file holds main and the narrower half of the candidates' code (explicit instantiation);
// width_sweep_wide.cpp the wider half, to keep each translation unit's compile time moderate.
//
// Run: build-test/examples/width_sweep [data folder] [run.csv]
//   data folder: default $CTNN_DATA, else ./data
//   run.csv:     optional; the final run's per-epoch log (Trainer's CSV, the test set as its
//                monitored validation set), e.g. for tools/plot-run.
#include <cmath>
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
  // The one-standard-error rule: the smallest width whose mean is within one standard error
  // (sd / sqrt(folds)) of the best mean; differences below that are not resolved by the folds.
  const double se = scores[best].sd_acc / std::sqrt(static_cast<double>(kFolds));
  std::size_t chosen = best;
  for (std::size_t i = best + 1; i-- > 0;)
    if (scores[i].mean_acc >= scores[best].mean_acc - se) chosen = i;
  std::printf("%6s %8s %18s %9s %10s\n", "width", "params", "val acc (mean±sd)", "train s", "s/epoch");
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const Score& s = scores[i];
    const double gap = (scores[best].mean_acc - s.mean_acc) / se;
    std::printf("%6zu %8zu %11.4f±%.4f %9.3f %10.2e  %5.1f SE below the best%s%s\n", s.width, s.params, s.mean_acc,
                s.sd_acc, s.seconds, s.seconds / static_cast<double>(kFolds * kEpochs), gap,
                i == best ? "  <- best mean" : "", i == chosen ? "  <- chosen (1-SE rule)" : "");
  }
  std::printf("\nstandard error of the best mean: %.4f (sd %.4f / sqrt(%zu folds)). Widths within one SE of the best\n"
              "are not told apart by the folds; the one-standard-error rule takes the smallest of them.\n",
              se, scores[best].sd_acc, kFolds);
  // Claim on the choice: the folds resolve under-capacity, i.e. the smallest candidate lies more
  // than kResolved standard errors below the best, so the rule cannot fall back to it.
  constexpr double kResolved = 3;
  const double smallest_gap = (scores[best].mean_acc - scores.front().mean_acc) / se;
  const bool resolved = smallest_gap > kResolved && chosen != 0;
  const std::size_t width = scores[chosen].width;
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
  std::printf("width %zu: test accuracy %.4f, %.3f s training\n", width, test_acc, seconds);
  if (!csv.empty()) std::printf("run log: %s\n", csv.c_str());
  // The rule's premise, checked on the test set: the smaller choice loses nothing the test set can
  // resolve against the best-mean width (within 2 binomial standard errors of a 360-row accuracy).
  double best_test = test_acc, best_seconds = 0;
  if (best != chosen) {
    const std::size_t w = scores[best].width;
    if (!Slice<0, kSplit>::final_run(w, train, test, "", &best_test, &best_seconds))
      Slice<kSplit, kCandidates>::final_run(w, train, test, "", &best_test, &best_seconds);
    std::printf("for comparison, the best-mean width %zu: test accuracy %.4f\n", w, best_test);
  }
  const double test_se = std::sqrt(best_test * (1 - best_test) / static_cast<double>(test.rows));
  const bool as_good = test_acc >= best_test - 2 * test_se;
  std::printf("\nclaim: the folds resolve under-capacity (width %zu is %.1f SE below the best, > %g) and the rule picks a\n"
              "       larger width: %s; the chosen width's test accuracy %.4f is within 2 standard errors (2 x %.4f)\n"
              "       of the best-mean width's %.4f: %s\n",
              scores.front().width, smallest_gap, kResolved, resolved ? "yes" : "NO", test_acc, test_se, best_test,
              as_good ? "yes" : "NO");
  return resolved && as_good ? 0 : 1;
}
