// examples/class_weights.cpp: class-weighted cross-entropy on an imbalanced training set raises
// the minority class's recall.
//
// data/breast_cancer (0: malignant, 1: benign). The training set is made imbalanced: all benign
// rows and a seeded random kMinorityShare of the malignant rows (20 malignant rows, 1 in 15); the test
// set is the untouched test file (42 malignant, 72 benign). A 30-16-2 tanh network (logits) is
// trained with the Trainer (Adam lr 3e-3, batch 16, the same seed and start for every run), with
// plain softmax cross-entropy or with class weights inversely proportional to the class
// frequencies, w_c = N / (K n_c) (loss::weighted_softmax_cross_entropy_mean: divides by N, so the
// mean over the Trainer's ragged last batch stays exact; under the PyTorch form, which divides by
// Σ w[c_n], the weights cancel on a single-sample batch). Features are standardised with the
// statistics of the rows trained on.
// The settings (epochs 10, 30, 60 x L2 on the weights 0, 0.01, 0.03) are chosen for each loss on
// its own by 5-fold stratified cross-validation on the imbalanced training subset, by the pooled
// out-of-fold balanced accuracy (the mean of the two recalls; plain accuracy would reward ignoring
// the minority); then each loss is trained on the whole subset with its choice and tested once.
// Per-class precision and recall come from the Trainer's evaluation (train/metrics.hpp).
// Measured (malignant test recall, plain -> weighted): seed 1 0.857 -> 0.881 (one test row);
// subset seeds 1..10: higher on 8, equal on 2, lower on none, mean 0.867 -> 0.914 (2 of the 42
// malignant test rows); the price is malignant precision, 1.00 -> 0.93-0.975 on 4 seeds.
// Honest limits: the gain is a row or two per seed, so no single seed carries the claim; and the
// weights move the decision boundary only while the loss can still trade the classes against each
// other (a net that separates its training subset ends alike under both losses).
// The claims checked (exit status), over subset seeds 1..10: the mean malignant test recall rises
// by at least one test row's worth (1/42); it rises on more than half of the seeds; it falls on none.
//
// Run: build-test/examples/class_weights [data folder]   (default: $CTNN_DATA, else ./data)
#include <array>
#include <cstdio>
#include <cstdint>
#include <utility>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/io/csv.hpp"
#include "ctnn/optim/optim.hpp"
#include "ctnn/train/trainer.hpp"
#include "example_data.hpp"

namespace {

constexpr double kMinorityShare = 0.12;
constexpr std::size_t kSeeds = 10, kFolds = 5;
constexpr std::uint64_t kDocumentedSeed = 1;

struct Settings {
  std::size_t epochs = 60;
  double lambda = 0.03;  // L2 on the weights (loss::with_l2)
};
// The grid searched by cross-validation on the training subset (for each loss on its own).
constexpr std::size_t kEpochGrid[] = {10, 30, 60};
constexpr double kLambdaGrid[] = {0, 0.01, 0.03};

using Net = ctnn::Network<double, ctnn::Dense<30, 16>, ctnn::Tanh, ctnn::Dense<16, 2>>;
using ctnn::train::ConfusionMatrix;

ctnn::io::Dataset rows_of(const ctnn::io::Dataset& d, const std::vector<std::size_t>& idx) {
  ctnn::io::Dataset s;
  s.cols = d.cols;
  s.feature_names = d.feature_names;
  for (std::size_t i : idx) {
    s.features.insert(s.features.end(), d.row(i), d.row(i) + d.cols);
    s.labels.push_back(d.labels[i]);
    ++s.rows;
  }
  return s;
}

// All rows of class 1 and a seeded kMinorityShare of the rows of class 0, in file order.
ctnn::io::Dataset imbalanced(const ctnn::io::Dataset& d, std::uint64_t seed) {
  std::vector<std::size_t> minority;
  for (std::size_t i = 0; i < d.rows; ++i)
    if (d.labels[i] == 0) minority.push_back(i);
  ctnn::Random rng(seed);
  for (std::size_t i = minority.size(); i > 1; --i) std::swap(minority[i - 1], minority[rng.below(i)]);
  const auto keep = static_cast<std::size_t>(kMinorityShare * static_cast<double>(minority.size()) + 0.5);
  std::vector<bool> kept(d.rows, false);
  for (std::size_t i = 0; i < keep; ++i) kept[minority[i]] = true;
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < d.rows; ++i)
    if (d.labels[i] == 1 || kept[i]) idx.push_back(i);
  return rows_of(d, idx);
}

// Mean of the per-class recalls: the selection criterion (plain accuracy would reward ignoring
// the 1-in-15 class).
double balanced_accuracy(const ConfusionMatrix& c) { return (c.recall(0) + c.recall(1)) / 2; }

// Trains on train (standardised with its own statistics, applied to test) and returns the test
// confusion matrix. weighted: w_c = N / (K n_c) from train's class counts.
ConfusionMatrix train_and_test(bool weighted, ctnn::io::Dataset train, ctnn::io::Dataset test, const Settings& set,
                               std::array<double, 2>* weights_out = nullptr) {
  const auto st = ctnn::io::Standardizer::fit(train);
  st.apply(train);
  st.apply(test);
  std::array<double, 2> n{};
  for (int c : train.labels) n[static_cast<std::size_t>(c)] += 1;
  const double N = static_cast<double>(train.rows);
  const std::array<double, 2> w{N / (2 * n[0]), N / (2 * n[1])};
  if (weights_out) *weights_out = w;
  Net net(7);
  ctnn::optim::AdamOptions ao;
  ao.lr = 3e-3;
  ctnn::optim::Adam<double> adam(Net::num_params, ao);
  ctnn::train::TrainerOptions o;
  o.epochs = set.epochs;
  o.seed = 7;
  o.display = ctnn::train::Display::none;
  auto t = ctnn::train::make_trainer<16>(net, adam, o);
  if (weighted)
    t.fit(ctnn::loss::with_l2(ctnn::loss::weighted_softmax_cross_entropy_mean<2>(w.data()), set.lambda), train);
  else
    t.fit(ctnn::loss::with_l2(ctnn::loss::softmax_cross_entropy, set.lambda), train);
  return t.evaluate(ctnn::loss::softmax_cross_entropy, test).confusion;
}

// kFolds-fold cross-validation on the training subset, stratified (each fold gets its share of
// both classes), out-of-fold predictions pooled into one confusion matrix per setting; the setting
// with the highest pooled balanced accuracy wins (the first in grid order on a tie).
struct Selection {
  Settings best;
  double best_score = -1;
  std::vector<std::pair<Settings, double>> scores;
};

Selection select(bool weighted, const ctnn::io::Dataset& train, std::uint64_t seed) {
  std::array<std::vector<std::size_t>, 2> by_class;
  for (std::size_t i = 0; i < train.rows; ++i) by_class[static_cast<std::size_t>(train.labels[i])].push_back(i);
  ctnn::Random rng(1000 + seed);
  std::vector<std::size_t> fold(train.rows);
  for (auto& rows : by_class) {
    for (std::size_t i = rows.size(); i > 1; --i) std::swap(rows[i - 1], rows[rng.below(i)]);
    for (std::size_t j = 0; j < rows.size(); ++j) fold[rows[j]] = j % kFolds;
  }
  Selection sel;
  for (std::size_t epochs : kEpochGrid)
    for (double lambda : kLambdaGrid) {
      const Settings set{epochs, lambda};
      ConfusionMatrix pooled(2);
      for (std::size_t f = 0; f < kFolds; ++f) {
        std::vector<std::size_t> tr, va;
        for (std::size_t i = 0; i < train.rows; ++i) (fold[i] == f ? va : tr).push_back(i);
        const ConfusionMatrix c = train_and_test(weighted, rows_of(train, tr), rows_of(train, va), set);
        for (std::size_t k = 0; k < 4; ++k) pooled.counts()[k] += c.counts()[k];
      }
      const double score = balanced_accuracy(pooled);
      sel.scores.emplace_back(set, score);
      if (score > sel.best_score) sel.best_score = score, sel.best = set;
    }
  return sel;
}

struct Outcome {
  Selection sel_plain, sel_weighted;
  ConfusionMatrix plain, weighted;
  std::size_t n0 = 0, n1 = 0;
  std::array<double, 2> w{};
};

Outcome run(const ctnn::io::Dataset& full_train, const ctnn::io::Dataset& test, std::uint64_t seed) {
  const ctnn::io::Dataset train = imbalanced(full_train, seed);
  Outcome r;
  for (int c : train.labels) (c == 0 ? r.n0 : r.n1) += 1;
  r.sel_plain = select(false, train, seed);
  r.sel_weighted = select(true, train, seed);
  r.plain = train_and_test(false, train, test, r.sel_plain.best);
  r.weighted = train_and_test(true, train, test, r.sel_weighted.best, &r.w);
  return r;
}

// The confusion matrix with both axes named.
void print_confusion(const ConfusionMatrix& c, const std::vector<std::string>& names) {
  std::printf("confusion matrix (rows: true class, columns: predicted class)\n%12s", "");
  for (const auto& n : names) std::printf(" %10s", n.c_str());
  std::printf("\n");
  for (std::size_t t = 0; t < names.size(); ++t) {
    std::printf("%12s", names[t].c_str());
    for (std::size_t p = 0; p < names.size(); ++p) std::printf(" %10zu", c(t, p));
    std::printf("\n");
  }
  std::printf("%12s %10s %10s\n", "class", "precision", "recall");
  for (std::size_t k = 0; k < names.size(); ++k)
    std::printf("%12s %10.4f %10.4f\n", names[k].c_str(), c.precision(k), c.recall(k));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = example::data_dir(argc, argv);
  const auto train = example::load("class_weights", dir, "breast_cancer_train.csv", 30, 2);
  const auto test = example::load("class_weights", dir, "breast_cancer_test.csv", 30, 2);
  const std::vector<std::string> names{"malignant", "benign"};

  const Outcome doc = run(train, test, kDocumentedSeed);
  std::printf("breast_cancer, imbalanced training subset (seed %llu): %zu malignant + %zu benign rows (%.0f%% of the "
              "malignant rows);\ntest set: the full test file, used once per loss. 30-16-2 tanh, Adam lr 3e-3, batch 16.\n"
              "class weights w = N / (K n_c): malignant %.3f, benign %.3f\n",
              static_cast<unsigned long long>(kDocumentedSeed), doc.n0, doc.n1, 100 * kMinorityShare, doc.w[0], doc.w[1]);
  std::printf("\nsettings chosen by %zu-fold stratified cross-validation on the training subset (pooled out-of-fold\n"
              "balanced accuracy, the mean of the two recalls; the test set plays no part):\n%8s %8s %12s %12s\n",
              kFolds, "epochs", "L2", "plain", "weighted");
  for (std::size_t i = 0; i < doc.sel_plain.scores.size(); ++i)
    std::printf("%8zu %8g %12.4f %12.4f\n", doc.sel_plain.scores[i].first.epochs, doc.sel_plain.scores[i].first.lambda,
                doc.sel_plain.scores[i].second, doc.sel_weighted.scores[i].second);
  std::printf("chosen: plain %zu epochs, L2 %g; weighted %zu epochs, L2 %g\n", doc.sel_plain.best.epochs,
              doc.sel_plain.best.lambda, doc.sel_weighted.best.epochs, doc.sel_weighted.best.lambda);
  std::printf("\nplain cross-entropy, trained on the whole subset, test set:\n");
  print_confusion(doc.plain, names);
  std::printf("\nclass-weighted cross-entropy, trained on the whole subset, test set:\n");
  print_confusion(doc.weighted, names);

  std::printf("\nsubset seeds 1..%zu, each with its own cross-validated settings (test set):\n%5s %14s %14s | %-27s | %-27s\n",
              kSeeds, "seed", "plain chose", "weighted chose", "plain: mal. recall / prec", "weighted: mal. recall / prec");
  double mean_plain = 0, mean_weighted = 0;
  std::size_t raised = 0, lowered = 0;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const Outcome r = seed == kDocumentedSeed ? doc : run(train, test, seed);
    mean_plain += r.plain.recall(0) / kSeeds;
    mean_weighted += r.weighted.recall(0) / kSeeds;
    raised += r.weighted.recall(0) > r.plain.recall(0);
    lowered += r.weighted.recall(0) < r.plain.recall(0);
    char a[32], b[32];
    std::snprintf(a, sizeof a, "%zu ep, L2 %g", r.sel_plain.best.epochs, r.sel_plain.best.lambda);
    std::snprintf(b, sizeof b, "%zu ep, L2 %g", r.sel_weighted.best.epochs, r.sel_weighted.best.lambda);
    std::printf("%5llu %14s %14s | %18.4f / %.4f | %18.4f / %.4f\n", static_cast<unsigned long long>(seed), a, b,
                r.plain.recall(0), r.plain.precision(0), r.weighted.recall(0), r.weighted.precision(0));
  }
  std::printf("mean malignant recall: plain %.4f, weighted %.4f; weighted higher on %zu of %zu seeds, lower on %zu\n",
              mean_plain, mean_weighted, raised, kSeeds, lowered);

  const double one_row = 1.0 / static_cast<double>(doc.plain(0, 0) + doc.plain(0, 1));
  const bool mean = mean_weighted - mean_plain >= one_row, most = 2 * raised > kSeeds, none_lower = lowered == 0;
  std::printf("\nclaim: class weights raise the minority (malignant) test recall, over seeds 1..%zu:\n"
              "  mean %.4f -> %.4f, up by >= one test row (%.4f): %s; higher on more than half the seeds (%zu): %s;\n"
              "  lower on none (%zu): %s\n",
              kSeeds, mean_plain, mean_weighted, one_row, mean ? "yes" : "NO", raised, most ? "yes" : "NO", lowered,
              none_lower ? "yes" : "NO");
  return mean && most && none_lower ? 0 : 1;
}
