// ctnn/train/evaluate.hpp: a network on chosen rows of a labelled set -- the predicted and true
// class of an output row, the loss and confusion matrix over rows idx[0..n), and the gradient of
// the mean loss over them. The Trainer's validation pass and gradient-norm criterion, and each
// rank's share of data-parallel evaluation (dist/data_parallel.hpp), are these functions.
// Rows go through the network B at a time (its compile-time batch) and the rest one by one;
// ctnn losses are batch means, so a chunk's loss times its rows is its sum, and the totals are
// exact sums over the rows (up to rounding).
// Layer: train (includes ad, core and train's metrics and labelled_data).
#pragma once
#include <algorithm>
#include <cstddef>
#include <span>
#include <type_traits>

#include "ctnn/ad/ad.hpp"
#include "ctnn/core/aligned.hpp"
#include "ctnn/train/labelled_data.hpp"
#include "ctnn/train/metrics.hpp"

namespace ctnn::train {

/// The class an output row predicts: the argmax of out > 1 outputs, or 1 when a single output
/// exceeds `threshold`.
template <class T>
std::size_t predicted_class(const T* o, std::size_t out, double threshold) noexcept {
  if (out == 1) return static_cast<double>(o[0]) > threshold ? 1 : 0;
  return static_cast<std::size_t>(std::max_element(o, o + out) - o);
}
/// The class a target row encodes (gather_rows' one-hot row, or the 0/1 label of one output).
template <class T>
std::size_t target_class(const T* y, std::size_t out) noexcept {
  if (out == 1) return y[0] > T(0.5) ? 1 : 0;
  return static_cast<std::size_t>(std::max_element(y, y + out) - y);
}
/// The same with the output count known at compile time.
template <std::size_t Out, class T>
std::size_t predicted_class(const T* o, double threshold) noexcept {
  return predicted_class(o, Out, threshold);
}
template <std::size_t Out, class T>
std::size_t target_class(const T* y) noexcept {
  return target_class(y, Out);
}

/// One batch of B rows of a network: inputs, targets and outputs (aligned, allocated once).
template <class Net, std::size_t B>
struct BatchBuffers {
  using T = typename Net::scalar;
  static constexpr std::size_t In = Net::inputs, Out = Net::outputs;
  AlignedBuffer<T> x{B * In}, y{B * Out}, out{B * Out};
  /// Rows idx[0..rows) of d and their targets into x and y.
  template <LabelledData D>
  void gather(const D& d, const std::size_t* idx, std::size_t rows) {
    gather_rows<In, Out>(d, idx, rows, x.data(), y.data());
  }
  /// How many of the first `rows` outputs predict their target's class.
  std::size_t correct(std::size_t rows, double threshold) const noexcept {
    std::size_t c = 0;
    for (std::size_t j = 0; j < rows; ++j)
      c += predicted_class<Out>(out.data() + j * Out, threshold) == target_class<Out>(y.data() + j * Out);
    return c;
  }
};

/// The loss of R rows from their outputs and targets when the loss needs no parameters, else by a
/// forward pass (net.loss).
template <std::size_t R, class Net, class Loss, class T>
double batch_loss(const Net& net, const Loss& loss, const T* x, const T* y, const T* out) {
  constexpr std::size_t Out = Net::outputs;
  auto po = ad::constant<-7001, R, Out>(out);
  auto yo = ad::constant<-7002, R, Out>(y);
  if constexpr (std::is_invocable_v<const Loss&, decltype(po), decltype(yo)>) {
    T v{};
    ad::evaluate(loss(po, yo), &v);
    return static_cast<double>(v);
  } else {
    return static_cast<double>(net.template loss<R>(loss, x, y));
  }
}

/// Adds the losses of rows idx[0..n) of d (a sum over the rows) to loss_sum and their (truth,
/// prediction) pairs to cm.
template <std::size_t B, class Net, class Loss, LabelledData D>
void accumulate_evaluation(Net& net, const Loss& loss, const D& d, std::span<const std::size_t> idx,
                           double threshold, BatchBuffers<Net, B>& buf, double& loss_sum, ConfusionMatrix& cm) {
  constexpr std::size_t In = Net::inputs, Out = Net::outputs;
  const std::size_t n = idx.size();
  for (std::size_t s = 0; s < n; s += B) {
    const std::size_t rows = std::min(B, n - s);
    buf.gather(d, idx.data() + s, rows);
    if (rows == B) {
      net.template forward<B>(buf.x.data(), buf.out.data());
      loss_sum += batch_loss<B>(net, loss, buf.x.data(), buf.y.data(), buf.out.data()) * static_cast<double>(B);
    } else {
      for (std::size_t j = 0; j < rows; ++j) {
        net.template forward<1>(buf.x.data() + j * In, buf.out.data() + j * Out);
        loss_sum += batch_loss<1>(net, loss, buf.x.data() + j * In, buf.y.data() + j * Out, buf.out.data() + j * Out);
      }
    }
    for (std::size_t j = 0; j < rows; ++j)
      cm.add(target_class<Out>(buf.y.data() + j * Out), predicted_class<Out>(buf.out.data() + j * Out, threshold));
  }
}

/// Loss (mean over the rows) and confusion matrix of rows idx of d.
template <std::size_t B, class Net, class Loss, LabelledData D>
Evaluation evaluate_rows(Net& net, const Loss& loss, const D& d, std::span<const std::size_t> idx, double threshold,
                         BatchBuffers<Net, B>& buf) {
  Evaluation e;
  e.confusion = ConfusionMatrix(Net::outputs > 1 ? Net::outputs : 2);
  double sum = 0;
  accumulate_evaluation<B>(net, loss, d, idx, threshold, buf, sum, e.confusion);
  e.loss = sum / static_cast<double>(idx.size());
  return e;
}

/// Adds (the gradient of each row's loss) / total over rows idx of d to acc (P doubles): with
/// total = N over all N rows of a set, in one call or in shares, acc becomes the gradient of the
/// set's mean loss.
template <std::size_t B, class Net, class Loss, LabelledData D>
void accumulate_gradient(Net& net, const Loss& loss, const D& d, std::span<const std::size_t> idx, double total,
                         BatchBuffers<Net, B>& buf, std::span<double> acc) {
  constexpr std::size_t In = Net::inputs, Out = Net::outputs, P = Net::num_params;
  const std::size_t n = idx.size();
  const auto g = net.grads();
  for (std::size_t s = 0; s < n; s += B) {
    const std::size_t rows = std::min(B, n - s);
    buf.gather(d, idx.data() + s, rows);
    if (rows == B) {
      net.template gradient_and_output<B>(loss, buf.x.data(), buf.y.data(), buf.out.data());
      const double w = static_cast<double>(B) / total;
      for (std::size_t k = 0; k < P; ++k) acc[k] += w * static_cast<double>(g[k]);
    } else {
      for (std::size_t j = 0; j < rows; ++j) {
        net.template gradient_and_output<1>(loss, buf.x.data() + j * In, buf.y.data() + j * Out,
                                            buf.out.data() + j * Out);
        for (std::size_t k = 0; k < P; ++k) acc[k] += static_cast<double>(g[k]) / total;
      }
    }
  }
}

}  // namespace ctnn::train
