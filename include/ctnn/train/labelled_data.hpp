// ctnn/train/labelled_data.hpp: what training code asks of a labelled data set, and what every
// training loop does with one: find a label outside the network's classes, copy rows into a batch
// with their targets, hold rows out for validation. Shared by the Trainer (train/trainer.hpp),
// data-parallel training (dist/data_parallel.hpp) and the tool's --validation-split.
// Data: any type with Dataset's members (rows, cols, row(i) -> pointer to cols features,
// labels[i] 0-based class), e.g. ctnn::io::Dataset; this header does not include io. Targets are
// one-hot rows for a network with Out > 1 outputs, the label itself (0/1) for one output.
// Layer: train (standard library only).
#pragma once
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ctnn::train {

template <class D>
concept LabelledData = requires(const D& d, std::size_t i) {
  { d.rows } -> std::convertible_to<std::size_t>;
  { d.cols } -> std::convertible_to<std::size_t>;
  { d.labels[i] } -> std::convertible_to<long long>;
  { *d.row(i) } -> std::convertible_to<double>;
};

/// The rows a validation split holds out: a seeded random `fraction` of `rows` (rounded), drawn from
/// `rng` (one shuffle of 0..rows-1, its last rows held out); both lists in increasing order. The
/// Trainer's validation_split, and the tool's --validation-split with Random(seed).
struct HeldOut {
  std::vector<std::size_t> train, validation;
};
template <class Rng>  // ctnn::Random (rng.below(n): uniform in [0, n))
HeldOut hold_out(std::size_t rows, double fraction, Rng& rng) {
  if (!(fraction >= 0 && fraction < 1))
    throw std::invalid_argument("ctnn::train::hold_out: the fraction must be in [0, 1), not " + std::to_string(fraction));
  HeldOut h;
  h.train.resize(rows);
  std::iota(h.train.begin(), h.train.end(), std::size_t{0});
  if (fraction == 0) return h;
  for (std::size_t i = rows; i > 1; --i) std::swap(h.train[i - 1], h.train[rng.below(i)]);
  const auto nv = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(rows)));
  h.validation.assign(h.train.end() - static_cast<std::ptrdiff_t>(nv), h.train.end());
  h.train.resize(rows - nv);
  std::sort(h.train.begin(), h.train.end());
  std::sort(h.validation.begin(), h.validation.end());
  return h;
}

/// The first row whose label is not a class of a network with `outputs` outputs (0..outputs-1, or
/// 0/1 for one output), if any.
template <LabelledData D>
std::optional<std::size_t> first_bad_label(const D& d, std::size_t outputs) {
  const auto classes = static_cast<long long>(outputs > 1 ? outputs : 2);
  for (std::size_t i = 0; i < d.rows; ++i) {
    const auto c = static_cast<long long>(d.labels[i]);
    if (c < 0 || c >= classes) return i;
  }
  return std::nullopt;
}

/// Rows idx[0..rows) of d into x (rows x in) and their targets into y (rows x out): sizes known at
/// run time (a runtime network's batch).
template <class T, LabelledData D>
void gather_rows(const D& d, const std::size_t* idx, std::size_t rows, std::size_t in, std::size_t out, T* x, T* y) {
  for (std::size_t j = 0; j < rows; ++j) {
    const auto* r = d.row(idx[j]);
    for (std::size_t k = 0; k < in; ++k) x[j * in + k] = static_cast<T>(r[k]);
    T* t = y + j * out;
    const auto c = static_cast<std::size_t>(d.labels[idx[j]]);
    if (out == 1) {
      t[0] = static_cast<T>(c);
    } else {
      std::fill(t, t + out, T(0));
      t[c] = T(1);
    }
  }
}
/// The same with compile-time sizes (a compiled network's batch).
template <std::size_t In, std::size_t Out, class T, LabelledData D>
void gather_rows(const D& d, const std::size_t* idx, std::size_t rows, T* x, T* y) {
  gather_rows(d, idx, rows, In, Out, x, y);
}

}  // namespace ctnn::train
