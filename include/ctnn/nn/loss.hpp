// ctnn/nn/loss.hpp: losses as ordinary expressions over (prediction, target, parameters). None
// has a backward pass: the reverse mode derives it. Every data loss is a mean over the batch
// (one sample per row). Targets for class losses are one-hot rows. A user's own loss is a
// lambda of the same form, e.g. Huber or MSE + L1 (see README.md).
// Layer: nn (includes ad).
#pragma once
#include <cstddef>
#include <type_traits>

#include <boost/hana/unpack.hpp>

#include "ctnn/ad/ad.hpp"
#include "ctnn/core/diagnostics.hpp"
#include "ctnn/nn/probability_floor.hpp"

namespace ctnn::loss {

/// ½ · mean over the batch of the squared error summed over outputs: 1/(2N) Σ (ŷ − y)².
struct MseHalfSum {
  static constexpr const char* name = "mse_half_sum";
  template <class P, class Y>
  auto operator()(P p, Y y) const {
    return ad::sum(ad::square(p - y)) * (0.5 / double(P::rows));
  }
};
/// Mean over all N·K elements of the squared error (PyTorch's MSELoss).
struct MseMean {
  static constexpr const char* name = "mse_mean";
  template <class P, class Y>
  auto operator()(P p, Y y) const {
    return ad::mean(ad::square(p - y));
  }
};
/// Binary cross-entropy from probabilities p ∈ [0, 1], mean over all elements. Each probability
/// is clamped from below (probability_floor) before its log, so a saturated correct prediction
/// (p = y = 1, reached by a float sigmoid at z > 17) gives 0, not 0·log 0 = NaN.
struct BceProb {
  static constexpr const char* name = "bce_prob";
  template <class P, class Y>
  auto operator()(P p, Y y) const {
    constexpr double floor = probability_floor<typename P::scalar>;
    return -ad::mean(y * ad::log(ad::maximum(p, floor)) + (1.0 - y) * ad::log(ad::maximum(1.0 - p, floor)));
  }
};
namespace detail {
/// The node an output expression ends in, seen through the copy a training pass taps off it.
template <class Z>
struct output_node {
  using type = Z;
};
template <class A>
struct output_node<ad::Tap<A>> : output_node<A> {};
template <class Z>
inline constexpr bool ends_in_softmax = false;
template <class A>
inline constexpr bool ends_in_softmax<ad::Softmax<A>> = true;
template <class Z>
inline constexpr bool ends_in_sigmoid = false;
template <class A>
inline constexpr bool ends_in_sigmoid<ad::Unary<ops::Sigmoid, A>> = true;
/// Refuses (at compile time) a logits loss on a network output that is already a softmax.
template <class Z>
constexpr void check_logits_for_softmax() {
  static_assert(diagnostic::softmax_applied_twice<ends_in_softmax<typename output_node<Z>::type>>::value || true);
}
}  // namespace detail

/// Binary cross-entropy from logits z, stable for any z: mean of softplus(z) − y·z.
struct BceLogits {
  static constexpr const char* name = "bce_logits";
  template <class Z, class Y>
  auto operator()(Z z, Y y) const {
    static_assert(
        diagnostic::sigmoid_applied_twice<detail::ends_in_sigmoid<typename detail::output_node<Z>::type>>::value ||
        true);
    return ad::mean(ad::softplus(z) - y * z);
  }
};
/// Softmax cross-entropy from logits with one-hot targets: 1/N Σ_n [logsumexp(z_n) − z_n·y_n].
struct SoftmaxCrossEntropy {
  static constexpr const char* name = "softmax_cross_entropy";
  template <class Z, class Y>
  auto operator()(Z z, Y y) const {
    detail::check_logits_for_softmax<Z>();
    return ad::sum(ad::logsumexp(z) - ad::row_sum(y * z)) * (1.0 / double(Z::rows));
  }
};
/// Cross-entropy from probabilities (a Softmax output layer) with one-hot targets:
/// −1/N Σ_n log p_n[c_n] (the target probability is picked before the log, so a zero
/// probability of another class never meets 0·log 0). The picked probability is clamped from
/// below (probability_floor, as Keras clips and PyTorch's BCELoss clamps): a float softmax gives
/// exactly 0 to a class whose logit trails the largest by more than ~104, and log 0 = −inf would
/// end training with a NaN gradient. Such a sample adds 87.3/N to the loss (float) and no gradient
/// until another sample's update moves its logits; softmax_cross_entropy on logits has no floor
/// and always a gradient, so prefer it for training.
struct CrossEntropy {
  static constexpr const char* name = "cross_entropy";
  template <class P, class Y>
  auto operator()(P p, Y y) const {
    constexpr double floor = probability_floor<typename P::scalar>;
    return -ad::sum(ad::log(ad::maximum(ad::row_sum(y * p), floor))) * (1.0 / double(P::rows));
  }
};

/// Class-weighted softmax cross-entropy; w has one weight per class (K values, kept alive by
/// the caller). PyTorch's convention: a weighted mean, divided by Σ_n w[c_n] (for the plain mean
/// over N, see WeightedSoftmaxCrossEntropyMean).
/// The class weights' leaf: its own tag, so that printed equations call it w.
struct ClassWeightsTag {
  static constexpr const char* name = "w";
};

template <class T, std::size_t K>
struct WeightedSoftmaxCrossEntropy {
  static constexpr const char* name = "weighted_softmax_cross_entropy";
  const T* w;
  template <class Z, class Y>
  auto operator()(Z z, Y y) const {
    static_assert(diagnostic::class_weight_count_mismatch<K, Z::cols>::value || true);
    detail::check_logits_for_softmax<Z>();
    auto weights = ad::Leaf<T, ClassWeightsTag, 1, K, false>{{}, w, nullptr};
    auto wn = ad::row_sum(y * weights);                    // w[c_n], N x 1
    auto ln = ad::logsumexp(z) - ad::row_sum(y * z);       // per-sample CE, N x 1
    return ad::sum(wn * ln) / ad::sum(wn);
  }
};
template <class T, std::size_t K>
struct WeightedSoftmaxCrossEntropyMean {
  static constexpr const char* name = "weighted_softmax_cross_entropy_mean";
  const T* w;
  template <class Z, class Y>
  auto operator()(Z z, Y y) const {
    detail::check_logits_for_softmax<Z>();
    auto weights = ad::Leaf<T, ClassWeightsTag, 1, K, false>{{}, w, nullptr};
    auto wn = ad::row_sum(y * weights);
    auto ln = ad::logsumexp(z) - ad::row_sum(y * z);
    return ad::sum(wn * ln) * (1.0 / double(Z::rows));
  }
};
template <std::size_t K, class T>
auto weighted_softmax_cross_entropy(const T* w) {
  return WeightedSoftmaxCrossEntropy<T, K>{w};
}
template <std::size_t K, class T>
auto weighted_softmax_cross_entropy_mean(const T* w) {
  return WeightedSoftmaxCrossEntropyMean<T, K>{w};
}

/// L2 penalty λ/2 · Σ_l ‖W_l‖²_F over the weight matrices (biases excluded).
template <class Params>
auto l2_penalty(const Params& params, double lambda) {
  return boost::hana::unpack(params.weights, [lambda](auto... w) {
    return ((ad::sum(ad::square(w)) + ...)) * (0.5 * lambda);
  });
}

/// A data loss plus an L2 penalty: loss(p, y) + λ/2 Σ‖W‖².
template <class Loss>
struct WithL2 {
  Loss data;
  double lambda;
  template <class P, class Y, class Params>
  auto operator()(P p, Y y, const Params& params) const {
    return data(p, y) + l2_penalty(params, lambda);
  }
};
template <class Loss>
WithL2<Loss> with_l2(Loss l, double lambda) {
  return {l, lambda};
}

inline constexpr MseHalfSum mse_half_sum{};
inline constexpr MseMean mse_mean{};
inline constexpr BceProb bce_prob{};
inline constexpr BceLogits bce_logits{};
inline constexpr SoftmaxCrossEntropy softmax_cross_entropy{};
inline constexpr CrossEntropy cross_entropy{};

}  // namespace ctnn::loss
