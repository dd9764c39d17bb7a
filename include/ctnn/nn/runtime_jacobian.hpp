// ctnn/nn/runtime_jacobian.hpp: Jacobians of a RuntimeNetwork's outputs for one sample, with
// respect to its input (K x In) and its parameters (K x P, flat order), by reverse mode row by
// row on the runtime tape: the network is recorded once (RuntimeNetwork::record_output) under
// the root ⟨output, seed⟩; row k is one forward/backward pass with seed = e_k. The same
// construction as nn/jacobian.hpp's reverse mode on the static tape. Not in the umbrella (the
// runtime network needs nlohmann-json).
// Layer: nn (includes ad, core).
#pragma once
#include <algorithm>
#include <cstddef>
#include <stdexcept>

#include "ctnn/core/aligned.hpp"
#include "ctnn/nn/runtime_network.hpp"

namespace ctnn {

template <class T>
class RuntimeJacobian {
 public:
  /// Records net (kept by reference; its parameters are read at each call, its grads() written).
  explicit RuntimeJacobian(RuntimeNetwork<T>& net)
      : net_(net), x_(net.inputs()), dx_(net.inputs()), seed_(net.outputs()) {
    namespace rt = ad::runtime;
    x_leaf_ = tape_.leaf(1, net.inputs(), x_.data(), dx_.data());
    const rt::Var<T> out = net.record_output(tape_, x_leaf_);
    const rt::Var<T> s = tape_.leaf(1, net.outputs(), seed_.data());
    root_ = rt::sum(out * s);
  }
  std::size_t outputs() const noexcept { return seed_.size(); }
  std::size_t inputs() const noexcept { return x_.size(); }

  /// J[k In + i] = d output[k] / d x[i] at the sample x (In values).
  void input(const T* x, T* J) { rows(x, [&](std::size_t k) { std::copy_n(dx_.data(), inputs(), J + k * inputs()); }); }
  /// J[k P + j] = d output[k] / d θ[j] at the sample x.
  void params(const T* x, T* J) {
    const std::size_t P = net_.num_params();
    rows(x, [&](std::size_t k) { std::copy_n(net_.grads().data(), P, J + k * P); });
  }

 private:
  template <class Row>
  void rows(const T* x, Row&& row) {
    std::copy_n(x, inputs(), x_.data());
    for (std::size_t k = 0; k < outputs(); ++k) {
      std::fill(seed_.begin(), seed_.end(), T(0));
      seed_[k] = T(1);
      tape_.value_and_gradient(root_);
      row(k);
    }
  }
  RuntimeNetwork<T>& net_;
  AlignedBuffer<T> x_, dx_, seed_;
  ad::runtime::Tape<T> tape_;
  ad::runtime::Var<T> x_leaf_, root_;
};

}  // namespace ctnn
