// ctnn/nn/hvp.hpp: Hessian-vector products and full Hessians by forward-over-reverse. The
// network's own loss expression is run on Dual<T> numbers (ad/dual.hpp) with the parameters
// θ + ε·v: one reverse sweep gives the gradient (values) and H·v (tangents). No derivative rule
// is added; the network type is Net::rebind<Dual<T>>, the same layers, primitives and tape.
//   NetworkHvp<Net, B> h;  h(net, loss, x, y, v, Hv[, g])  → loss, H v (and ∇θ loss) at net's θ
//   hessian<B>(net, loss, x, y, H)                         → the P x P Hessian (P HVPs with e_j)
//   ObjectiveHvp<T, F>: the same for any scalar objective given as F(const Dual* θ, Dual* grad)
//     → Dual value (an ad expression over ad::variable leaves, run with ad::value_and_gradient).
// Any loss a gradient pass takes works as is: its constants (class weights, ad::constant leaves
// over T) take the differentiated expression's scalar (ad::operand_scalar), and the tape converts
// them to Dual once per pass.
// Layer: nn (includes ad, core).
#pragma once
#include <cstddef>
#include <span>
#include <type_traits>
#include <vector>

#include "ctnn/ad/dual.hpp"
#include "ctnn/core/aligned.hpp"
#include "ctnn/nn/init.hpp"
#include "ctnn/nn/loss.hpp"
#include "ctnn/nn/network.hpp"

namespace ctnn {


/// H·v of a network's loss on a batch of B samples (Net = ctnn::Network<T, ...>). Buffers (the
/// dual network, dual data) are allocated at construction; a call allocates nothing.
template <class Net, std::size_t B>
class NetworkHvp {
 public:
  using T = typename Net::scalar;
  using D = ad::Dual<T>;
  using DualNet = typename Net::template rebind<D>;
  static constexpr std::size_t num_params = Net::num_params;

  NetworkHvp() : dnet_(0, Init::zeros), x_(B * Net::inputs), y_(B * Net::outputs) {}

  /// loss(net(x), y) at net's parameters θ: writes Hv = ∇²θ loss · v (P values), and g = ∇θ loss
  /// when g is given; returns the loss. x is B x inputs, y B x outputs (row-major).
  template <class Loss>
  T operator()(const Net& net, const Loss& loss, const T* x, const T* y, const T* v, T* Hv, T* g = nullptr) {
    const auto th = net.params();
    auto p = dnet_.params();
    for (std::size_t i = 0; i < num_params; ++i) p[i] = D(th[i], v[i]);
    for (std::size_t i = 0; i < x_.size(); ++i) x_[i] = D(x[i]);
    for (std::size_t i = 0; i < y_.size(); ++i) y_[i] = D(y[i]);
    const D l = dnet_.template gradient<B>(loss, x_.data(), y_.data());
    const auto gr = dnet_.grads();
    for (std::size_t i = 0; i < num_params; ++i) Hv[i] = gr[i].d;
    if (g != nullptr)
      for (std::size_t i = 0; i < num_params; ++i) g[i] = gr[i].v;
    return l.v;
  }
  /// This product at a fixed point, as the callable nn/curvature.hpp takes: (v, Hv, g) -> loss.
  /// net, loss, x and y must outlive it.
  template <class Loss>
  auto at(const Net& net, const Loss& loss, const T* x, const T* y) {
    return [this, &net, &loss, x, y](const T* v, T* Hv, T* g) { return (*this)(net, loss, x, y, v, Hv, g); };
  }

 private:
  DualNet dnet_;
  AlignedBuffer<D> x_, y_;
};

/// H·v of any scalar objective f(θ), θ in R^n, given on duals: f(const Dual<T>* θ, Dual<T>* grad)
/// evaluates the objective and writes its gradient (e.g. by ad::value_and_gradient over
/// ad::variable leaves), returning the value.
template <class T, class F>
class ObjectiveHvp {
 public:
  using D = ad::Dual<T>;
  ObjectiveHvp(F f, std::size_t n) : f_(std::move(f)), th_(n), gr_(n) {}
  std::size_t size() const noexcept { return th_.size(); }
  /// At θ: Hv = ∇²f(θ) v, g = ∇f(θ) when given; returns f(θ).
  T operator()(const T* theta, const T* v, T* Hv, T* g = nullptr) {
    for (std::size_t i = 0; i < th_.size(); ++i) th_[i] = D(theta[i], v[i]);
    const D val = f_(th_.data(), gr_.data());
    for (std::size_t i = 0; i < gr_.size(); ++i) Hv[i] = gr_[i].d;
    if (g != nullptr)
      for (std::size_t i = 0; i < gr_.size(); ++i) g[i] = gr_[i].v;
    return val.v;
  }
  /// This product at θ (kept by pointer), as the callable nn/curvature.hpp takes: (v, Hv, g) -> f.
  auto at(const T* theta) {
    return [this, theta](const T* v, T* Hv, T* g) { return (*this)(theta, v, Hv, g); };
  }

 private:
  F f_;
  AlignedBuffer<D> th_, gr_;
};
template <class T, class F>
ObjectiveHvp<T, F> objective_hvp(F f, std::size_t n) {
  return ObjectiveHvp<T, F>(std::move(f), n);
}

/// The full Hessian of any HVP: column j = H e_j; H is n x n row-major (H[i n + j]).
/// hvp(v, Hv) computes H·v; the (v, Hv, g) callables of NetworkHvp::at and ObjectiveHvp::at are
/// taken too (g = nullptr). For small problems (n HVPs, n² storage).
template <class T, class Hvp>
void hessian_by_columns(std::size_t n, Hvp&& hvp, T* H) {
  std::vector<T> e(n, T(0)), col(n);
  for (std::size_t j = 0; j < n; ++j) {
    e[j] = T(1);
    if constexpr (std::is_invocable_v<Hvp&, const T*, T*>) hvp(e.data(), col.data());
    else hvp(e.data(), col.data(), static_cast<T*>(nullptr));
    e[j] = T(0);
    for (std::size_t i = 0; i < n; ++i) H[i * n + j] = col[i];
  }
}

/// The P x P Hessian of a network's loss on B samples (row-major, flat parameter order).
template <std::size_t B, class Net, class Loss>
void hessian(const Net& net, const Loss& loss, const typename Net::scalar* x, const typename Net::scalar* y,
             typename Net::scalar* H) {
  NetworkHvp<Net, B> h;
  hessian_by_columns<typename Net::scalar>(Net::num_params,
                                           [&](const auto* v, auto* Hv) { h(net, loss, x, y, v, Hv); }, H);
}

/// H·v once (allocates its dual network; reuse a NetworkHvp for repeated products).
template <std::size_t B, class Net, class Loss>
std::vector<typename Net::scalar> hvp(const Net& net, const Loss& loss, const typename Net::scalar* x,
                                      const typename Net::scalar* y, const typename Net::scalar* v) {
  NetworkHvp<Net, B> h;
  std::vector<typename Net::scalar> out(Net::num_params);
  h(net, loss, x, y, v, out.data());
  return out;
}

}  // namespace ctnn
