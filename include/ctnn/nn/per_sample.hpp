// ctnn/nn/per_sample.hpp: per-sample gradients of a network from ONE batch pass. For a batch of B
// samples, sample n's gradient ∇θ l_n of every parameter goes to row n of a caller-provided B x P
// buffer (P = Net::num_params, the flat layout of net.params()), without B separate passes and
// without allocating. l_n is sample n's loss alone: for a loss that is a mean over the batch (every
// data loss of nn/loss.hpp except PyTorch's class-weighted CE), L = 1/B Σ_n l_n, so the mean of
// the rows is net.gradient's result.
//
// Derived by the reverse mode, no per-layer code: the static tape runs its reverse sweep once over
// the batch seeded with B (ad::PerSampleMode), and the rules that sum a parameter's adjoint over
// the batch rows (Z = X Wᵀ + b: dW = Gᵀ X, db = Σ_r g_r) run their per-row forms (dW_n = g_n x_nᵀ,
// db_n = g_n). A term that reaches a parameter without going through a sample's row (an L2 penalty)
// is added to every sample in full (sample n's loss alone is l_n + penalty). For PyTorch's
// class-weighted CE (L = Σ w_n l_n / Σ w_n) the rows are B·w_n/Σw ∇l_n: each sample's share of B·L.
// Layer: nn (includes ad).
#pragma once
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "ctnn/ad/ad.hpp"

namespace ctnn {

namespace per_sample_detail {

// The buffers of a per-sample pass: what the network's slot leaves refer to. grad<Tag>() is
// sample 0's row; the tape reaches sample n's at + n·P.
template <class Net>
struct Binding {
  using T = typename Net::scalar;
  const T* params;
  T* grads;
  const T* x;
  T* dx;
  const T* y;
  T alpha = T(0);
  template <class Tag>
  CTNN_INLINE const T* value() const noexcept {
    if constexpr (std::is_same_v<Tag, ad::InputTag>) return x;
    else if constexpr (std::is_same_v<Tag, ad::TargetTag>) return y;
    else return params + Net::block_offset[Tag::index];
  }
  template <class Tag>
  CTNN_INLINE T* grad() const noexcept {
    if constexpr (std::is_same_v<Tag, ad::InputTag>) return dx;
    else return grads + Net::block_offset[Tag::index];
  }
};

template <std::size_t B, bool InputGrad, class Net, class Loss>
typename Net::scalar run(const Net& net, const Loss& loss_fn, const typename Net::scalar* x,
                         const typename Net::scalar* y, typename Net::scalar* out, typename Net::scalar* dx) {
  using T = typename Net::scalar;
  if constexpr (Net::shapes_ok) {
    auto prediction = net.template output_expression<B, InputGrad, true, false, true>(nullptr, nullptr);
    auto target = ad::Slot<T, ad::TargetTag, B, Net::outputs, false>{};
    auto e = [&] {
      if constexpr (std::is_invocable_v<const Loss&, decltype(prediction), decltype(target)>)
        return loss_fn(std::move(prediction), target);
      else
        return loss_fn(std::move(prediction), target, net.template params_view<true, false, true>());
    }();
    const Binding<Net> bind{net.params().data(), out, x, dx, y};
    return ad::StaticTape<decltype(e), Binding<Net>>::template per_sample_gradient<B, Net::num_params>(e, bind);
  } else {
    return T{};
  }
}

}  // namespace per_sample_detail

/// Per-sample gradients of loss(net(x), y) over a batch of B samples (x: B x inputs, y: B x
/// outputs, one sample per row) from one forward and one reverse sweep: out[n·P + i] = ∂l_n/∂θ_i
/// (P = Net::num_params, net.params()'s layout). Returns the batch loss (what net.gradient returns).
/// net's parameters and grads() are not touched. Allocation-free (the workspace is on the stack or
/// a per-thread buffer, as for net.gradient).
template <std::size_t B, class Net, class Loss>
typename Net::scalar per_sample_gradients(const Net& net, const Loss& loss, const typename Net::scalar* x,
                                          const typename Net::scalar* y, typename Net::scalar* out) {
  return per_sample_detail::run<B, false>(net, loss, x, y, out, nullptr);
}
/// The same, also writing ∂l_n/∂x_n (row n of dx, B x inputs).
template <std::size_t B, class Net, class Loss>
typename Net::scalar per_sample_gradients(const Net& net, const Loss& loss, const typename Net::scalar* x,
                                          const typename Net::scalar* y, typename Net::scalar* out,
                                          typename Net::scalar* dx) {
  return per_sample_detail::run<B, true>(net, loss, x, y, out, dx);
}
/// Span form: checks that out holds B·P values.
template <std::size_t B, class Net, class Loss>
typename Net::scalar per_sample_gradients(const Net& net, const Loss& loss, std::span<const typename Net::scalar> x,
                                          std::span<const typename Net::scalar> y,
                                          std::span<typename Net::scalar> out) {
  auto fail = [](const char* what, std::size_t got, std::size_t want) {
    throw std::invalid_argument(std::string("ctnn::per_sample_gradients: ") + what + " has " + std::to_string(got) +
                                " values, expected " + std::to_string(want));
  };
  if (x.size() != B * Net::inputs) fail("x", x.size(), B * Net::inputs);
  if (y.size() != B * Net::outputs) fail("y", y.size(), B * Net::outputs);
  if (out.size() != B * Net::num_params) fail("out (B x num_params)", out.size(), B * Net::num_params);
  return per_sample_gradients<B>(net, loss, x.data(), y.data(), out.data());
}

}  // namespace ctnn
