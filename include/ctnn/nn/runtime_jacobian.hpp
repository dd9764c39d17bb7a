// ctnn/nn/runtime_jacobian.hpp: Jacobians of a RuntimeNetwork's outputs for one sample, with
// respect to its input (K x In) and its parameters (K x P, flat order), by reverse mode row by
// row on the runtime tape: the network is recorded once (RuntimeNetwork::record_output) under
// the root ⟨output, seed⟩; row k is one forward/backward pass with seed = e_k. The same
// construction as nn/jacobian.hpp's reverse mode on the static tape. The recorded tape points into
// the network's parameter and gradient buffers, so each call first checks that they (and the
// topology) are still those it was recorded over, and records again if the network was assigned
// since (net = RuntimeNetwork<T>(...) frees the old buffers). Not in the umbrella (the runtime
// network needs nlohmann-json).
// Layer: nn (includes ad, core).
#pragma once
#include <algorithm>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <vector>

#include "ctnn/core/aligned.hpp"
#include "ctnn/nn/runtime_network.hpp"

namespace ctnn {

template <class T>
class RuntimeJacobian {
 public:
  /// Records net (kept by reference: it must outlive this; its parameters are read at each call,
  /// its grads() written). If net is assigned another network (other buffers, maybe another
  /// topology), the next call records it again (allocating) and follows its sizes.
  explicit RuntimeJacobian(RuntimeNetwork<T>& net) : net_(net) { record(); }
  std::size_t outputs() const noexcept { return net_.outputs(); }
  std::size_t inputs() const noexcept { return net_.inputs(); }

  /// J[k In + i] = d output[k] / d x[i] at the sample x (In values).
  void input(const T* x, T* J) { rows(x, [&](std::size_t k) { std::copy_n(dx_.data(), inputs(), J + k * inputs()); }); }
  /// J[k P + j] = d output[k] / d θ[j] at the sample x.
  void params(const T* x, T* J) {
    const std::size_t P = net_.num_params();
    rows(x, [&](std::size_t k) { std::copy_n(net_.grads().data(), P, J + k * P); });
  }

 private:
  // Whether the tape was recorded over net_'s current buffers and topology.
  bool recorded_over_net() const {
    return params_at_ == net_.params().data() && grads_at_ == net_.grads().data() &&
           sizes_ == net_.layer_sizes() && acts_ == net_.activations() && slope_ == net_.leaky_slope();
  }
  void record() {
    namespace rt = ad::runtime;
    tape_.reset();  // it points into x_, dx_, seed_ and the network's buffers
    x_ = AlignedBuffer<T>(net_.inputs());
    dx_ = AlignedBuffer<T>(net_.inputs());
    seed_ = AlignedBuffer<T>(net_.outputs());
    rt::Tape<T>& tape = tape_.emplace();
    x_leaf_ = tape.leaf(1, net_.inputs(), x_.data(), dx_.data());
    const rt::Var<T> out = net_.record_output(tape, x_leaf_);
    const rt::Var<T> s = tape.leaf(1, net_.outputs(), seed_.data());
    root_ = rt::sum(out * s);
    params_at_ = net_.params().data();
    grads_at_ = net_.grads().data();
    sizes_ = net_.layer_sizes();
    acts_ = net_.activations();
    slope_ = net_.leaky_slope();
  }
  template <class Row>
  void rows(const T* x, Row&& row) {
    if (!recorded_over_net()) record();
    std::copy_n(x, inputs(), x_.data());
    for (std::size_t k = 0; k < outputs(); ++k) {
      std::fill(seed_.begin(), seed_.end(), T(0));
      seed_[k] = T(1);
      tape_->value_and_gradient(root_);
      row(k);
    }
  }
  RuntimeNetwork<T>& net_;
  AlignedBuffer<T> x_, dx_, seed_;
  std::optional<ad::runtime::Tape<T>> tape_;
  ad::runtime::Var<T> x_leaf_, root_;
  // What the tape was recorded over.
  const T* params_at_ = nullptr;
  const T* grads_at_ = nullptr;
  std::vector<std::size_t> sizes_;
  std::vector<RuntimeActivation> acts_;
  double slope_ = 0;
};

}  // namespace ctnn
