// ctnn/nn/equations.hpp: a network's backprop equations, printed. Builds the same loss expression
// a gradient pass runs (network output on slot leaves, target, parameter view), names its nodes
// the textbook way — W(l), b(l) for layer l's blocks (l counts the layers with parameters from 1),
// z(l) for a Dense pre-activation, a(l) for the activation the next Dense reads, ŷ for the output,
// δ(l) for z(l)'s adjoint — and lets ad/equations.hpp derive the statements from the static tape's
// plan and each node's reverse rule. Nothing here knows a layer's or loss's derivative: naming only.
// Layer: nn (includes ad).
#pragma once
#include <cstddef>
#include <string>
#include <type_traits>

#include "ctnn/ad/equations.hpp"
#include "ctnn/nn/loss.hpp"
#include "ctnn/nn/network.hpp"

namespace ctnn::nn {

namespace eqdetail {

template <class T>
struct is_with_l2 : std::false_type {};
template <class L>
struct is_with_l2<loss::WithL2<L>> : std::true_type {};

template <class N>
struct param_block {  // a parameter leaf: its block index
  static constexpr bool value = false;
  static constexpr std::size_t index = 0;
};
template <class T, std::size_t K, std::size_t R, std::size_t C, bool G, bool S>
struct param_block<ad::Slot<T, ad::ParamTag<K>, R, C, G, S>> {
  static constexpr bool value = true;
  static constexpr std::size_t index = K;
};
template <class T, std::size_t K, std::size_t R, std::size_t C, bool G>
struct param_block<ad::Leaf<T, ad::ParamTag<K>, R, C, G>> : param_block<ad::Slot<T, ad::ParamTag<K>, R, C, G, false>> {};

template <class N>
struct dense_pre_activation {  // z = x Wᵀ + b with W, b parameter blocks
  static constexpr bool value = false;
};
template <class A, class W, class B>
  requires(param_block<W>::value && param_block<B>::value)
struct dense_pre_activation<ad::Binary<ops::Add, ad::MatMulNT<A, W>, B>> {
  static constexpr bool value = true;
  using input = A;
  static constexpr std::size_t weight_block = param_block<W>::index;
};

inline ad::eq::Symbol layer_symbol(const std::string& text, const std::string& latex, std::size_t l) {
  const std::string s = std::to_string(l);
  return {ad::eq::cat(text, "(", s, ")"), ad::eq::cat(latex, "^{(", s, ")}")};
}
inline ad::eq::Symbol gradient_symbol(const ad::eq::Symbol& of) {
  return {ad::eq::cat("∂J/∂", of.text), ad::eq::cat("\\frac{\\partial J}{\\partial ", of.latex, "}")};
}

}  // namespace eqdetail

/// Options of a printout: the batch size the loss's constants are read against (N), and the
/// symbol of with_l2's λ.
struct EquationOptions {
  ad::eq::Symbol lambda{"λ", "\\lambda"};
};

/// The derived forward and backward equations of `net` trained on `loss` (any loss a gradient
/// pass accepts, including a user's lambda). B is the batch the expression is built for; it is
/// printed as N (a prime, so that no small fraction is mistaken for 1/N).
template <std::size_t B = 101, class T, class... Layers, class Loss>
ad::eq::Equations equations(const Network<T, Layers...>& net, const Loss& user_loss, const EquationOptions& opt = {}) {
  // with_l2's λ is replaced by a value no small fraction mimics (as N by the prime B), so that
  // λ/2 is recognised even when the user's λ is, say, 0.5; the printout does not depend on it.
  constexpr double lambda_probe = 0.0123456789;
  const Loss loss_fn = [&] {
    Loss l = user_loss;
    if constexpr (eqdetail::is_with_l2<Loss>::value)
      if (l.lambda != 0) l.lambda = lambda_probe;
    return l;
  }();
  using Net = Network<T, Layers...>;
  auto out = net.template output_expression<B, false, true, false, true>(nullptr, nullptr);
  auto target = ad::Slot<T, ad::TargetTag, B, Net::outputs, false>{};
  auto e = [&] {
    if constexpr (std::is_invocable_v<const Loss&, decltype(out), decltype(target)>) return loss_fn(out, target);
    else return loss_fn(out, target, net.template params_view<true, false, true>());
  }();
  using Root = decltype(e);
  using Order = ad::topological_order<Root>;
  constexpr std::size_t n = Order::size;

  // parameter block -> (its layer's index among the layers with parameters, 1-based; its first block)
  const auto param_layer_of_block = [] {
    constexpr std::array<bool, sizeof...(Layers)> has{HasParameters<Layers>...};
    std::pair<std::array<std::size_t, Net::num_blocks + 1>, std::array<std::size_t, Net::num_blocks + 1>> r{};
    std::size_t count = 0;
    for (std::size_t i = 0; i < has.size(); ++i) {
      if (!has[i]) continue;
      ++count;
      std::size_t end = Net::num_blocks;
      for (std::size_t j = i + 1; j < has.size(); ++j)
        if (has[j]) {
          end = Net::first_block(j);
          break;
        }
      for (std::size_t k = Net::first_block(i); k < end; ++k) {
        r.first[k] = count;
        r.second[k] = Net::first_block(i);
      }
    }
    return r;
  }();

  ad::eq::Names names(n);
  std::array<std::size_t, n> z_of_layer{};  // z(l)'s index in the order (npos: none)
  z_of_layer.fill(meta::npos);
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (([&] {
       using N = meta::at_t<I, Order>;
       if constexpr (N::is_leaf) {
         if constexpr (std::is_same_v<typename N::tag, ad::InputTag>) names.value[I] = {{"x", "x"}};
         else if constexpr (std::is_same_v<typename N::tag, ad::TargetTag>) names.value[I] = {{"y", "y"}};
         else if constexpr (eqdetail::param_block<N>::value) {
           constexpr std::size_t k = eqdetail::param_block<N>::index;
           const std::size_t l = param_layer_of_block.first[k];
           const std::size_t which = k - param_layer_of_block.second[k];
           const ad::eq::Symbol s = which == 0 ? eqdetail::layer_symbol("W", "W", l)
                                    : which == 1 ? eqdetail::layer_symbol("b", "b", l)
                                                 : eqdetail::layer_symbol(ad::eq::cat("θ", std::to_string(which)), ad::eq::cat("\\theta_", std::to_string(which)), l);
           names.value[I] = s;
           names.gradient[I] = eqdetail::gradient_symbol(s);
           names.transposed[I] = which == 1;  // W as stored ([out, in]); b as a column
         }
       } else if constexpr (eqdetail::dense_pre_activation<N>::value) {
         const std::size_t l = param_layer_of_block.first[eqdetail::dense_pre_activation<N>::weight_block];
         names.value[I] = eqdetail::layer_symbol("z", "z", l);
         names.adjoint[I] = eqdetail::layer_symbol("δ", "\\delta", l);
         names.derivative[I] = ad::eq::Symbol{ad::eq::cat("g′(z(", std::to_string(l), "))"), ad::eq::cat("g'(z^{(", std::to_string(l), ")})")};
         z_of_layer[l] = I;
       }
     }()),
     ...);
  }(std::make_index_sequence<n>{});
  // a(l): what the next Dense reads (unless it is z(l) itself, an identity activation), and ŷ
  auto name_activation = [&](std::size_t idx, std::size_t l, ad::eq::Symbol v, ad::eq::Symbol adj) {
    if (idx == meta::npos || l == 0 || l >= n || z_of_layer[l] == meta::npos || z_of_layer[l] == idx) return;
    names.value[idx] = v;
    names.adjoint[idx] = adj;
    names.factor_through[z_of_layer[l]] = idx;
  };
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (([&] {
       using N = meta::at_t<I, Order>;
       if constexpr (eqdetail::dense_pre_activation<N>::value) {
         using A = typename eqdetail::dense_pre_activation<N>::input;
         if constexpr (!A::is_leaf) {
           const std::size_t l = param_layer_of_block.first[eqdetail::dense_pre_activation<N>::weight_block];
           name_activation(meta::index_of_v<Order, A>, l - 1, eqdetail::layer_symbol("a", "a", l - 1),
                           eqdetail::layer_symbol("ā", "\\bar{a}", l - 1));
         }
       }
     }()),
     ...);
  }(std::make_index_sequence<n>{});
  constexpr std::size_t out_idx = meta::index_of_v<Order, decltype(out)>;
  std::size_t last = 0;
  for (std::size_t l = 0; l < n; ++l)
    if (z_of_layer[l] != meta::npos) last = l;
  name_activation(out_idx, last, {"ŷ", "\\hat{y}"}, {"∂J/∂ŷ", "\\frac{\\partial J}{\\partial \\hat{y}}"});

  ad::eq::Context ctx;
  ctx.batch = B;
  if constexpr (eqdetail::is_with_l2<Loss>::value)
    if (user_loss.lambda != 0) ctx.lambda = std::pair{opt.lambda, lambda_probe};
  ad::eq::Equations eqs = ad::eq::derive(e, names, ctx);
  if (out_idx < n && z_of_layer[last] == out_idx) {  // no output activation: say that ŷ is z(L), after its definition
    auto at = eqs.forward.begin();
    while (at != eqs.forward.end() && at->lhs.text != names.value[out_idx]->text) ++at;
    if (at != eqs.forward.end())  // (not there when the pass keys z(L) by path: z(L)⟨1⟩, z(L)⟨2⟩, ...)
      eqs.forward.insert(at + 1, {{"ŷ", "\\hat{y}"}, "=", ad::eq::sym(*names.value[out_idx])});
  }
  return eqs;
}

}  // namespace ctnn::nn
