// ctnn/optim/rmsprop.hpp: RMSProp (Hinton's lecture 6e), PyTorch's formula (not centred, no
// momentum):
//   g <- g + weight_decay * theta
//   v = alpha v + (1 - alpha) g^2   (v starts at 0; no bias correction)
//   theta -= lr * g / (sqrt(v) + eps)   (eps outside the root)
// State: v (n values).
// Layer: optim.
#pragma once
#include <cstddef>
#include <span>

#include "ctnn/optim/optimizer.hpp"

namespace ctnn::optim {

struct RMSPropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;            ///< coupled L2
  double decoupled_weight_decay = 0;  ///< theta *= 1 - lr wd
};

template <class T>
class RMSProp : public OptimizerBase<T> {
  using Base = OptimizerBase<T>;

 public:
  RMSProp(std::size_t n, RMSPropOptions o = {}, DecayMask mask = {}) : Base(n, 1, std::move(mask)), o_(o) {
    if (!(o.alpha >= 0 && o.alpha < 1)) throw std::invalid_argument("ctnn::optim::RMSProp: alpha must be in [0, 1)");
    if (!(o.eps >= 0) || o.weight_decay < 0 || o.decoupled_weight_decay < 0)
      throw std::invalid_argument("ctnn::optim::RMSProp: eps and weight decays must be >= 0");
  }
  const RMSPropOptions& options() const noexcept { return o_; }

  void step(std::span<T> params, std::span<const T> grads) { step(params, grads, o_.lr); }
  void step(std::span<T> params, std::span<const T> grads, double lr_) {
    ++this->steps_;
    const T lr = static_cast<T>(lr_), alpha = static_cast<T>(o_.alpha), c = static_cast<T>(1 - o_.alpha);
    const T eps = static_cast<T>(o_.eps);
    T* avg = this->buffer(0);
    this->update("RMSProp", params, grads, lr_, o_.weight_decay, o_.decoupled_weight_decay,
                 [&](std::size_t i, auto lanes, auto kept, auto gi) {
                   using L = decltype(lanes);
                   using std::sqrt;
                   const auto v = L::splat(alpha) * L::load(avg + i) + L::splat(c) * (gi * gi);
                   L::store(avg + i, v);
                   return kept - L::splat(lr) * (gi / (sqrt(v) + L::splat(eps)));
                 });
  }

 private:
  RMSPropOptions o_;
};

}  // namespace ctnn::optim
