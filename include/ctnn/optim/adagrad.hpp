// ctnn/optim/adagrad.hpp: AdaGrad (Duchi et al.), PyTorch's formula:
//   g <- g + weight_decay * theta;  clr = lr / (1 + (t - 1) lr_decay)
//   G += g^2  (G starts at initial_accumulator_value, 0 by default as PyTorch; TensorFlow uses 0.1)
//   theta -= clr * g / (sqrt(G) + eps)   (eps outside the root)
// State: G (n values).
// Layer: optim.
#pragma once
#include <algorithm>
#include <cstddef>
#include <span>

#include "ctnn/optim/optimizer.hpp"

namespace ctnn::optim {

struct AdaGradOptions {
  double lr = 1e-2;
  double lr_decay = 0;
  double initial_accumulator_value = 0;
  double eps = 1e-10;
  double weight_decay = 0;            ///< coupled L2
  double decoupled_weight_decay = 0;  ///< theta *= 1 - lr wd
};

template <class T>
class AdaGrad : public OptimizerBase<T> {
  using Base = OptimizerBase<T>;

 public:
  AdaGrad(std::size_t n, AdaGradOptions o = {}, DecayMask mask = {}) : Base(n, 1, std::move(mask)), o_(o) {
    Base::check_lr("AdaGrad", o.lr);
    if (!(o.lr_decay >= 0 && o.initial_accumulator_value >= 0 && o.eps >= 0 && o.weight_decay >= 0 &&
          o.decoupled_weight_decay >= 0))
      throw std::invalid_argument("ctnn::optim::AdaGrad: lr_decay, initial accumulator, eps and decays must be >= 0");
    reset();
  }
  const AdaGradOptions& options() const noexcept { return o_; }
  void reset() noexcept {
    Base::reset();
    std::fill(this->state_.begin(), this->state_.end(), static_cast<T>(o_.initial_accumulator_value));
  }

  void step(std::span<T> params, std::span<const T> grads) { step(params, grads, o_.lr); }
  void step(std::span<T> params, std::span<const T> grads, double lr_) {
    const double t = static_cast<double>(++this->steps_);
    const T clr = static_cast<T>(lr_ / (1 + (t - 1) * o_.lr_decay));
    const T eps = static_cast<T>(o_.eps);
    T* acc = this->buffer(0);
    this->update("AdaGrad", params, grads, lr_, o_.weight_decay, o_.decoupled_weight_decay,
                 [&](std::size_t i, auto lanes, auto kept, auto gi) {
                   using L = decltype(lanes);
                   using std::sqrt;
                   const auto G = L::load(acc + i) + gi * gi;
                   L::store(acc + i, G);
                   return kept - L::splat(clr) * (gi / (sqrt(G) + L::splat(eps)));
                 });
  }

 private:
  AdaGradOptions o_;
};

}  // namespace ctnn::optim
