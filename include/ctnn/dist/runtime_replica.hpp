// ctnn/dist/runtime_replica.hpp: a RuntimeNetwork (a topology known only at run time, on the runtime
// tape) as a dist::Replica, so that dist::train_data_parallel trains it over MPI ranks as it trains a
// compiled ctnn::Network. The batch (rows per rank and step) is chosen at run time. Evaluation and
// the whole-set gradient take the rows `batch` at a time and the rest as one smaller batch; a
// RuntimeLoss is a mean over its rows, so a chunk's loss times its rows is its sum.
// Layer: dist (uses nn's runtime network and train's data and evaluation headers; no MPI here).
#pragma once
#include <algorithm>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <vector>

#include "ctnn/nn/runtime_network.hpp"
#include "ctnn/train/evaluate.hpp"
#include "ctnn/train/labelled_data.hpp"
#include "ctnn/train/metrics.hpp"

namespace ctnn::dist {

template <class T>
class RuntimeReplica {
 public:
  using scalar = T;
  /// `net` is held by reference; `batch` rows per rank and step.
  RuntimeReplica(RuntimeNetwork<T>& net, RuntimeLoss loss, std::size_t batch)
      : net_(net), loss_(std::move(loss)), batch_(batch), x_(batch * net.inputs()), y_(batch * net.outputs()),
        out_(batch * net.outputs()) {}
  std::size_t inputs() const noexcept { return net_.inputs(); }
  std::size_t outputs() const noexcept { return net_.outputs(); }
  std::size_t num_params() const noexcept { return net_.num_params(); }
  std::size_t batch() const noexcept { return batch_; }
  std::span<T> params() noexcept { return net_.params(); }
  std::span<T> grads() noexcept { return net_.grads_mutable(); }

  template <train::LabelledData D>
  double batch_gradient(const D& d, const std::size_t* idx, double threshold, std::size_t& right) {
    gather(d, idx, batch_);
    const double l = static_cast<double>(net_.gradient_and_output(loss_, batch_, x_.data(), y_.data(), out_.data()));
    right = 0;
    for (std::size_t j = 0; j < batch_; ++j)
      right += train::predicted_class(out_.data() + j * outputs(), outputs(), threshold) ==
               train::target_class(y_.data() + j * outputs(), outputs());
    return l;
  }
  template <train::LabelledData D>
  void evaluate(const D& d, std::span<const std::size_t> rows, double threshold, double& sum,
                train::ConfusionMatrix& cm) {
    const std::size_t out = outputs();
    for (std::size_t s = 0; s < rows.size(); s += batch_) {
      const std::size_t n = std::min(batch_, rows.size() - s);
      gather(d, rows.data() + s, n);
      sum += static_cast<double>(net_.loss_and_output(loss_, n, x_.data(), y_.data(), out_.data())) *
             static_cast<double>(n);
      for (std::size_t j = 0; j < n; ++j)
        cm.add(train::target_class(y_.data() + j * out, out),
               train::predicted_class(out_.data() + j * out, out, threshold));
    }
  }
  template <train::LabelledData D>
  void accumulate_gradient(const D& d, std::span<const std::size_t> rows, double total, std::span<double> acc) {
    const auto g = net_.grads();
    for (std::size_t s = 0; s < rows.size(); s += batch_) {
      const std::size_t n = std::min(batch_, rows.size() - s);
      gather(d, rows.data() + s, n);
      net_.gradient(loss_, n, x_.data(), y_.data());
      const double w = static_cast<double>(n) / total;
      for (std::size_t k = 0; k < acc.size(); ++k) acc[k] += w * static_cast<double>(g[k]);
    }
  }

 private:
  template <train::LabelledData D>
  void gather(const D& d, const std::size_t* idx, std::size_t n) {
    train::gather_rows(d, idx, n, inputs(), outputs(), x_.data(), y_.data());
  }

  RuntimeNetwork<T>& net_;
  RuntimeLoss loss_;
  std::size_t batch_;
  std::vector<T> x_, y_, out_;
};

}  // namespace ctnn::dist
