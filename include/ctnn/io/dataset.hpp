// ctnn/io/dataset.hpp: the in-memory form every loader produces (CSV, IDX), the error type the
// loaders throw, and a feature standardiser fitted on training data only.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <ranges>
#include <type_traits>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ctnn::io {

// A labelled table of float features: `features` is row-major, rows x cols; labels[i] is the 0-based
// class index of row i; feature_names has `cols` entries.
struct Dataset {
  std::size_t rows = 0, cols = 0;
  std::vector<float> features;
  std::vector<int> labels;
  std::vector<std::string> feature_names;
  // load_csv: the 1-based column of the file that holds the labels (0: none, or not from a CSV file),
  // so that a message about a label can name its cell (file:line:column).
  std::size_t label_column = 0;

  // One more than the largest label (0 for an empty dataset).
  std::size_t num_classes() const {
    if (labels.empty()) return 0;
    return static_cast<std::size_t>(*std::max_element(labels.begin(), labels.end())) + 1;
  }
  // Pointer to the `cols` features of row i (no bounds check).
  const float* row(std::size_t i) const { return features.data() + i * cols; }
  float* row(std::size_t i) { return features.data() + i * cols; }
  // The rows idx[0], idx[1], ... as a new dataset (e.g. a validation split); throws
  // std::out_of_range for an index past the last row.
  Dataset subset(std::span<const std::size_t> idx) const {
    Dataset d;
    d.rows = idx.size();
    d.cols = cols;
    d.feature_names = feature_names;
    d.label_column = label_column;
    d.features.reserve(idx.size() * cols);
    d.labels.reserve(idx.size());
    for (const std::size_t i : idx) {
      if (i >= rows)
        throw std::out_of_range("ctnn::io::Dataset::subset: row " + std::to_string(i) + " of " + std::to_string(rows));
      d.features.insert(d.features.end(), row(i), row(i) + cols);
      d.labels.push_back(labels[i]);
    }
    return d;
  }
};

// Thrown by every loader for bad or missing input. what() is the full message, which starts with
// the file name ("file:line:column (column "name"): ..." for a bad cell). file(), line() and
// column() give the parts separately; line()/column() are 1-based, 0 when they do not apply.
class DataError : public std::runtime_error {
 public:
  explicit DataError(const std::string& message, std::string file = {}, std::size_t line = 0,
                     std::size_t column = 0)
      : std::runtime_error(message), file_(std::move(file)), line_(line), column_(column) {}
  const std::string& file() const noexcept { return file_; }
  std::size_t line() const noexcept { return line_; }
  std::size_t column() const noexcept { return column_; }

 private:
  std::string file_;
  std::size_t line_, column_;
};

// Per-column standardisation x' = (x - mean) * inv_std. Fit it on the training set only and apply
// the same object to train and test. A constant column (zero spread) gets inv_std = 1, so it is only
// centred, never divided by zero.
struct Standardizer {
  std::vector<float> mean, inv_std;

  static Standardizer fit(const Dataset& d) {
    if (d.rows == 0 || d.cols == 0)
      throw DataError("Standardizer::fit: the dataset is empty (" + std::to_string(d.rows) +
                      " rows x " + std::to_string(d.cols) + " columns)");
    if (d.features.size() != d.rows * d.cols)
      throw DataError("Standardizer::fit: features has " + std::to_string(d.features.size()) +
                      " values, expected rows x cols = " + std::to_string(d.rows * d.cols));
    std::vector<double> sum(d.cols, 0.0), sq(d.cols, 0.0);
    std::vector<float> lo(d.row(0), d.row(0) + d.cols), hi = lo;
    for (std::size_t i = 0; i < d.rows; ++i) {
      const float* r = d.row(i);
      for (std::size_t j = 0; j < d.cols; ++j) {
        if (!std::isfinite(r[j]))  // it would make the column's mean NaN and so every value of it
          throw DataError("Standardizer::fit: row " + std::to_string(i) + ", feature " + std::to_string(j) +
                          (j < d.feature_names.size() ? " (\"" + d.feature_names[j] + "\")" : std::string()) +
                          " is " + (std::isnan(r[j]) ? "NaN" : "infinite") + ": nothing to standardise with");
        sum[j] += r[j];
        lo[j] = std::min(lo[j], r[j]);
        hi[j] = std::max(hi[j], r[j]);
      }
    }
    const double n = static_cast<double>(d.rows);
    for (std::size_t j = 0; j < d.cols; ++j) sum[j] /= n;  // now the mean
    for (std::size_t i = 0; i < d.rows; ++i) {             // two-pass variance: no cancellation
      const float* r = d.row(i);
      for (std::size_t j = 0; j < d.cols; ++j) {
        const double c = r[j] - sum[j];
        sq[j] += c * c;
      }
    }
    Standardizer s;
    s.mean.resize(d.cols);
    s.inv_std.resize(d.cols);
    for (std::size_t j = 0; j < d.cols; ++j) {
      const double sd = std::sqrt(sq[j] / n);  // population std
      s.mean[j] = static_cast<float>(sum[j]);
      const bool constant = lo[j] == hi[j] || !(sd > 0.0) || !std::isfinite(1.0 / sd);
      s.inv_std[j] = constant ? 1.0f : static_cast<float>(1.0 / sd);
    }
    return s;
  }

  void apply(Dataset& d) const {
    if (d.cols != mean.size())
      throw DataError("Standardizer::apply: fitted on " + std::to_string(mean.size()) +
                      " columns, the dataset has " + std::to_string(d.cols));
    standardize(d.features.data(), d.rows * d.cols);
  }
  /// The same on rows a program feeds a network itself: `rows` (a std::vector, std::array, C array
  /// or span of float or double) holds whole row-major rows of mean.size() features (one sample, or
  /// a batch), standardised in place in the rows' own precision. Throws DataError when its size is
  /// not a whole, non-zero number of rows.
  template <class R>
    requires std::ranges::contiguous_range<R> && std::ranges::sized_range<R> &&
             std::floating_point<std::ranges::range_value_t<R>> &&
             (!std::is_const_v<std::remove_reference_t<std::ranges::range_reference_t<R>>>)
  void apply(R&& range) const {
    using T = std::ranges::range_value_t<R>;
    const std::span<T> rows(std::ranges::data(range), std::ranges::size(range));
    const std::size_t n = mean.size();
    if (n == 0 || rows.empty() || rows.size() % n != 0)
      throw DataError("Standardizer::apply: fitted on " + std::to_string(n) + " columns, given " +
                      std::to_string(rows.size()) + " values (not a whole number of rows)");
    standardize(rows.data(), rows.size());
  }

 private:
  // x' = (x - mean) * inv_std over `count` values of whole rows of mean.size() features, in T.
  template <class T>
  void standardize(T* x, std::size_t count) const {
    const std::size_t n = mean.size();
    for (std::size_t i = 0; i < count; i += n)
      for (std::size_t j = 0; j < n; ++j) x[i + j] = (x[i + j] - T(mean[j])) * T(inv_std[j]);
  }
};

}  // namespace ctnn::io
