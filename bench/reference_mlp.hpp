// Plain double-precision reference for the benchmark MLPs (correctness oracle for bench_foundation).
//
// Same conventions as bench/eigen_mlp.hpp and ctnn:
//   * W_l has shape [out, in], row-major; per sample z = W x + b.
//   * x is [batch, in] row-major (one sample per row); outputs are [batch, out] row-major.
//   * Flat parameter order: W1 (row-major), b1, W2 (row-major), b2.
//   * The loss of a batch is the mean of the per-sample losses; the SGD step uses its gradient.
//     Per-sample losses: ½·Σ(ŷ−y)² for the sigmoid output, −log softmax(z)[label] for softmax.
#pragma once

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

namespace reference_mlp {

enum class Hidden { sigmoid, relu };
enum class Output { sigmoid_half_sse, softmax_ce };

struct Mlp {
  std::size_t in, hid, out;
  Hidden hidden;
  Output output;

  constexpr std::size_t num_params() const { return hid * in + hid + out * hid + out; }
  // Offsets into the flat parameter vector.
  constexpr std::size_t w1() const { return 0; }
  constexpr std::size_t b1() const { return hid * in; }
  constexpr std::size_t w2() const { return hid * in + hid; }
  constexpr std::size_t b2() const { return hid * in + hid + out * hid; }
};

inline constexpr Mlp A{4, 5, 1, Hidden::sigmoid, Output::sigmoid_half_sse};
inline constexpr Mlp B{64, 32, 10, Hidden::relu, Output::softmax_ce};
inline constexpr Mlp C{784, 128, 10, Hidden::relu, Output::softmax_ce};  // used with batch 64

namespace detail {

inline double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// One sample: z1, h (hidden activations), z2 (logits), y (output activations).
inline void forward_sample(const Mlp& m, const std::vector<double>& p, const double* x, double* z1, double* h,
                           double* z2, double* y) {
  for (std::size_t j = 0; j < m.hid; ++j) {
    double s = p[m.b1() + j];
    for (std::size_t i = 0; i < m.in; ++i) s += p[m.w1() + j * m.in + i] * x[i];
    z1[j] = s;
    h[j] = m.hidden == Hidden::sigmoid ? sigmoid(s) : std::max(s, 0.0);
  }
  for (std::size_t k = 0; k < m.out; ++k) {
    double s = p[m.b2() + k];
    for (std::size_t j = 0; j < m.hid; ++j) s += p[m.w2() + k * m.hid + j] * h[j];
    z2[k] = s;
  }
  if (m.output == Output::sigmoid_half_sse) {
    for (std::size_t k = 0; k < m.out; ++k) y[k] = sigmoid(z2[k]);
  } else {
    const double mx = *std::max_element(z2, z2 + m.out);
    double sum = 0;
    for (std::size_t k = 0; k < m.out; ++k) sum += (y[k] = std::exp(z2[k] - mx));
    for (std::size_t k = 0; k < m.out; ++k) y[k] /= sum;
  }
}

// Shared SGD step. For sigmoid_half_sse `targets` holds batch*out values; for softmax_ce `labels`
// holds batch class indices.
inline double sgd_step(const Mlp& m, std::vector<double>& p, std::span<const double> x, std::size_t batch,
                       std::span<const double> targets, std::span<const int> labels, double lr) {
  assert(p.size() == m.num_params() && x.size() == batch * m.in);
  std::vector<double> grad(p.size(), 0.0), z1(m.hid), h(m.hid), z2(m.out), y(m.out), dz2(m.out), dz1(m.hid);
  double loss = 0;
  for (std::size_t n = 0; n < batch; ++n) {
    const double* xs = x.data() + n * m.in;
    forward_sample(m, p, xs, z1.data(), h.data(), z2.data(), y.data());
    if (m.output == Output::sigmoid_half_sse) {
      for (std::size_t k = 0; k < m.out; ++k) {
        const double e = y[k] - targets[n * m.out + k];
        loss += 0.5 * e * e;
        dz2[k] = e * y[k] * (1.0 - y[k]);
      }
    } else {
      const std::size_t label = static_cast<std::size_t>(labels[n]);
      loss += -std::log(y[label]);
      for (std::size_t k = 0; k < m.out; ++k) dz2[k] = y[k] - (k == label ? 1.0 : 0.0);
    }
    for (std::size_t j = 0; j < m.hid; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < m.out; ++k) s += p[m.w2() + k * m.hid + j] * dz2[k];
      dz1[j] = m.hidden == Hidden::sigmoid ? s * h[j] * (1.0 - h[j]) : (z1[j] > 0 ? s : 0.0);
    }
    for (std::size_t k = 0; k < m.out; ++k) {
      for (std::size_t j = 0; j < m.hid; ++j) grad[m.w2() + k * m.hid + j] += dz2[k] * h[j];
      grad[m.b2() + k] += dz2[k];
    }
    for (std::size_t j = 0; j < m.hid; ++j) {
      for (std::size_t i = 0; i < m.in; ++i) grad[m.w1() + j * m.in + i] += dz1[j] * xs[i];
      grad[m.b1() + j] += dz1[j];
    }
  }
  const double inv = 1.0 / static_cast<double>(batch);
  for (std::size_t q = 0; q < p.size(); ++q) p[q] -= lr * grad[q] * inv;
  return loss * inv;
}

}  // namespace detail

// Forward pass of a batch: out = [batch, m.out] row-major (sigmoid outputs or softmax probabilities).
inline void forward(const Mlp& m, const std::vector<double>& params, std::span<const double> x, std::size_t batch,
                    std::vector<double>& out) {
  assert(params.size() == m.num_params() && x.size() == batch * m.in);
  std::vector<double> z1(m.hid), h(m.hid), z2(m.out);
  out.resize(batch * m.out);
  for (std::size_t n = 0; n < batch; ++n)
    detail::forward_sample(m, params, x.data() + n * m.in, z1.data(), h.data(), z2.data(), out.data() + n * m.out);
}

// SGD step for a sigmoid output with loss ½·Σ(ŷ−y)² (mean over the batch); y = [batch, m.out].
// Updates params in place; returns the loss before the update.
inline double sgd_step_half_sse(const Mlp& m, std::vector<double>& params, std::span<const double> x,
                                std::size_t batch, std::span<const double> y, double lr) {
  assert(m.output == Output::sigmoid_half_sse && y.size() == batch * m.out);
  return detail::sgd_step(m, params, x, batch, y, {}, lr);
}

// SGD step for a softmax output with cross-entropy (mean over the batch); labels = [batch].
// Updates params in place; returns the loss before the update.
inline double sgd_step_softmax_ce(const Mlp& m, std::vector<double>& params, std::span<const double> x,
                                  std::size_t batch, std::span<const int> labels, double lr) {
  assert(m.output == Output::softmax_ce && labels.size() == batch);
  return detail::sgd_step(m, params, x, batch, {}, labels, lr);
}

}  // namespace reference_mlp
