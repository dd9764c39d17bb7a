// ctnn/nn/jacobian.hpp: Jacobians of a network's outputs for one sample, with respect to its
// input (K x In) and to its parameters (K x P, flat order), by either mode of the same tape:
//  * reverse: row k is the gradient of ⟨e_k, output⟩, one reverse sweep per output: the network's
//    gradient pass with the "loss" sum(output ⊙ seed) and the seed e_k in the target slot (the
//    product's rule hands the seed to the output's adjoint unchanged);
//  * forward: column i is the tangent of the output when input i (or parameter i) carries
//    tangent 1: one forward pass of Net::rebind<Dual<T>> per column.
// JacobianMode::automatic picks by shape at compile time: reverse when there are no more outputs
// than columns (K <= In, K <= P), else forward. Buffers are allocated at construction.
// Layer: nn (includes ad, core).
#pragma once
#include <algorithm>
#include <cstddef>

#include "ctnn/ad/dual.hpp"
#include "ctnn/core/aligned.hpp"
#include "ctnn/nn/init.hpp"
#include "ctnn/nn/network.hpp"

namespace ctnn {

enum class JacobianMode { automatic, reverse, forward };

/// The seed loss of a reverse-mode row: ⟨output, seed⟩ (seed = e_k in the target slot).
struct SeedLoss {
  static constexpr const char* name = "seed";
  template <class P, class S>
  auto operator()(P p, S s) const {
    return ad::sum(p * s);
  }
};

template <class Net>
class Jacobian {
 public:
  using T = typename Net::scalar;
  using D = ad::Dual<T>;
  static constexpr std::size_t K = Net::outputs, In = Net::inputs, P = Net::num_params;
  /// The modes chosen by shape (fewer outputs than columns: reverse).
  static constexpr JacobianMode input_mode = K <= In ? JacobianMode::reverse : JacobianMode::forward;
  static constexpr JacobianMode param_mode = K <= P ? JacobianMode::reverse : JacobianMode::forward;

  Jacobian() : dnet_(0, Init::zeros), seed_(K), dx_(In), xd_(In), yd_(K) {}

  /// J[k In + i] = d output[k] / d x[i] at the sample x (In values). The reverse mode runs
  /// net's gradient pass (it overwrites net.grads()).
  void input(Net& net, const T* x, T* J, JacobianMode mode = JacobianMode::automatic) {
    if (mode == JacobianMode::automatic) mode = input_mode;
    if (mode == JacobianMode::reverse) {
      for (std::size_t k = 0; k < K; ++k) {
        seed(k);
        net.template gradient<1>(SeedLoss{}, x, seed_.data(), dx_.data());
        std::copy_n(dx_.data(), In, J + k * In);
      }
    } else {
      load_params(net);
      for (std::size_t i = 0; i < In; ++i) {
        for (std::size_t j = 0; j < In; ++j) xd_[j] = D(x[j], j == i ? T(1) : T(0));
        dnet_.template forward<1>(xd_.data(), yd_.data());
        for (std::size_t k = 0; k < K; ++k) J[k * In + i] = yd_[k].d;
      }
    }
  }

  /// J[k P + j] = d output[k] / d θ[j] at the sample x.
  void params(Net& net, const T* x, T* J, JacobianMode mode = JacobianMode::automatic) {
    if (mode == JacobianMode::automatic) mode = param_mode;
    if (mode == JacobianMode::reverse) {
      for (std::size_t k = 0; k < K; ++k) {
        seed(k);
        net.template gradient<1>(SeedLoss{}, x, seed_.data());
        std::copy_n(net.grads().data(), P, J + k * P);
      }
    } else {
      for (std::size_t j = 0; j < In; ++j) xd_[j] = D(x[j]);
      load_params(net);
      auto p = dnet_.params();
      for (std::size_t j = 0; j < P; ++j) {
        p[j].d = T(1);
        dnet_.template forward<1>(xd_.data(), yd_.data());
        p[j].d = T(0);
        for (std::size_t k = 0; k < K; ++k) J[k * P + j] = yd_[k].d;
      }
    }
  }

 private:
  void seed(std::size_t k) {
    std::fill(seed_.begin(), seed_.end(), T(0));
    seed_[k] = T(1);
  }
  void load_params(const Net& net) {  // θ with tangent 0
    const auto th = net.params();
    auto p = dnet_.params();
    for (std::size_t j = 0; j < P; ++j) p[j] = D(th[j]);
  }

  typename Net::template rebind<D> dnet_;
  AlignedBuffer<T> seed_, dx_;
  AlignedBuffer<D> xd_, yd_;
};

}  // namespace ctnn
