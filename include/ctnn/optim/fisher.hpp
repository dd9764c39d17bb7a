// ctnn/optim/fisher.hpp: the Fisher information of a network's predictive distribution, kept in
// factored form F = Σ_r w_r v_r v_rᵀ (r over per-sample gradient rows), so that F can be formed
// (P x P, for small nets) or applied to a vector without forming it (Fv = Σ_r w_r v_r (v_rᵀ v)).
//
//   empirical Fisher  F_emp = 1/N Σ_n g_n g_nᵀ,  g_n = ∇θ −log p(y_n | x_n) with the observed label
//   true Fisher       F = 1/N Σ_n E_{y ~ p(·|x_n)} [s_ny s_nyᵀ],  s_ny = ∇θ −log p(y | x_n)
//                     (the expectation under the model's own predictive distribution):
//     softmax (categorical, K classes):  Σ_k p_k s_nk s_nkᵀ, s_nk from the one-hot target e_k;
//     sigmoid (K independent Bernoulli outputs): Σ_k Σ_{y∈{0,1}} p(y_k = y) s s ᵀ, s the gradient
//     of output k's term alone; this sums to Σ_k σ_k(1−σ_k) J_kᵀJ_k.
// Every row is a gradient derived by the reverse mode: net.gradient on one sample with a one-hot
// (or 0/1) target; nothing here differentiates by hand. The empirical Fisher is not the Fisher:
// it uses the observed labels, the true one the model's (they give different natural-gradient
// steps; see tests/curvature). For softmax regression the true Fisher equals the Hessian.
//
// Output conventions (Likelihood):
//   SoftmaxLogits          the net outputs logits, loss softmax_cross_entropy  (targets one-hot)
//   SoftmaxProbabilities   the net ends in Softmax, loss cross_entropy         (targets one-hot)
//   SigmoidLogits          the net outputs logits, Bernoulli per output        (targets 0/1)
//   SigmoidProbabilities   the net ends in Sigmoid, Bernoulli per output       (targets 0/1)
// Allocation: at construction only (rows·P values for the factors).
// Layer: optim (includes nn).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "ctnn/ad/ad.hpp"
#include "ctnn/core/aligned.hpp"
#include "ctnn/nn/loss.hpp"

namespace ctnn::optim {

enum class FisherKind {
  empirical,    ///< observed labels: 1/N Σ g_n g_nᵀ
  true_fisher,  ///< expectation over the model's predictive distribution
};

namespace likelihood {
struct SoftmaxLogits {};
struct SoftmaxProbabilities {};
struct SigmoidLogits {};
struct SigmoidProbabilities {};
}  // namespace likelihood

namespace fisher_detail {

template <class L>
constexpr bool categorical =
    std::is_same_v<L, likelihood::SoftmaxLogits> || std::is_same_v<L, likelihood::SoftmaxProbabilities>;
template <class L>
constexpr bool from_logits = std::is_same_v<L, likelihood::SoftmaxLogits> || std::is_same_v<L, likelihood::SigmoidLogits>;

/// −Σ_k mask_k log p(y_k | x) for K Bernoulli outputs (logits or probabilities): with a 0/1 mask
/// it selects the outputs whose terms count. A sum, not a mean: one sample's negative log-likelihood.
template <class T, std::size_t K, bool Logits>
struct MaskedBernoulliNll {
  const T* mask;
  template <class Z, class Y>
  auto operator()(Z z, Y y) const {
    auto m = ad::constant<-2, 1, K>(mask);
    if constexpr (Logits) {
      return ad::sum(m * (ad::softplus(z) - y * z));
    } else {
      constexpr double floor = std::is_same_v<T, float> ? 1.1754943508222875e-38 : 3.720075976020836e-44;
      return -ad::sum(m * (y * ad::log(ad::maximum(z, floor)) + (1.0 - y) * ad::log(ad::maximum(1.0 - z, floor))));
    }
  }
};

}  // namespace fisher_detail

/// The Fisher of Net's predictive distribution at its current parameters over up to max_samples
/// samples, as weighted gradient rows.
template <class Net, class Likelihood>
class FisherFactors {
 public:
  using T = typename Net::scalar;
  static constexpr std::size_t P = Net::num_params;
  static constexpr std::size_t K = Net::outputs;
  static constexpr bool categorical = fisher_detail::categorical<Likelihood>;
  /// Gradient rows per sample of the true Fisher: one per class, or two per Bernoulli output.
  static constexpr std::size_t outcomes = categorical ? K : 2 * K;

  FisherFactors(std::size_t max_samples, FisherKind kind)
      : kind_(kind), max_samples_(max_samples),
        rows_cap_(max_samples * (kind == FisherKind::empirical ? 1 : outcomes)),
        v_(rows_cap_ * P), w_(rows_cap_), coef_(rows_cap_) {
    if (max_samples == 0) throw std::invalid_argument("ctnn::optim::FisherFactors: max_samples must be > 0");
  }

  FisherKind kind() const noexcept { return kind_; }
  std::size_t rows() const noexcept { return rows_; }
  std::size_t samples() const noexcept { return n_; }
  /// Row r (P values) and its weight: F = Σ_r weight(r) row(r) row(r)ᵀ.
  std::span<const T> row(std::size_t r) const noexcept { return {v_.data() + r * P, P}; }
  T weight(std::size_t r) const noexcept { return w_[r]; }

  /// Computes the rows at the network's current parameters for n samples (X: n x inputs, Y: n x
  /// outputs, one-hot rows for softmax, 0/1 for sigmoid). Writes the mean gradient of the
  /// negative log-likelihood (the observed labels) to grad and returns the mean loss.
  T compute(Net& net, const T* X, const T* Y, std::size_t n, std::span<T> grad) {
    if (n == 0 || n > max_samples_)
      throw std::invalid_argument("ctnn::optim::FisherFactors::compute: n = " + std::to_string(n) +
                                  " samples, expected 1.." + std::to_string(max_samples_));
    if (grad.size() != P) throw std::invalid_argument("ctnn::optim::FisherFactors::compute: grad must have P values");
    check_targets(Y, n);
    n_ = n;
    rows_ = 0;
    std::fill(grad.begin(), grad.end(), T(0));
    const T inv_n = T(1) / T(n);
    T loss = 0;
    for (std::size_t s = 0; s < n; ++s) {
      const T* x = X + s * Net::inputs;
      const T* y = Y + s * K;
      if (kind_ == FisherKind::empirical) {
        loss += observed_row(net, x, y, rows_);
        w_[rows_] = inv_n;
        add(grad, rows_, inv_n);
        ++rows_;
      } else {
        loss += model_rows(net, x, y, grad, inv_n);
      }
    }
    return loss * inv_n;
  }

  /// out = F v without forming F (two passes over the rows).
  void multiply(std::span<const T> v, std::span<T> out) {
    for (std::size_t r = 0; r < rows_; ++r) {
      const T* a = v_.data() + r * P;
      T d = 0;
      for (std::size_t i = 0; i < P; ++i) d += a[i] * v[i];
      coef_[r] = w_[r] * d;
    }
    std::fill(out.begin(), out.end(), T(0));
    for (std::size_t r = 0; r < rows_; ++r) {
      const T* a = v_.data() + r * P;
      const T c = coef_[r];
      for (std::size_t i = 0; i < P; ++i) out[i] += c * a[i];
    }
  }

  /// F as a dense P x P row-major matrix (F must hold P·P values).
  void form(std::span<T> F) const {
    if (F.size() != P * P) throw std::invalid_argument("ctnn::optim::FisherFactors::form: F must have P*P values");
    std::fill(F.begin(), F.end(), T(0));
    for (std::size_t r = 0; r < rows_; ++r) {
      const T* a = v_.data() + r * P;
      for (std::size_t i = 0; i < P; ++i) {
        const T wa = w_[r] * a[i];
        T* Fi = F.data() + i * P;
        for (std::size_t j = i; j < P; ++j) Fi[j] += wa * a[j];
      }
    }
    for (std::size_t i = 0; i < P; ++i)
      for (std::size_t j = 0; j < i; ++j) F[i * P + j] = F[j * P + i];
  }

 private:
  void add(std::span<T> grad, std::size_t r, T w) const {
    const T* a = v_.data() + r * P;
    for (std::size_t i = 0; i < P; ++i) grad[i] += w * a[i];
  }
  void store_grads(Net& net, std::size_t r) {
    const auto g = net.grads();
    std::copy(g.begin(), g.end(), v_.data() + r * P);
  }

  // The gradient of −log p(y | x) for the observed target, into row r; returns the loss.
  T observed_row(Net& net, const T* x, const T* y, std::size_t r) {
    T l;
    if constexpr (categorical) {
      l = net.template gradient<1>(category_loss(), x, y);
    } else {
      std::fill_n(mask_, K, T(1));
      l = net.template gradient<1>(bernoulli_loss(), x, y);
    }
    store_grads(net, r);
    return l;
  }

  // The true Fisher's rows for one sample: a pass per outcome, weighted by its probability
  // under the model; the observed outcomes' rows also make up the sample's gradient.
  T model_rows(Net& net, const T* x, const T* y, std::span<T> grad, T inv_n) {
    T out[K];
    T target[K];
    T loss = 0;
    if constexpr (categorical) {
      T p[K];
      for (std::size_t k = 0; k < K; ++k) {
        std::fill_n(target, K, T(0));
        target[k] = 1;
        const T l = net.template gradient_and_output<1>(category_loss(), x, target, out);
        if (k == 0) probabilities(out, p);
        store_grads(net, rows_);
        w_[rows_] = p[k] * inv_n;
        if (y[k] == T(1)) {
          loss = l;
          add(grad, rows_, inv_n);
        }
        ++rows_;
      }
    } else {
      // Output k alone (mask e_k), outcome 0 or 1 for it; the other targets do not matter.
      for (std::size_t k = 0; k < K; ++k) {
        std::fill_n(mask_, K, T(0));
        mask_[k] = 1;
        for (int outcome = 0; outcome < 2; ++outcome) {
          std::copy_n(y, K, target);
          target[k] = T(outcome);
          const T l = net.template gradient_and_output<1>(bernoulli_loss(), x, target, out);
          const T pk = bernoulli_p(out[k]);
          store_grads(net, rows_);
          w_[rows_] = (outcome == 1 ? pk : T(1) - pk) * inv_n;
          if (y[k] == T(outcome)) {
            loss += l;
            add(grad, rows_, inv_n);
          }
          ++rows_;
        }
      }
    }
    return loss;
  }

  static auto category_loss() {
    if constexpr (fisher_detail::from_logits<Likelihood>) return loss::softmax_cross_entropy;
    else return loss::cross_entropy;
  }
  auto bernoulli_loss() const {
    return fisher_detail::MaskedBernoulliNll<T, K, fisher_detail::from_logits<Likelihood>>{mask_};
  }
  static void probabilities(const T* out, T* p) {
    if constexpr (fisher_detail::from_logits<Likelihood>) {  // softmax, max subtracted
      T m = out[0];
      for (std::size_t k = 1; k < K; ++k) m = std::max(m, out[k]);
      T s = 0;
      for (std::size_t k = 0; k < K; ++k) s += (p[k] = std::exp(out[k] - m));
      for (std::size_t k = 0; k < K; ++k) p[k] /= s;
    } else {
      std::copy_n(out, K, p);
    }
  }
  static T bernoulli_p(T o) {
    if constexpr (fisher_detail::from_logits<Likelihood>) return T(1) / (T(1) + std::exp(-o));
    else return o;
  }

  void check_targets(const T* Y, std::size_t n) const {
    for (std::size_t s = 0; s < n; ++s) {
      std::size_t ones = 0;
      for (std::size_t k = 0; k < K; ++k) {
        const T v = Y[s * K + k];
        if (v != T(0) && v != T(1))
          throw std::invalid_argument("ctnn::optim::FisherFactors: target row " + std::to_string(s) + ", output " +
                                      std::to_string(k) + " is not 0 or 1 (labels, not soft targets)");
        ones += v == T(1);
      }
      if (categorical && ones != 1)
        throw std::invalid_argument("ctnn::optim::FisherFactors: target row " + std::to_string(s) +
                                    " is not one-hot (" + std::to_string(ones) + " ones)");
    }
  }

  FisherKind kind_;
  std::size_t max_samples_, rows_cap_;
  AlignedBuffer<T> v_, w_, coef_;
  T mask_[K] = {};
  std::size_t rows_ = 0, n_ = 0;
};

}  // namespace ctnn::optim
