// ctnn/nn/network.hpp: a network is a flat type list of layers. Network<T, Layers...> infers the
// widths at compile time, checks each layer position (a mismatch names the position, the layer
// and both sizes), lays out every parameter block in one aligned flat buffer (W row-major then b,
// layer by layer: PyTorch's and the reference's flat order), and builds the network's expression
// by folding its layers over the input leaf. forward() runs the forward sweep; gradient() runs
// loss(output, target, params) forward and backward and leaves dLoss/dθ in grads(), same layout.
// Layer: nn (includes ad, core).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <boost/hana/flatten.hpp>
#include <boost/hana/fold_left.hpp>
#include <boost/hana/integral_constant.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <boost/hana/unpack.hpp>

#include "ctnn/ad/ad.hpp"
#include "ctnn/core/aligned.hpp"
#include "ctnn/core/diagnostics.hpp"
#include "ctnn/kernel/map.hpp"
#include "ctnn/nn/init.hpp"
#include "ctnn/nn/layers.hpp"

namespace ctnn {

namespace hana = boost::hana;

/// The leaves a loss sees for the parameters: `weights` holds the weight matrices (what an L2
/// penalty covers; biases excluded), `all` every block.
template <class Weights, class All>
struct ParamsView {
  Weights weights;
  All all;
};

/// What gradient() returns: the loss value and a view of dLoss/dθ (the network's grads()).
template <class T>
struct GradientResult {
  T loss;
  std::span<const T> grad;
};

namespace nn::detail {

template <class L>
constexpr std::size_t layer_in() {
  if constexpr (HasParameters<L>) return L::in;
  else return 0;
}
template <class L>
constexpr std::size_t layer_out() {
  if constexpr (HasParameters<L>) return L::out;
  else return 0;
}
template <class L>
constexpr std::size_t layer_blocks() {
  if constexpr (HasParameters<L>) return L::blocks::size;
  else return 0;
}
template <class Blocks>
struct block_sizes;
template <class... Bs>
struct block_sizes<meta::TypeList<Bs...>> {
  static constexpr std::array<std::size_t, sizeof...(Bs)> value{Bs::size...};
};

template <class... Layers>
struct Topology {
  static constexpr std::size_t L = sizeof...(Layers);
  static_assert(diagnostic::empty_network<L>::value || true);
  using layers = meta::TypeList<Layers...>;
  using first = meta::at_t<0, layers>;
  static constexpr bool first_ok = diagnostic::first_layer_needs_input_size<HasParameters<first>, first>::value;
  static constexpr std::array<bool, L> has_params{HasParameters<Layers>...};
  static constexpr std::array<std::size_t, L> in{layer_in<Layers>()...};
  static constexpr std::array<std::size_t, L> out{layer_out<Layers>()...};
  static constexpr std::array<std::size_t, L> nblocks{layer_blocks<Layers>()...};
  /// widths[0] is the input width, widths[i + 1] what layer i outputs.
  static constexpr std::array<std::size_t, L + 1> widths = [] {
    std::array<std::size_t, L + 1> w{};
    w[0] = 1;  // the first sized layer's input (a misplaced activation first is reported, not fatal)
    for (std::size_t i = L; i-- > 0;)
      if (has_params[i]) w[0] = in[i];
    for (std::size_t i = 0; i < L; ++i) w[i + 1] = has_params[i] ? out[i] : w[i];
    return w;
  }();
  static constexpr std::size_t num_blocks = (std::size_t{0} + ... + layer_blocks<Layers>());
  static constexpr std::array<std::size_t, L> first_block = [] {
    std::array<std::size_t, L> f{};
    std::size_t at = 0;
    for (std::size_t i = 0; i < L; ++i) {
      f[i] = at;
      at += nblocks[i];
    }
    return f;
  }();
  template <class Layer>
  static constexpr void add_blocks(std::array<std::size_t, num_blocks + 1>& sizes, std::size_t& at) {
    if constexpr (HasParameters<Layer>)
      for (std::size_t s : block_sizes<typename Layer::blocks>::value) sizes[at++] = s;
  }
  /// block_offset[k]: where block k starts in the flat buffer; block_offset[num_blocks] = total.
  static constexpr std::array<std::size_t, num_blocks + 1> block_offset = [] {
    std::array<std::size_t, num_blocks + 1> sizes{};
    std::size_t at = 0;
    (add_blocks<Layers>(sizes, at), ...);
    std::array<std::size_t, num_blocks + 1> off{};
    for (std::size_t k = 0; k < num_blocks; ++k) off[k + 1] = off[k] + sizes[k];
    return off;
  }();

  template <std::size_t... I>
  static constexpr bool check(std::index_sequence<I...>) {
    return (diagnostic::layer_input_size_mismatch<I + 1, meta::at_t<I, layers>, widths[I],
                                                  (has_params[I] ? in[I] : widths[I])>::value &&
            ...);
  }
  static constexpr bool shapes_ok = first_ok && check(std::make_index_sequence<L>{});
};

}  // namespace nn::detail

template <class T, class... Layers>
class Network {
  using Topo = nn::detail::Topology<Layers...>;

 public:
  using scalar = T;
  using layers = meta::TypeList<Layers...>;
  static constexpr auto layer_types = hana::tuple_t<Layers...>;
  static constexpr std::size_t num_layers = sizeof...(Layers);
  static constexpr std::size_t inputs = Topo::widths[0];
  static constexpr std::size_t outputs = Topo::widths[num_layers];
  static constexpr std::size_t num_params = Topo::block_offset[Topo::num_blocks];
  static constexpr std::size_t num_blocks = Topo::num_blocks;
  static constexpr auto widths = Topo::widths;
  static constexpr auto block_offset = Topo::block_offset;
  static constexpr bool shapes_ok = Topo::shapes_ok;
  static_assert(shapes_ok || true);  // a topology error is reported where the network is declared

  template <class U>
  using rebind = Network<U, Layers...>;

  Network() : params_(num_params), grads_(num_params) { initialize(0); }
  explicit Network(std::uint64_t seed, Init how = Init::automatic) : params_(num_params), grads_(num_params) {
    initialize(seed, how);
  }

  /// Re-draws every weight block (fan-in/fan-out of its layer) and zeroes the biases.
  void initialize(std::uint64_t seed, Init how = Init::automatic) {
    Random rng(seed);
    std::fill(params_.begin(), params_.end(), T(0));
    [&]<std::size_t... I>(std::index_sequence<I...>) { (init_layer<I>(rng, how), ...); }
    (std::make_index_sequence<num_layers>{});
  }

  std::span<T> params() noexcept { return params_.span(); }
  std::span<const T> params() const noexcept { return params_.span(); }
  std::span<const T> grads() const noexcept { return grads_.span(); }
  std::span<T> grads_mutable() noexcept { return grads_.span(); }
  /// Parameter block k (layer l's W is block first_block(l), its b the next) as a flat span.
  template <std::size_t K>
  std::span<T> block() noexcept {
    return {params_.data() + block_offset[K], block_offset[K + 1] - block_offset[K]};
  }
  template <std::size_t K>
  std::span<const T> block() const noexcept {
    return {params_.data() + block_offset[K], block_offset[K + 1] - block_offset[K]};
  }
  static constexpr std::size_t first_block(std::size_t layer) { return Topo::first_block[layer]; }

  // ---- forward ----------------------------------------------------------------------------
  /// Batch forward: B samples, one per row.
  template <std::size_t B>
  Matrix<T, B, outputs> forward(const Matrix<T, B, inputs>& x) const noexcept {
    Matrix<T, B, outputs> y;
    forward<B>(x.data(), y.data());
    return y;
  }
  /// A batch whose width is not the network's input size: one readable error.
  template <std::size_t B, std::size_t C>
    requires(C != inputs)
  Matrix<T, B, outputs> forward(const Matrix<T, B, C>&) const noexcept {
    static_assert(diagnostic::input_size_mismatch<C, inputs>::value || true);
    return {};
  }
  template <std::size_t C>
    requires(C != inputs)
  Matrix<T, 1, outputs> forward(const std::array<T, C>&) const noexcept {
    static_assert(diagnostic::input_size_mismatch<C, inputs>::value || true);
    return {};
  }
  /// One sample.
  Matrix<T, 1, outputs> forward(const std::array<T, inputs>& x) const noexcept {
    Matrix<T, 1, outputs> y;
    forward<1>(x.data(), y.data());
    return y;
  }
  /// Any number of rows known at run time: x holds rows x inputs values (row-major), y receives
  /// rows x outputs. Runs blocks of 64 rows, then of 8, then single rows (per row, a 784-128-10 net
  /// takes ~3x longer alone than in a block of 64; blocks of 8 come within ~10% of it, so at most 7
  /// rows run alone). Allocation-free. Throws std::invalid_argument if x is not whole rows or y has
  /// another size (nothing is written then).
  void forward(std::span<const T> x, std::span<T> y) const {
    if (x.size() % inputs != 0)
      throw std::invalid_argument("ctnn::Network::forward: x holds " + std::to_string(x.size()) +
                                  " values, not a whole number of rows of " + std::to_string(inputs) + " inputs");
    const std::size_t rows = x.size() / inputs;
    if (y.size() != rows * outputs)
      throw std::invalid_argument("ctnn::Network::forward: y holds " + std::to_string(y.size()) + " values; " +
                                  std::to_string(rows) + " rows need " + std::to_string(rows * outputs) + " (" +
                                  std::to_string(outputs) + " outputs each)");
    std::size_t r = 0;
    for (; r + 64 <= rows; r += 64) forward<64>(x.data() + r * inputs, y.data() + r * outputs);
    for (; r + 8 <= rows; r += 8) forward<8>(x.data() + r * inputs, y.data() + r * outputs);
    for (; r < rows; ++r) forward<1>(x.data() + r * inputs, y.data() + r * outputs);
  }
  /// Batch forward over raw row-major storage: x is B x inputs, y is B x outputs.
  /// A small net's forward (inline_forward) is inlined into the caller: the 4-5-1 net's takes ~40 ns
  /// and a call costs it ~2.5 ns (the call, the output's store and reload, and setting up a dozen
  /// constants that a caller's loop otherwise keeps in registers). A larger one is one function.
  template <std::size_t B>
  CTNN_INLINE void forward(const T* x, T* y) const noexcept {
    if constexpr (inline_forward<B>) forward_pass<B>(x, y);
    else forward_call<B>(x, y);
  }
  template <std::size_t B>
  static constexpr bool inline_forward = B * num_params <= 1024;

  // ---- gradient ---------------------------------------------------------------------------
  /// loss(output, target, params) — or loss(output, target) — on a batch of B samples: returns
  /// the loss and dLoss/dθ (grads(), the parameters' layout).
  template <std::size_t B, class Loss>
  GradientResult<T> gradient(const Loss& loss, const Matrix<T, B, inputs>& x, const Matrix<T, B, outputs>& y) {
    return {gradient<B>(loss, x.data(), y.data()), grads()};
  }
  template <std::size_t B, class Loss, std::size_t C, std::size_t K>
    requires(C != inputs || K != outputs)
  GradientResult<T> gradient(const Loss&, const Matrix<T, B, C>&, const Matrix<T, B, K>&) {
    static_assert(diagnostic::input_size_mismatch<C, inputs>::value || true);
    static_assert(diagnostic::target_size_mismatch<K, outputs>::value || true);
    return {T{}, grads()};
  }
  /// The same, also writing dLoss/dx (B x inputs) to dx.
  template <std::size_t B, class Loss>
  GradientResult<T> gradient(const Loss& loss, const Matrix<T, B, inputs>& x, const Matrix<T, B, outputs>& y,
                             Matrix<T, B, inputs>& dx) {
    return {gradient<B>(loss, x.data(), y.data(), dx.data()), grads()};
  }
  /// Raw form: x is B x inputs, y is B x outputs (targets; one-hot rows for class labels).
  template <std::size_t B, class Loss>
  T gradient(const Loss& loss, const T* x, const T* y) {
    return run_gradient<B, false>(loss, x, y, nullptr);
  }
  template <std::size_t B, class Loss>
  T gradient(const Loss& loss, const T* x, const T* y, T* dx) {
    return run_gradient<B, true>(loss, x, y, dx);
  }
  /// The gradient pass that also writes the network's output (B x outputs) to `output`, e.g. for
  /// training metrics, without a second forward pass.
  template <std::size_t B, class Loss>
  T gradient_and_output(const Loss& loss_fn, const T* x, const T* y, T* output) {
    if constexpr (shapes_ok) {
      auto out = ad::tap(output_expression<B, false, true, false, true>(nullptr, nullptr), output);
      auto target = ad::Slot<T, ad::TargetTag, B, outputs, false>{};
      if constexpr (std::is_invocable_v<const Loss&, decltype(out), decltype(target)>)
        return ad::value_and_gradient(loss_fn(std::move(out), target), binding(x, nullptr, y));
      else
        return ad::value_and_gradient(loss_fn(std::move(out), target, params_view<true, false, true>()),
                                      binding(x, nullptr, y));
    } else {
      return T{};
    }
  }
  /// One plain SGD step, θ −= lr·∇θ loss, fused into the reverse sweep: each parameter block is
  /// updated by the kernel that computes its gradient, so no gradient is stored and read back
  /// (grads() is not written). Falls back to gradient() and an update when a parameter is used
  /// more than once (e.g. an L2 term). Returns the loss before the step.
  template <std::size_t B, class Loss>
  T sgd_step(const Loss& loss_fn, const T* x, const T* y, T lr) {
    if constexpr (shapes_ok) {
      auto e = loss_expression<B, false, true, true>(loss_fn);
      if constexpr (ad::StaticTape<decltype(e), Binding>::fused_step_ok) {
        return ad::value_and_gradient(e, binding(x, nullptr, y, true, -lr));
      } else {
        const T loss = gradient<B>(loss_fn, x, y);
        const T* g = grads_.data();
        kernel::map<num_params>([lr](auto p, auto gv) { return p - decltype(p)(lr) * gv; }, params_.data(),
                                params_.data(), g);
        return loss;
      }
    } else {
      return T{};
    }
  }
  /// The loss alone (forward sweep only).
  template <std::size_t B, class Loss>
  T loss(const Loss& loss_fn, const T* x, const T* y) const {
    if constexpr (shapes_ok) {
      T v{};
      ad::evaluate(loss_expression<B, false, false>(loss_fn), &v, binding(x, nullptr, y));
      return v;
    } else {
      return T{};
    }
  }

  /// The network's output expression on a B-sample input leaf (for users composing their own
  /// expressions, e.g. Jacobians or custom objectives).
  template <std::size_t B, bool InputGrad, bool ParamGrad, bool Sink = false, bool Slotted = false>
  auto output_expression(const T* x, T* dx, T alpha = T(0)) const {
    auto leaf = [&] {
      if constexpr (Slotted) return ad::Slot<T, ad::InputTag, B, inputs, InputGrad>{};
      else return ad::Leaf<T, ad::InputTag, B, inputs, InputGrad>{{}, x, dx};
    }();
    return hana::fold_left(layer_indices(), leaf, [this, alpha](auto e, auto i) {
      return this->apply_layer<decltype(i)::value, ParamGrad, Sink, Slotted>(e, alpha);
    });
  }
  template <bool ParamGrad, bool Sink = false, bool Slotted = false>
  auto params_view(T alpha = T(0)) const {
    return ParamsView<decltype(weight_leaves<ParamGrad, Sink, Slotted>(alpha)),
                      decltype(all_leaves<ParamGrad, Sink, Slotted>(alpha))>{
        weight_leaves<ParamGrad, Sink, Slotted>(alpha), all_leaves<ParamGrad, Sink, Slotted>(alpha)};
  }

 private:
  static constexpr auto layer_indices() {
    return [&]<std::size_t... I>(std::index_sequence<I...>) { return hana::make_tuple(hana::size_c<I>...); }
    (std::make_index_sequence<num_layers>{});
  }

  template <std::size_t I>
  void init_layer(Random& rng, Init how) {
    using Layer = meta::at_t<I, layers>;
    if constexpr (nn::HasParameters<Layer>) {
      Init h = how;
      if (h == Init::automatic) {
        using Next = meta::at_t<(I + 1 < num_layers ? I + 1 : I), layers>;
        constexpr bool relu_next = I + 1 < num_layers && (std::is_same_v<Next, ReLU> || std::is_same_v<Next, LeakyReLU>);
        h = relu_next ? Init::he_normal : Init::xavier_uniform;
      }
      constexpr std::size_t k = Topo::first_block[I];
      nn::init_weights(params_.data() + block_offset[k], block_offset[k + 1] - block_offset[k], Layer::in, Layer::out,
                       h, rng);
    }
  }

  template <std::size_t Blk, class Shape, bool ParamGrad, bool Sink = false, bool Slotted = false>
  CTNN_INLINE auto param_leaf(T alpha = T(0)) const {
    if constexpr (Slotted) {
      return ad::Slot<T, ad::ParamTag<Blk>, Shape::rows, Shape::cols, ParamGrad, Sink>{};
    } else if constexpr (Sink) {
      T* p = const_cast<T*>(params_.data()) + block_offset[Blk];
      return ad::SinkLeaf<T, ad::ParamTag<Blk>, Shape::rows, Shape::cols>{{{}, p, p}, alpha};
    } else {
      return ad::Leaf<T, ad::ParamTag<Blk>, Shape::rows, Shape::cols, ParamGrad>{
          {}, params_.data() + block_offset[Blk], ParamGrad ? const_cast<T*>(grads_.data()) + block_offset[Blk] : nullptr};
    }
  }
  template <std::size_t I, bool ParamGrad, bool Sink, bool Slotted, class E>
  CTNN_INLINE auto apply_layer(E e, T alpha) const {
    using Layer = meta::at_t<I, layers>;
    if constexpr (nn::HasParameters<Layer>) {
      return [&]<std::size_t... K>(std::index_sequence<K...>) {
        return Layer::apply(
            e, param_leaf<Topo::first_block[I] + K, meta::at_t<K, typename Layer::blocks>, ParamGrad, Sink, Slotted>(
                   alpha)...);
      }(std::make_index_sequence<Layer::blocks::size>{});
    } else {
      return Layer::apply(e);
    }
  }
  template <bool ParamGrad, bool Sink, bool Slotted>
  auto weight_leaves(T alpha) const {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return hana::flatten(hana::make_tuple(weight_leaf_of<I, ParamGrad, Sink, Slotted>(alpha)...));
    }(std::make_index_sequence<num_layers>{});
  }
  template <std::size_t I, bool ParamGrad, bool Sink, bool Slotted>
  auto weight_leaf_of(T alpha) const {
    using Layer = meta::at_t<I, layers>;
    if constexpr (nn::HasParameters<Layer>) {
      return hana::make_tuple(
          param_leaf<Topo::first_block[I], meta::at_t<0, typename Layer::blocks>, ParamGrad, Sink, Slotted>(alpha));
    } else {
      return hana::make_tuple();
    }
  }
  template <bool ParamGrad, bool Sink, bool Slotted>
  auto all_leaves(T alpha) const {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return hana::flatten(hana::make_tuple(layer_leaves<I, ParamGrad, Sink, Slotted>(alpha)...));
    }(std::make_index_sequence<num_layers>{});
  }
  template <std::size_t I, bool ParamGrad, bool Sink, bool Slotted>
  auto layer_leaves(T alpha) const {
    using Layer = meta::at_t<I, layers>;
    if constexpr (nn::HasParameters<Layer>) {
      return [&]<std::size_t... K>(std::index_sequence<K...>) {
        return hana::make_tuple(
            param_leaf<Topo::first_block[I] + K, meta::at_t<K, typename Layer::blocks>, ParamGrad, Sink, Slotted>(
                alpha)...);
      }(std::make_index_sequence<Layer::blocks::size>{});
    } else {
      return hana::make_tuple();
    }
  }

  // The pointers of a pass: what the network's slot leaves (ad::Slot) refer to.
  struct Binding {
    const T* params;
    T* grads;  // the parameters themselves in a fused step (sink leaves)
    const T* x;
    T* dx;
    const T* y;
    T alpha;
    template <class Tag>
    CTNN_INLINE const T* value() const noexcept {
      if constexpr (std::is_same_v<Tag, ad::InputTag>) return x;
      else if constexpr (std::is_same_v<Tag, ad::TargetTag>) return y;
      else return params + block_offset[Tag::index];
    }
    template <class Tag>
    CTNN_INLINE T* grad() const noexcept {
      if constexpr (std::is_same_v<Tag, ad::InputTag>) return dx;
      else return grads + block_offset[Tag::index];
    }
  };
  Binding binding(const T* x, T* dx, const T* y, bool sink = false, T alpha = T(0)) const noexcept {
    T* p = const_cast<T*>(params_.data());
    return {p, sink ? p : const_cast<T*>(grads_.data()), x, dx, y, alpha};
  }

  // The loss over slot leaves: the expression object holds no pointers (they come from the
  // binding), so building it copies next to nothing.
  template <std::size_t B, bool InputGrad, bool ParamGrad, bool Sink = false, class Loss>
  CTNN_INLINE auto loss_expression(const Loss& loss_fn) const {
    auto out = output_expression<B, InputGrad, ParamGrad, Sink, true>(nullptr, nullptr);
    auto target = ad::Slot<T, ad::TargetTag, B, outputs, false>{};
    if constexpr (std::is_invocable_v<const Loss&, decltype(out), decltype(target)>)
      return loss_fn(std::move(out), target);  // the parameter view is built only for losses that take it
    else
      return loss_fn(std::move(out), target, params_view<ParamGrad, Sink, true>());
  }

  template <std::size_t B>
  CTNN_INLINE void forward_pass(const T* x, T* y) const noexcept {
    if constexpr (shapes_ok)
      ad::evaluate(output_expression<B, false, false, false, true>(nullptr, nullptr), y, binding(x, nullptr, nullptr));
  }
  template <std::size_t B>
  void forward_call(const T* x, T* y) const noexcept { forward_pass<B>(x, y); }

  template <std::size_t B, bool InputGrad, class Loss>
  T run_gradient(const Loss& loss_fn, const T* x, const T* y, T* dx) {
    if constexpr (shapes_ok) {
      return ad::value_and_gradient(loss_expression<B, InputGrad, true>(loss_fn), binding(x, dx, y));
    } else {
      return T{};
    }
  }

  AlignedBuffer<T> params_;
  AlignedBuffer<T> grads_;
};

/// The usual spelling: float parameters. Network<double, Layers...> for double.
template <class... Layers>
using Sequential = Network<float, Layers...>;

}  // namespace ctnn
