// ctnn/train/metrics.hpp: classification metrics from predicted and true labels: the confusion
// matrix, accuracy, per-class precision and recall (and F1, 0 where they are 0 or undefined), and a
// printable table.
// Layer: train (includes nothing from ctnn).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace ctnn::train {

/// counts(t, p): samples of true class t predicted as p (rows: truth, columns: prediction, as
/// scikit-learn's confusion_matrix).
class ConfusionMatrix {
 public:
  ConfusionMatrix() = default;
  explicit ConfusionMatrix(std::size_t classes) : k_(classes), counts_(classes * classes, 0) {}

  std::size_t classes() const noexcept { return k_; }
  void clear() noexcept { std::fill(counts_.begin(), counts_.end(), 0); }
  void add(std::size_t truth, std::size_t predicted) {
    if (truth >= k_ || predicted >= k_)
      throw std::out_of_range("ctnn::train::ConfusionMatrix::add: class " +
                              std::to_string(truth >= k_ ? truth : predicted) + " of " + std::to_string(k_));
    ++counts_[truth * k_ + predicted];
  }
  std::size_t operator()(std::size_t truth, std::size_t predicted) const { return counts_[truth * k_ + predicted]; }
  /// All counts, row-major (truth, then prediction): e.g. to add up the matrices of several processes.
  std::span<std::size_t> counts() noexcept { return counts_; }
  std::span<const std::size_t> counts() const noexcept { return counts_; }
  std::size_t total() const noexcept {
    std::size_t s = 0;
    for (std::size_t c : counts_) s += c;
    return s;
  }
  std::size_t correct() const noexcept {
    std::size_t s = 0;
    for (std::size_t c = 0; c < k_; ++c) s += (*this)(c, c);
    return s;
  }
  /// Fraction of samples on the diagonal (NaN when empty).
  double accuracy() const noexcept { return ratio(correct(), total()); }
  /// Of the samples predicted as c, the fraction that are c (NaN when nothing was predicted c).
  double precision(std::size_t c) const noexcept {
    std::size_t col = 0;
    for (std::size_t t = 0; t < k_; ++t) col += (*this)(t, c);
    return ratio((*this)(c, c), col);
  }
  /// Of the samples of class c, the fraction predicted c (NaN when class c has no samples).
  double recall(std::size_t c) const noexcept {
    std::size_t row = 0;
    for (std::size_t p = 0; p < k_; ++p) row += (*this)(c, p);
    return ratio((*this)(c, c), row);
  }
  /// The harmonic mean of precision and recall, 2 tp / (2 tp + fp + fn). 0 when no sample of class c
  /// was predicted c (tp = 0: precision and recall are 0, or one of them is undefined), a class neither
  /// present nor predicted included: scikit-learn's f1_score(zero_division=0) convention. Never NaN
  /// (precision and recall stay NaN where undefined).
  double f1(std::size_t c) const noexcept {
    std::size_t row = 0, col = 0;
    for (std::size_t k = 0; k < k_; ++k) row += (*this)(c, k), col += (*this)(k, c);
    const std::size_t tp = (*this)(c, c);
    return tp ? 2.0 * static_cast<double>(tp) / static_cast<double>(row + col) : 0.0;
  }

  /// Prints the matrix and a per-class precision / recall / F1 / support table.
  void print(std::FILE* out, const std::vector<std::string>& names = {}) const {
    auto name = [&](std::size_t c) { return c < names.size() ? names[c] : std::to_string(c); };
    std::fprintf(out, "confusion matrix (rows: true class, columns: predicted)\n%12s", "");
    for (std::size_t p = 0; p < k_; ++p) std::fprintf(out, " %6zu", p);
    std::fprintf(out, "\n");
    for (std::size_t t = 0; t < k_; ++t) {
      std::fprintf(out, "%12.12s", name(t).c_str());
      for (std::size_t p = 0; p < k_; ++p) std::fprintf(out, " %6zu", (*this)(t, p));
      std::fprintf(out, "\n");
    }
    std::fprintf(out, "%12s %9s %9s %9s %8s\n", "class", "precision", "recall", "f1", "support");
    for (std::size_t c = 0; c < k_; ++c) {
      std::size_t support = 0;
      for (std::size_t p = 0; p < k_; ++p) support += (*this)(c, p);
      std::fprintf(out, "%12.12s %9.4f %9.4f %9.4f %8zu\n", name(c).c_str(), precision(c), recall(c), f1(c), support);
    }
  }

 private:
  static double ratio(std::size_t a, std::size_t b) noexcept {
    return b ? static_cast<double>(a) / static_cast<double>(b) : std::numeric_limits<double>::quiet_NaN();
  }
  std::size_t k_ = 0;
  std::vector<std::size_t> counts_;
};

/// A loss and the confusion matrix of one pass over a labelled set.
struct Evaluation {
  double loss = std::numeric_limits<double>::quiet_NaN();
  ConfusionMatrix confusion;
  double accuracy() const noexcept { return confusion.accuracy(); }
};

}  // namespace ctnn::train
