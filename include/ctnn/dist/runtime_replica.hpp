// ctnn/dist/runtime_replica.hpp: a RuntimeNetwork (a topology known only at run time, on the runtime
// tape) as a dist::Replica, so that dist::train_data_parallel trains it over MPI ranks as it trains a
// compiled ctnn::Network. The batch (rows per rank and step) is chosen at run time; evaluation and
// the whole-set gradient are train/runtime_evaluate.hpp's passes (the tool's single-process loop
// uses them too).
// Layer: dist (uses nn's runtime network and train's data and evaluation headers; no MPI here).
#pragma once
#include <cstddef>
#include <span>

#include "ctnn/nn/runtime_network.hpp"
#include "ctnn/train/labelled_data.hpp"
#include "ctnn/train/metrics.hpp"
#include "ctnn/train/runtime_evaluate.hpp"

namespace ctnn::dist {

template <class T>
class RuntimeReplica {
 public:
  using scalar = T;
  /// `net` is held by reference; `batch` rows per rank and step.
  RuntimeReplica(RuntimeNetwork<T>& net, RuntimeLoss loss, std::size_t batch)
      : net_(net), loss_(std::move(loss)), buf_(net, batch) {}
  std::size_t inputs() const noexcept { return net_.inputs(); }
  std::size_t outputs() const noexcept { return net_.outputs(); }
  std::size_t num_params() const noexcept { return net_.num_params(); }
  std::size_t batch() const noexcept { return buf_.batch; }
  std::span<T> params() noexcept { return net_.params(); }
  std::span<T> grads() noexcept { return net_.grads_mutable(); }

  template <train::LabelledData D>
  double batch_gradient(const D& d, const std::size_t* idx, double threshold, std::size_t& right) {
    buf_.gather(d, idx, buf_.batch);
    const T l = net_.gradient_and_output(loss_, buf_.batch, buf_.x.data(), buf_.y.data(), buf_.o.data());
    right = buf_.correct(buf_.batch, threshold);
    return static_cast<double>(l);
  }
  template <train::LabelledData D>
  void evaluate(const D& d, std::span<const std::size_t> rows, double threshold, double& sum,
                train::ConfusionMatrix& cm) {
    train::accumulate_evaluation(net_, loss_, d, rows, threshold, buf_, sum, cm);
  }
  template <train::LabelledData D>
  void accumulate_gradient(const D& d, std::span<const std::size_t> rows, double total, std::span<double> acc) {
    train::accumulate_gradient(net_, loss_, d, rows, total, buf_, acc);
  }

 private:
  RuntimeNetwork<T>& net_;
  RuntimeLoss loss_;
  train::RuntimeBatch<T> buf_;
};

}  // namespace ctnn::dist
