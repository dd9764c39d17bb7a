// ctnn/train/runtime_evaluate.hpp: train/evaluate.hpp's passes for a RuntimeNetwork (a topology known
// at run time): the loss and confusion matrix over rows idx[0..n) of a labelled set, and the gradient of
// the mean loss over them. Rows go through the network `batch` at a time and the rest as one smaller
// batch (a RuntimeNetwork takes any batch); a RuntimeLoss is a mean over its rows, so a chunk's loss
// times its rows is its sum. The tool's runtime loop and data-parallel training
// (dist/runtime_replica.hpp) use them.
// Layer: train (includes nn's runtime network and train's evaluate and labelled_data).
#pragma once
#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "ctnn/nn/runtime_network.hpp"
#include "ctnn/train/evaluate.hpp"
#include "ctnn/train/labelled_data.hpp"
#include "ctnn/train/metrics.hpp"

namespace ctnn::train {

/// One batch of a RuntimeNetwork: inputs, targets and outputs of up to `batch` rows.
template <class T>
struct RuntimeBatch {
  std::size_t batch, in, out;
  std::vector<T> x, y, o;
  RuntimeBatch(std::size_t batch, std::size_t in, std::size_t out)
      : batch(batch), in(in), out(out), x(batch * in), y(batch * out), o(batch * out) {}
  template <class N>
  explicit RuntimeBatch(const N& net, std::size_t batch) : RuntimeBatch(batch, net.inputs(), net.outputs()) {}
  /// Rows idx[0..rows) of d and their targets into x and y.
  template <LabelledData D>
  void gather(const D& d, const std::size_t* idx, std::size_t rows) {
    gather_rows(d, idx, rows, in, out, x.data(), y.data());
  }
  /// How many of the first `rows` outputs predict their target's class.
  std::size_t correct(std::size_t rows, double threshold) const noexcept {
    std::size_t c = 0;
    for (std::size_t j = 0; j < rows; ++j)
      c += predicted_class(o.data() + j * out, out, threshold) == target_class(y.data() + j * out, out);
    return c;
  }
};

/// Adds the losses of rows idx of d (a sum over the rows) to loss_sum and their (truth, prediction)
/// pairs to cm. One-output networks predict class 1 when the output exceeds `threshold`.
template <class T, LabelledData D>
void accumulate_evaluation(RuntimeNetwork<T>& net, const RuntimeLoss& loss, const D& d,
                           std::span<const std::size_t> idx, double threshold, RuntimeBatch<T>& buf,
                           double& loss_sum, ConfusionMatrix& cm) {
  for (std::size_t s = 0; s < idx.size(); s += buf.batch) {
    const std::size_t rows = std::min(buf.batch, idx.size() - s);
    buf.gather(d, idx.data() + s, rows);
    loss_sum += static_cast<double>(net.loss_and_output(loss, rows, buf.x.data(), buf.y.data(), buf.o.data())) *
                static_cast<double>(rows);
    for (std::size_t j = 0; j < rows; ++j)
      cm.add(target_class(buf.y.data() + j * buf.out, buf.out),
             predicted_class(buf.o.data() + j * buf.out, buf.out, threshold));
  }
}

/// Adds (the gradient of each row's loss) / total over rows idx of d to acc (num_params doubles): with
/// total = N over all N rows of a set, in one call or in shares, acc becomes the gradient of the set's
/// mean loss. Leaves the network's grads() overwritten.
template <class T, LabelledData D>
void accumulate_gradient(RuntimeNetwork<T>& net, const RuntimeLoss& loss, const D& d, std::span<const std::size_t> idx,
                         double total, RuntimeBatch<T>& buf, std::span<double> acc) {
  const auto g = net.grads();
  for (std::size_t s = 0; s < idx.size(); s += buf.batch) {
    const std::size_t rows = std::min(buf.batch, idx.size() - s);
    buf.gather(d, idx.data() + s, rows);
    net.gradient(loss, rows, buf.x.data(), buf.y.data());
    const double w = static_cast<double>(rows) / total;
    for (std::size_t k = 0; k < acc.size(); ++k) acc[k] += w * static_cast<double>(g[k]);
  }
}

}  // namespace ctnn::train
