// ctnn/nn/gradient_diagnostics.hpp: what a student of vanishing/exploding gradients looks at, per
// layer of a network (a layer = one Dense and the parameterless layers after it, up to the next
// Dense):
//  * layer_gradient_norms(net.grads()): ‖∂J/∂W(l)‖_F and ‖∂J/∂b(l)‖ for every layer, and their
//    ratios across depth (first layer / last layer: ≪ 1 is the vanishing-gradient picture);
//  * LayerJacobians<Net>: the input-output Jacobian of layer l at one sample, ∂a(l)/∂a(l−1) =
//    diag(g′(z(l))) W(l) (Out x In), derived by the reverse mode row by row (nn/jacobian.hpp on the
//    layer alone, with a(l−1) from the layers before it). Its singular values (how much the layer
//    stretches or shrinks a perturbation) need an SVD: ctnn/optim/spectrum.hpp (Eigen).
// Nothing here differentiates by hand: the gradients are net.gradient's, the Jacobians the tape's.
// Layer: nn (includes ad, core).
#pragma once
#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include "ctnn/core/aligned.hpp"
#include "ctnn/nn/jacobian.hpp"
#include "ctnn/nn/layers.hpp"
#include "ctnn/nn/network.hpp"

namespace ctnn {

namespace diagnostics_detail {

template <class... Ls>
constexpr auto has_params(meta::TypeList<Ls...>) {
  return std::array<bool, sizeof...(Ls)>{nn::HasParameters<Ls>...};
}
template <class T, class Layers, std::size_t Begin, class Seq>
struct slice;
template <class T, class Layers, std::size_t Begin, std::size_t... I>
struct slice<T, Layers, Begin, std::index_sequence<I...>> {
  using type = Network<T, meta::at_t<Begin + I, Layers>...>;
};

}  // namespace diagnostics_detail

/// The layers of Net in the diagnostics' sense: one per parameterised layer (a Dense), with the
/// parameterless layers that follow it.
template <class Net>
struct DenseLayers {
  static constexpr auto has_params = diagnostics_detail::has_params(typename Net::layers{});
  static constexpr std::size_t count = [] {
    std::size_t c = 0;
    for (bool b : has_params) c += b ? 1 : 0;
    return c;
  }();
  /// begin[l]: the position of layer l's Dense in Net's layer list; end[l]: one past its last
  /// parameterless follower.
  static constexpr std::array<std::size_t, count> begin = [] {
    std::array<std::size_t, count> b{};
    std::size_t at = 0;
    for (std::size_t i = 0; i < has_params.size(); ++i)
      if (has_params[i]) b[at++] = i;
    return b;
  }();
  static constexpr std::array<std::size_t, count> end = [] {
    std::array<std::size_t, count> e{};
    for (std::size_t l = 0; l < count; ++l) e[l] = l + 1 < count ? begin[l + 1] : has_params.size();
    return e;
  }();
  /// Layer l alone as a network (its Dense and activation), same scalar type.
  template <std::size_t L>
  using network = typename diagnostics_detail::slice<typename Net::scalar, typename Net::layers, begin[L],
                                                     std::make_index_sequence<end[L] - begin[L]>>::type;
  /// The flat index range of layer l's parameters in Net.
  static constexpr std::size_t param_begin(std::size_t l) { return Net::block_offset[Net::first_block(begin[l])]; }
};

/// Per-layer gradient norms and their ratios across depth (Dense layers 0 … L−1: weight[l] is the
/// (l+1)-th Dense layer's, W(l+1) in nn::equations' numbering). A layer index out of range throws
/// std::out_of_range naming it and L.
template <std::size_t L>
struct GradientNorms {
  std::array<double, L> weight{};  ///< ‖∂J/∂W(l)‖_F
  std::array<double, L> bias{};    ///< ‖∂J/∂b(l)‖₂
  /// ‖∂J/∂W(l)‖ / ‖∂J/∂W(L−1)‖ (the last layer's), l < L: the vanishing-gradient picture across depth.
  double weight_ratio_to_last(std::size_t l) const {
    if (l >= L) out_of_range("weight_ratio_to_last", l, "l < " + std::to_string(L));
    return weight[l] / weight[L - 1];
  }
  /// ‖∂J/∂W(l)‖ / ‖∂J/∂W(l+1)‖, l < L − 1 (the last layer has no next): how much one layer shrinks
  /// (< 1) or grows (> 1) the gradient.
  double weight_ratio_to_next(std::size_t l) const {
    if (L < 2 || l >= L - 1)  // not l + 1 >= L: l = SIZE_MAX would wrap
      out_of_range("weight_ratio_to_next", l,
                   L < 2 ? std::string("no layer has a next one") : "l < " + std::to_string(L - 1));
    return weight[l] / weight[l + 1];
  }
  /// First layer / last layer (weight_ratio_to_last(0)).
  double first_to_last() const { return weight_ratio_to_last(0); }

 private:
  [[noreturn]] static void out_of_range(const char* what, std::size_t l, const std::string& allowed) {
    throw std::out_of_range("ctnn::GradientNorms::" + std::string(what) + ": layer l = " + std::to_string(l) +
                            ", but the network has " + std::to_string(L) + " layer" + (L == 1 ? "" : "s") +
                            " (" + allowed + ")");
  }
};

/// The per-layer norms of a gradient in Net's flat layout (e.g. net.grads() after net.gradient).
template <class Net>
GradientNorms<DenseLayers<Net>::count> layer_gradient_norms(std::span<const typename Net::scalar> grad) {
  if (grad.size() != Net::num_params)
    throw std::invalid_argument("ctnn::layer_gradient_norms: the gradient has " + std::to_string(grad.size()) +
                                " values, the network " + std::to_string(Net::num_params));
  using D = DenseLayers<Net>;
  GradientNorms<D::count> r;
  auto norm = [&](std::size_t block) {
    double s = 0;
    for (std::size_t i = Net::block_offset[block]; i < Net::block_offset[block + 1]; ++i)
      s += double(grad[i]) * double(grad[i]);
    return std::sqrt(s);
  };
  for (std::size_t l = 0; l < D::count; ++l) {
    const std::size_t k = Net::first_block(D::begin[l]);
    r.weight[l] = norm(k);
    const std::size_t blocks = (l + 1 < D::count ? Net::first_block(D::begin[l + 1]) : Net::num_blocks) - k;
    r.bias[l] = blocks >= 2 ? norm(k + 1) : 0.0;
  }
  return r;
}
/// The same for the network's last gradient (net.grads()).
template <class Net>
auto layer_gradient_norms(const Net& net) {
  return layer_gradient_norms<Net>(net.grads());
}

/// Input-output Jacobians of the layers of Net at one sample: jacobian<l>(net, x, J) writes
/// J[k·In + i] = ∂a(l)_k / ∂a(l−1)_i (a(−1) = x), i.e. diag(g′(z(l))) W(l) for a Dense layer with
/// an element-wise activation. Reverse mode, one sweep per output row (ctnn::Jacobian on the
/// layer alone). Buffers allocated at construction.
template <class Net>
class LayerJacobians {
  using D = DenseLayers<Net>;
  template <std::size_t... I>
  static auto make_nets(std::index_sequence<I...>) -> std::tuple<typename D::template network<I>...>;

 public:
  using T = typename Net::scalar;
  static constexpr std::size_t layers = D::count;
  using Nets = decltype(make_nets(std::make_index_sequence<layers>{}));
  /// in(l), out(l): the Jacobian of layer l is out(l) x in(l).
  static constexpr std::size_t in(std::size_t l) { return Net::widths[D::begin[l]]; }
  static constexpr std::size_t out(std::size_t l) { return Net::widths[D::end[l]]; }

  LayerJacobians() : nets_(), a_(2 * max_width()) {}

  /// Layer L's Jacobian at sample x (Net::inputs values) into J (out(L) x in(L), row-major).
  template <std::size_t L>
  void jacobian(const Net& net, const T* x, T* J) {
    static_assert(L < layers);
    const T* a = input_of<L>(net, x);
    auto& layer = std::get<L>(nets_);
    load<L>(net);
    Jacobian<std::remove_reference_t<decltype(layer)>> jac;
    jac.input(layer, a, J, JacobianMode::reverse);
  }
  /// The same with the layer chosen at run time.
  void jacobian(std::size_t l, const Net& net, const T* x, T* J) {
    if (l >= layers)
      throw std::out_of_range("ctnn::LayerJacobians: layer " + std::to_string(l) + " of " + std::to_string(layers));
    [&]<std::size_t... I>(std::index_sequence<I...>) { ((I == l ? jacobian<I>(net, x, J) : void()), ...); }
    (std::make_index_sequence<layers>{});
  }

 private:
  static constexpr std::size_t max_width() {
    std::size_t m = 0;
    for (std::size_t w : Net::widths) m = m > w ? m : w;
    return m;
  }
  template <std::size_t L>
  void load(const Net& net) {
    auto& layer = std::get<L>(nets_);
    const auto p = net.params();
    auto q = layer.params();
    for (std::size_t i = 0; i < q.size(); ++i) q[i] = p[D::param_begin(L) + i];
  }
  // a(L−1) at sample x: the layers before L, one after the other, ping-ponging between two rows.
  template <std::size_t L>
  const T* input_of(const Net& net, const T* x) {
    const T* a = x;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((load<I>(net), std::get<I>(nets_).template forward<1>(a, a_.data() + (I % 2) * max_width()),
        a = a_.data() + (I % 2) * max_width()),
       ...);
    }(std::make_index_sequence<L>{});
    return a;
  }

  Nets nets_;
  AlignedBuffer<T> a_;
};

}  // namespace ctnn
