// ctnn/train/gradient_descent.hpp: plain gradient descent in its three textbook forms (batch,
// stochastic, mini-batch) over a dataset held as row-major arrays, with a full-batch gradient-norm stop.
// Layer: train (includes nn, ad, core, kernel; never io).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <stdexcept>
#include <vector>

#include "ctnn/nn/init.hpp"
#include "ctnn/nn/network.hpp"

namespace ctnn {

/// Batch: one update per pass over the whole set (the exact gradient of the mean loss).
/// Stochastic: one update per sample (batch of 1), samples in a seeded shuffled order each epoch.
/// Mini-batch: one update per B samples, seeded shuffled order each epoch; a ragged last batch of
/// r < B samples is still used (one update with the mean of its r single-sample gradients).
enum class Descent { batch, stochastic, mini_batch };

/// Why gradient_descent returned.
enum class StopReason {
  gradient_norm,   ///< the full-batch gradient norm fell below GDOptions::grad_norm_tolerance
  max_iterations,  ///< GDOptions::max_iterations parameter updates were made
  non_finite,      ///< the full-batch loss or gradient was NaN or infinite (diverged: try a smaller learning rate)
};

/// For messages: "gradient norm", "max iterations", "non-finite (diverged)".
constexpr const char* to_string(StopReason r) noexcept {
  switch (r) {
    case StopReason::gradient_norm: return "gradient norm";
    case StopReason::max_iterations: return "max iterations";
    case StopReason::non_finite: return "non-finite (diverged)";
  }
  return "?";
}

struct GDOptions {
  Descent mode = Descent::batch;
  double learning_rate = 0.1;
  std::size_t max_iterations = 1000;  ///< parameter updates (not epochs)
  double grad_norm_tolerance = 0;     ///< stop when ‖∇ full-batch loss‖₂ < this; 0: never
  std::uint64_t seed = 0;             ///< sample-order shuffles (stochastic, mini_batch)
};

struct GDResult {
  std::size_t iterations = 0;  ///< parameter updates made
  double loss = 0;             ///< full-batch mean loss at the returned parameters
  double grad_norm = 0;        ///< ‖∇ full-batch loss‖₂ at the returned parameters
  StopReason stopped_by = StopReason::max_iterations;
  /// Full-batch loss per epoch: [0] at the start, [e] after epoch e (in batch mode an epoch is
  /// one update); the last entry is `loss`. A final epoch cut short by max_iterations counts.
  std::vector<double> loss_history;
};

namespace train::detail {

template <std::size_t B, class Net, class Loss>
double add_chunks(Net& net, const Loss& loss, const typename Net::scalar* X, const typename Net::scalar* Y,
                  std::size_t n, double w_chunk, double w_single, double* acc) {
  // Adds w_chunk * grad of each full chunk of B rows and w_single * grad of each remaining row to
  // acc; returns the same weighted sum of the losses.
  constexpr std::size_t In = Net::inputs, Out = Net::outputs;
  const auto g = net.grads();
  double l = 0;
  std::size_t i = 0;
  for (; i + B <= n; i += B) {
    l += w_chunk * static_cast<double>(net.template gradient<B>(loss, X + i * In, Y + i * Out));
    for (std::size_t k = 0; k < Net::num_params; ++k) acc[k] += w_chunk * static_cast<double>(g[k]);
  }
  for (; i < n; ++i) {
    l += w_single * static_cast<double>(net.template gradient<1>(loss, X + i * In, Y + i * Out));
    for (std::size_t k = 0; k < Net::num_params; ++k) acc[k] += w_single * static_cast<double>(g[k]);
  }
  return l;
}

inline double l2_norm(std::span<const double> g) {
  double s = 0;
  for (double v : g) s += v * v;
  return std::sqrt(s);
}

template <class T>
void descend(std::span<T> params, const double* g, double lr) {
  for (std::size_t k = 0; k < params.size(); ++k) params[k] = static_cast<T>(params[k] - lr * g[k]);
}
template <class T>
void descend(std::span<T> params, std::span<const T> g, double lr) {
  for (std::size_t k = 0; k < params.size(); ++k) params[k] = static_cast<T>(params[k] - lr * g[k]);
}

/// Fisher-Yates: a uniform permutation of `order` from the seeded portable source.
inline void shuffle(std::vector<std::size_t>& order, Random& rng) {
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
}

}  // namespace train::detail

/// The gradient of the mean loss over all N samples, written to `grad` (Net::num_params values,
/// the parameters' layout), and that mean loss returned. It is assembled from passes the network
/// can compile: floor(N/B) chunks of B rows (net.gradient<B>) and N mod B single rows
/// (net.gradient<1>), each weighted by its share of the samples (B/N, resp. 1/N).
///
/// Why this is exact: every ctnn data loss is a mean over its batch, L_S = (1/|S|) Σ_{n∈S} ℓ_n
/// (mse_mean and bce_* also divide by the constant output width, which changes nothing), so for
/// a partition of the N samples into sets S_k, (1/N) Σ_n ℓ_n = Σ_k (|S_k|/N) L_{S_k}, and the same
/// holds for the gradients by linearity. A penalty R(θ) that does not depend on the samples
/// (with_l2's λ/2 Σ‖W‖²) is added once per pass, i.e. Σ_k (|S_k|/N) R = R since the weights sum
/// to 1: it stays counted exactly once. Only rounding differs from one N-sample pass.
/// (Not exact for a loss normalised by a data-dependent total: weighted_softmax_cross_entropy in
/// its default PyTorch form divides by Σ_n w[c_n]; use weighted_softmax_cross_entropy_mean.)
template <std::size_t B, class Net, class Loss>
double full_batch_gradient(Net& net, const Loss& loss, const typename Net::scalar* X,
                           const typename Net::scalar* Y, std::size_t N, std::span<double> grad) {
  static_assert(B > 0, "ctnn: the chunk size B must be positive");
  if (N == 0) throw std::invalid_argument("ctnn::full_batch_gradient: empty dataset");
  if (grad.size() != Net::num_params) throw std::invalid_argument("ctnn::full_batch_gradient: grad size != num_params");
  std::fill(grad.begin(), grad.end(), 0.0);
  const double n = static_cast<double>(N);
  return train::detail::add_chunks<B>(net, loss, X, Y, N, static_cast<double>(B) / n, 1.0 / n, grad.data());
}

/// Gradient descent on the mean of `loss` over N samples: X is N x Net::inputs, Y is
/// N x Net::outputs, both row-major. B is the compile-time mini-batch size (mini_batch), and the
/// chunk size of the full-batch passes (batch mode, and the per-epoch stopping check);
/// stochastic mode uses batch 1.
///
/// Each epoch (each iteration in batch mode) first evaluates the full-batch loss and gradient
/// at the current parameters; it stops with StopReason::gradient_norm when the gradient's L2 norm
/// (over all parameters) is below opt.grad_norm_tolerance, with StopReason::max_iterations once
/// opt.max_iterations updates have been made (possibly in the middle of an epoch; the final
/// loss and norm are then evaluated at the returned parameters), and with StopReason::non_finite
/// at the first evaluation whose loss or gradient norm is NaN or infinite (the parameters are
/// those it was evaluated at: the run diverged). Buffers (sample order, staging
/// rows for B samples, a gradient accumulator, the loss history) are made before the loop;
/// nothing is allocated inside it (the history is reserved for up to 2^20 epochs).
template <std::size_t B, class Net, class Loss>
GDResult gradient_descent(Net& net, const Loss& loss, const typename Net::scalar* X,
                          const typename Net::scalar* Y, std::size_t N, const GDOptions& opt) {
  static_assert(B > 0, "ctnn: the mini-batch size B must be positive");
  using T = typename Net::scalar;
  constexpr std::size_t In = Net::inputs, Out = Net::outputs, P = Net::num_params;
  if (N == 0) throw std::invalid_argument("ctnn::gradient_descent: empty dataset");
  if (!(opt.learning_rate > 0)) throw std::invalid_argument("ctnn::gradient_descent: learning_rate must be > 0");

  const std::size_t full_batches = N / B, ragged = N % B;
  const std::size_t updates_per_epoch = opt.mode == Descent::batch        ? 1
                                        : opt.mode == Descent::stochastic ? N
                                                                          : full_batches + (ragged ? 1 : 0);
  GDResult r;
  {
    const std::size_t epochs = opt.max_iterations / updates_per_epoch + 2;
    r.loss_history.reserve(std::min<std::size_t>(epochs, std::size_t{1} << 20));
  }
  std::vector<double> acc(P);
  std::vector<std::size_t> order;
  std::vector<T> xs, ys;  // B staged rows, gathered in shuffled order
  if (opt.mode != Descent::batch) {
    order.resize(N);
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (opt.mode == Descent::mini_batch) {
      xs.resize(B * In);
      ys.resize(B * Out);
    }
  }
  Random rng(opt.seed);
  const auto params = net.params();
  const auto g = net.grads();
  const double lr = opt.learning_rate;

  for (;;) {
    r.loss = full_batch_gradient<B>(net, loss, X, Y, N, std::span<double>(acc));
    r.grad_norm = train::detail::l2_norm(acc);
    r.loss_history.push_back(r.loss);
    if (!std::isfinite(r.loss) || !std::isfinite(r.grad_norm)) {
      r.stopped_by = StopReason::non_finite;
      break;
    }
    if (r.grad_norm < opt.grad_norm_tolerance) {
      r.stopped_by = StopReason::gradient_norm;
      break;
    }
    if (r.iterations >= opt.max_iterations) {
      r.stopped_by = StopReason::max_iterations;
      break;
    }
    switch (opt.mode) {
      case Descent::batch:
        train::detail::descend(params, acc.data(), lr);
        ++r.iterations;
        break;
      case Descent::stochastic:
        train::detail::shuffle(order, rng);
        for (std::size_t i = 0; i < N && r.iterations < opt.max_iterations; ++i) {
          const std::size_t s = order[i];
          net.template gradient<1>(loss, X + s * In, Y + s * Out);
          train::detail::descend(params, g, lr);
          ++r.iterations;
        }
        break;
      case Descent::mini_batch: {
        train::detail::shuffle(order, rng);
        std::size_t i = 0;
        for (std::size_t b = 0; b < full_batches && r.iterations < opt.max_iterations; ++b, i += B) {
          for (std::size_t j = 0; j < B; ++j) {
            const std::size_t s = order[i + j];
            std::copy_n(X + s * In, In, xs.data() + j * In);
            std::copy_n(Y + s * Out, Out, ys.data() + j * Out);
          }
          net.template gradient<B>(loss, xs.data(), ys.data());
          train::detail::descend(params, g, lr);
          ++r.iterations;
        }
        if (ragged && r.iterations < opt.max_iterations) {
          // The last r < B samples: the gradient of their mean loss is the mean of their r
          // single-sample gradients (weights 1/r, summing to 1: an L2 term stays exact).
          std::fill(acc.begin(), acc.end(), 0.0);
          const double w = 1.0 / static_cast<double>(ragged);
          for (std::size_t j = i; j < N; ++j) {
            const std::size_t s = order[j];
            net.template gradient<1>(loss, X + s * In, Y + s * Out);
            for (std::size_t k = 0; k < P; ++k) acc[k] += w * static_cast<double>(g[k]);
          }
          train::detail::descend(params, acc.data(), lr);
          ++r.iterations;
        }
        break;
      }
    }
  }
  return r;
}

}  // namespace ctnn
