// ctnn/nn/runtime_hvp.hpp: Hessian-vector products through the runtime tape, by the same
// forward-over-reverse as nn/hvp.hpp: a RuntimeNetwork<Dual<T>> twin (same sizes, activations,
// slope) records the same graph on dual numbers; with parameters θ + ε·v, one gradient pass gives
// the gradient (values) and H·v (tangents). The runtime tape's rules are the static tape's
// (ad/ops, ad/binary, ad/reduce lanes), so nothing is rewritten. The twin follows the network of
// each call: given another topology than the last (sizes, activations, slope), it is rebuilt.
// Not in the umbrella (the runtime network needs nlohmann-json).
// Layer: nn (includes ad, core).
#pragma once
#include <cstddef>
#include <vector>

#include "ctnn/ad/dual.hpp"
#include "ctnn/nn/runtime_network.hpp"

namespace ctnn {

template <class T>
class RuntimeHvp {
 public:
  using D = ad::Dual<T>;
  /// A dual twin of net's topology (parameters are copied at each call).
  explicit RuntimeHvp(const RuntimeNetwork<T>& net) : dnet_(twin(net)) {}

  /// loss(net(x), y) on a batch at net's θ: Hv = ∇²θ loss · v, g = ∇θ loss when given; returns
  /// the loss. x is batch x inputs, y batch x outputs, v, Hv and g net.num_params(). Buffers grow
  /// to the largest batch seen; a net of another topology than the last call's rebuilds the twin.
  T operator()(const RuntimeNetwork<T>& net, const RuntimeLoss& loss, std::size_t batch, const T* x, const T* y,
               const T* v, T* Hv, T* g = nullptr) {
    if (dnet_.layer_sizes() != net.layer_sizes() || dnet_.activations() != net.activations() ||
        dnet_.leaky_slope() != net.leaky_slope())
      dnet_ = twin(net);
    const auto th = net.params();
    auto p = dnet_.params();
    for (std::size_t i = 0; i < th.size(); ++i) p[i] = D(th[i], v[i]);
    x_.resize(batch * net.inputs());
    y_.resize(batch * net.outputs());
    for (std::size_t i = 0; i < x_.size(); ++i) x_[i] = D(x[i]);
    for (std::size_t i = 0; i < y_.size(); ++i) y_[i] = D(y[i]);
    const D l = dnet_.gradient(loss, batch, x_.data(), y_.data());
    const auto gr = dnet_.grads();
    for (std::size_t i = 0; i < gr.size(); ++i) Hv[i] = gr[i].d;
    if (g != nullptr)
      for (std::size_t i = 0; i < gr.size(); ++i) g[i] = gr[i].v;
    return l.v;
  }

 private:
  static RuntimeNetwork<D> twin(const RuntimeNetwork<T>& net) {
    return RuntimeNetwork<D>::with_activations(net.layer_sizes(), net.activations(), net.leaky_slope(), 0,
                                               Init::zeros);
  }
  RuntimeNetwork<D> dnet_;
  std::vector<D> x_, y_;
};

}  // namespace ctnn
