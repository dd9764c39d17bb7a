// ctnn/optim/sgd.hpp: stochastic gradient descent, with momentum in two conventions and Nesterov.
//
//   plain       theta -= lr * g
//   momentum, Momentum::pytorch (default; PyTorch's torch.optim.SGD):
//               buf = mu * buf + (1 - dampening) * g   (buf = g at the first step)
//               theta -= lr * buf
//   momentum, Momentum::textbook (v = gamma v + eta grad; e.g. Goodfellow et al., Bishop):
//               v = mu * v + lr * g
//               theta -= v
//   With a constant lr the two give the same iterates (v = lr * buf). They differ once lr changes
//   (a schedule): PyTorch applies the new lr to the whole accumulated buffer, the textbook form
//   only to the new gradient, so a drop of lr takes effect at once in PyTorch's form and is
//   phased in over ~1/(1 - mu) steps in the textbook form.
//   nesterov (PyTorch's form): buf as above, theta -= lr * (g + mu * buf); textbook:
//               v as above, theta -= mu * v + lr * g. Its iterate is the look-ahead point
//               theta + mu v of Sutskever et al.'s (2013) form v = mu v - lr grad(theta + mu v),
//               theta += v (equal at constant lr).
// Weight decay (coupled and decoupled) as documented in ctnn/optim/optimizer.hpp.
// Layer: optim.
#pragma once
#include <cstddef>
#include <span>

#include "ctnn/optim/optimizer.hpp"

namespace ctnn::optim {

enum class Momentum {
  pytorch,   ///< buf = mu buf + g; theta -= lr buf
  textbook,  ///< v = mu v + lr g; theta -= v
};

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0;      ///< mu; 0 = plain SGD (no state)
  double dampening = 0;     ///< PyTorch's dampening (pytorch convention only)
  bool nesterov = false;    ///< needs momentum > 0 and dampening 0
  Momentum convention = Momentum::pytorch;
  double weight_decay = 0;            ///< coupled L2: g += wd theta
  double decoupled_weight_decay = 0;  ///< theta *= 1 - lr wd
};

template <class T>
class SGD : public OptimizerBase<T> {
  using Base = OptimizerBase<T>;

 public:
  SGD(std::size_t n, SGDOptions o = {}, DecayMask mask = {}) : Base(n, o.momentum != 0 ? 1 : 0, std::move(mask)), o_(o) {
    Base::check_lr("SGD", o.lr);
    if (!(o.momentum >= 0 && o.dampening >= 0 && o.weight_decay >= 0 && o.decoupled_weight_decay >= 0))
      throw std::invalid_argument("ctnn::optim::SGD: momentum, dampening and weight decays must be >= 0");
    if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
      throw std::invalid_argument("ctnn::optim::SGD: Nesterov momentum requires momentum > 0 and dampening 0");
    if (o.dampening != 0 && o.convention == Momentum::textbook)
      throw std::invalid_argument("ctnn::optim::SGD: dampening is defined for the PyTorch convention only");
  }
  const SGDOptions& options() const noexcept { return o_; }

  void step(std::span<T> params, std::span<const T> grads) { step(params, grads, o_.lr); }
  void step(std::span<T> params, std::span<const T> grads, double lr_) {
    T* buf = this->state_.data();
    const T lr = static_cast<T>(lr_), mu = static_cast<T>(o_.momentum);
    const T damp = this->steps_ == 0 ? T(0) : static_cast<T>(o_.dampening);  // PyTorch: buf = g at the first step
    const bool has_momentum = o_.momentum != 0, nesterov = o_.nesterov;
    const bool textbook = o_.convention == Momentum::textbook;
    this->update("SGD", params, grads, lr_, o_.weight_decay, o_.decoupled_weight_decay,
                 [&](std::size_t i, auto lanes, auto kept, auto gi) {
                   using L = decltype(lanes);
                   if (!has_momentum) return kept - L::splat(lr) * gi;
                   if (!textbook) {
                     const auto v = L::splat(mu) * L::load(buf + i) + L::splat(T(1) - damp) * gi;
                     L::store(buf + i, v);
                     return kept - L::splat(lr) * (nesterov ? gi + L::splat(mu) * v : v);
                   }
                   const auto lg = L::splat(lr) * gi;
                   const auto v = L::splat(mu) * L::load(buf + i) + lg;
                   L::store(buf + i, v);
                   return kept - (nesterov ? L::splat(mu) * v + lg : v);
                 });
    ++this->steps_;
  }

 private:
  SGDOptions o_;
};

}  // namespace ctnn::optim
