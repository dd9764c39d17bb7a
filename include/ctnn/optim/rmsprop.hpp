// ctnn/optim/rmsprop.hpp: RMSProp (Hinton's lecture 6e), PyTorch's formula:
//   g <- g + weight_decay * theta
//   v = alpha v + (1 - alpha) g^2   (v starts at 0; no bias correction)
//   centred: a = alpha a + (1 - alpha) g;  avg = sqrt(max(v - a^2, 0)) + eps;  else avg = sqrt(v) + eps
//   momentum mu > 0: buf = mu buf + g / avg;  theta -= lr * buf;  else theta -= lr * g / avg
// State: v, then a (centred), then buf (momentum): 1 to 3 x n values.
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
  double momentum = 0;
  bool centered = false;
  double weight_decay = 0;            ///< coupled L2
  double decoupled_weight_decay = 0;  ///< theta *= 1 - lr wd
};

template <class T>
class RMSProp : public OptimizerBase<T> {
  using Base = OptimizerBase<T>;

 public:
  RMSProp(std::size_t n, RMSPropOptions o = {}, DecayMask mask = {}) : Base(n, 1 + (o.centered ? 1 : 0) + (o.momentum > 0 ? 1 : 0), std::move(mask)), o_(o) {
    if (!(o.alpha >= 0 && o.alpha < 1)) throw std::invalid_argument("ctnn::optim::RMSProp: alpha must be in [0, 1)");
    Base::check_lr("RMSProp", o.lr);
    if (!(o.eps >= 0 && o.momentum >= 0 && o.weight_decay >= 0 && o.decoupled_weight_decay >= 0))
      throw std::invalid_argument("ctnn::optim::RMSProp: eps, momentum and weight decays must be >= 0");
  }
  const RMSPropOptions& options() const noexcept { return o_; }

  void step(std::span<T> params, std::span<const T> grads) { step(params, grads, o_.lr); }
  void step(std::span<T> params, std::span<const T> grads, double lr_) {
    ++this->steps_;
    const T lr = static_cast<T>(lr_), alpha = static_cast<T>(o_.alpha), c = static_cast<T>(1 - o_.alpha);
    const T eps = static_cast<T>(o_.eps);
    const T mu = static_cast<T>(o_.momentum);
    const bool centered = o_.centered, momentum = o_.momentum > 0;
    T* sq = this->buffer(0);
    T* ga = this->buffer(1);                   // centred only
    T* buf = this->buffer(centered ? 2 : 1);  // momentum only
    this->update("RMSProp", params, grads, lr_, o_.weight_decay, o_.decoupled_weight_decay,
                 [&](std::size_t i, auto lanes, auto kept, auto gi) {
                   using L = decltype(lanes);
                   using std::sqrt;
                   const auto v = L::splat(alpha) * L::load(sq + i) + L::splat(c) * (gi * gi);
                   L::store(sq + i, v);
                   auto avg = sqrt(v) + L::splat(eps);
                   if (centered) {
                     const auto a = L::splat(alpha) * L::load(ga + i) + L::splat(c) * gi;
                     L::store(ga + i, a);
                     // v − a² ≥ 0 in exact arithmetic (a variance); in float it can round below 0 when
                     // the gradient is nearly constant (0.1 for ~1200 steps: sqrt gave NaN). Clamped at
                     // 0: the same value wherever it is positive (PyTorch has the NaN).
                     avg = sqrt(simd::max(v - a * a, L::splat(T(0)))) + L::splat(eps);
                   }
                   if (!momentum) return kept - L::splat(lr) * (gi / avg);
                   const auto b = L::splat(mu) * L::load(buf + i) + gi / avg;
                   L::store(buf + i, b);
                   return kept - L::splat(lr) * b;
                 });
  }

 private:
  RMSPropOptions o_;
};

}  // namespace ctnn::optim
