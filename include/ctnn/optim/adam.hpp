// ctnn/optim/adam.hpp: Adam (Kingma & Ba) and AdamW (Loshchilov & Hutter), PyTorch's formulas:
//   g <- g + weight_decay * theta                       (coupled L2; Adam's `weight_decay`)
//   theta <- theta * (1 - lr * decoupled_weight_decay)  (AdamW's decay)
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  t counts steps from 1
//   theta -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)   (eps after the bias
//   correction of sqrt(v), as PyTorch; not sqrt(v_hat + eps))
//   amsgrad: v_max = max(v_max, v) replaces v in the denominator (Reddi et al.; PyTorch's amsgrad)
// adamw_options() gives AdamW's defaults (decoupled decay 0.01). State: m, v, then v_max (amsgrad).
// Layer: optim.
#pragma once
#include <cmath>
#include <cstddef>
#include <span>

#include "ctnn/optim/optimizer.hpp"

namespace ctnn::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  bool amsgrad = false;
  double weight_decay = 0;            ///< coupled L2 (torch.optim.Adam's weight_decay)
  double decoupled_weight_decay = 0;  ///< AdamW's weight_decay
};

/// torch.optim.AdamW's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, decoupled decay 0.01.
inline AdamOptions adamw_options(double lr = 1e-3, double weight_decay = 0.01) {
  AdamOptions o;
  o.lr = lr;
  o.decoupled_weight_decay = weight_decay;
  return o;
}

template <class T>
class Adam : public OptimizerBase<T> {
  using Base = OptimizerBase<T>;

 public:
  Adam(std::size_t n, AdamOptions o = {}, DecayMask mask = {}) : Base(n, o.amsgrad ? 3 : 2, std::move(mask)), o_(o) {
    if (!(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1))
      throw std::invalid_argument("ctnn::optim::Adam: betas must be in [0, 1)");
    Base::check_lr("Adam", o.lr);
    if (!(o.eps >= 0 && o.weight_decay >= 0 && o.decoupled_weight_decay >= 0))
      throw std::invalid_argument("ctnn::optim::Adam: eps and weight decays must be >= 0");
  }
  const AdamOptions& options() const noexcept { return o_; }
  /// The first and second moment estimates (views into state()).
  std::span<const T> first_moment() const noexcept { return {this->state_.data(), this->n_}; }
  std::span<const T> second_moment() const noexcept { return {this->state_.data() + this->n_, this->n_}; }

  void step(std::span<T> params, std::span<const T> grads) { step(params, grads, o_.lr); }
  void step(std::span<T> params, std::span<const T> grads, double lr_) {
    const double t = static_cast<double>(++this->steps_);
    const T step_size = static_cast<T>(lr_ / (1 - std::pow(o_.beta1, t)));
    const T inv_bc2_sqrt = static_cast<T>(1 / std::sqrt(1 - std::pow(o_.beta2, t)));  // one division per step
    const T b1 = static_cast<T>(o_.beta1), b2 = static_cast<T>(o_.beta2);
    const T c1 = static_cast<T>(1 - o_.beta1), c2 = static_cast<T>(1 - o_.beta2), eps = static_cast<T>(o_.eps);
    T* m = this->buffer(0);
    T* v = this->buffer(1);
    T* vmax = this->buffer(2);  // amsgrad only
    const bool amsgrad = o_.amsgrad;
    this->update("Adam", params, grads, lr_, o_.weight_decay, o_.decoupled_weight_decay,
                 [&](std::size_t i, auto lanes, auto kept, auto gi) {
                   using L = decltype(lanes);
                   using std::max;
                   using std::sqrt;
                   const auto mi = L::splat(b1) * L::load(m + i) + L::splat(c1) * gi;
                   const auto vi = L::splat(b2) * L::load(v + i) + L::splat(c2) * (gi * gi);
                   L::store(m + i, mi);
                   L::store(v + i, vi);
                   auto vd = vi;
                   if (amsgrad) {
                     vd = max(L::load(vmax + i), vi);
                     L::store(vmax + i, vd);
                   }
                   const auto denom = sqrt(vd) * L::splat(inv_bc2_sqrt) + L::splat(eps);
                   return kept - L::splat(step_size) * (mi / denom);
                 });
  }

 private:
  AdamOptions o_;
};

}  // namespace ctnn::optim
