// ctnn/ad/tape_static.hpp: the static tape. An expression's type is its tape:
//  * topological order: a post-order walk of the node types, each distinct type once (so a
//    node used twice is evaluated once and receives the sum of its adjoints);
//  * plan (all compile time): value and adjoint slots in one workspace, which nodes need an
//    adjoint (only those with a parameter/input below them), and for every edge whether it is
//    the first to reach its child in the reverse sweep: the first writes (=), later ones add
//    (+=), so no adjoint is ever zeroed;
//  * forward sweep: each interior node computes its value into its slot;
//  * reverse sweep: seeded with 1 at the root, each node applies its local rule into its
//    children's adjoints; leaves that need a gradient receive it in their own buffers.
// The workspace lives on the stack when small, else in a per-thread buffer allocated on the
// first pass and reused: nothing is allocated in a pass after that.
// Layer: ad.
#pragma once
#include <array>
#include <cstddef>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "ctnn/ad/expr.hpp"
#include "ctnn/core/aligned.hpp"
#include "ctnn/core/config.hpp"
#include "ctnn/core/diagnostics.hpp"
#include "ctnn/core/type_list.hpp"

namespace ctnn::ad {

namespace detail {

template <class Visited, class Node>
struct topo;
template <class Visited, class Children>
struct topo_children;
template <class Visited>
struct topo_children<Visited, meta::TypeList<>> {
  using type = Visited;
};
template <class Visited, class C0, class... Cs>
struct topo_children<Visited, meta::TypeList<C0, Cs...>> {
  using type = typename topo_children<typename topo<Visited, C0>::type, meta::TypeList<Cs...>>::type;
};
template <class Visited, class Node>
struct topo {
  using type = std::conditional_t<
      meta::contains<Visited, Node>::value, Visited,
      typename meta::append_unique<typename topo_children<Visited, typename Node::children>::type, Node>::type>;
};

template <class Node>
struct tree_size;
template <class Node, class Children>
struct tree_size_children;
template <class Node, class... Cs>
struct tree_size_children<Node, meta::TypeList<Cs...>> {
  static constexpr std::size_t value = 1 + (std::size_t{0} + ... + tree_size<Cs>::value);
};
template <class Node>
struct tree_size : tree_size_children<Node, typename Node::children> {};

template <class L, class N>
constexpr std::array<std::size_t, 2> child_indices() {
  using Ch = typename N::children;
  std::array<std::size_t, 2> r{meta::npos, meta::npos};
  if constexpr (Ch::size >= 1) r[0] = meta::index_of_v<L, meta::at_t<0, Ch>>;
  if constexpr (Ch::size >= 2) r[1] = meta::index_of_v<L, meta::at_t<1, Ch>>;
  return r;
}
template <class N>
constexpr bool leaf_wants_grad() {
  if constexpr (N::is_leaf) return N::leaf_needs_grad;
  else return false;
}

constexpr std::size_t pad_to(std::size_t n, std::size_t m) { return (n + m - 1) / m * m; }

}  // namespace detail

/// The compile-time plan of an expression type.
template <class Order>
struct Plan;
template <class... Ns>
struct Plan<meta::TypeList<Ns...>> {
  using order = meta::TypeList<Ns...>;
  static constexpr std::size_t n = sizeof...(Ns);
  static constexpr std::size_t slot_align = 16;  // elements: 64 bytes for float
  static constexpr std::array<bool, n> is_leaf{Ns::is_leaf...};
  static constexpr std::array<std::size_t, n> size{Ns::size...};
  static constexpr std::array<std::size_t, n> arity{Ns::children::size...};
  static constexpr std::array<std::array<std::size_t, 2>, n> child{detail::child_indices<order, Ns>()...};
  static constexpr std::array<bool, n> needs_grad = [] {
    constexpr std::array<bool, n> leaf_grad{detail::leaf_wants_grad<Ns>()...};
    std::array<bool, n> g{};
    for (std::size_t i = 0; i < n; ++i) {
      if (is_leaf[i]) g[i] = leaf_grad[i];
      else
        for (std::size_t k = 0; k < arity[i]; ++k) g[i] = g[i] || g[child[i][k]];
    }
    return g;
  }();
  static constexpr std::array<std::size_t, n> value_offset = [] {
    std::array<std::size_t, n> o{};
    std::size_t at = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (!is_leaf[i]) {
        o[i] = at;
        at += detail::pad_to(size[i], slot_align);
      }
    return o;
  }();
  static constexpr std::size_t value_size = [] {
    std::size_t at = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (!is_leaf[i]) at += detail::pad_to(size[i], slot_align);
    return at;
  }();
  static constexpr std::array<std::size_t, n> adjoint_offset = [] {
    std::array<std::size_t, n> o{};
    std::size_t at = value_size;
    for (std::size_t i = 0; i < n; ++i)
      if (!is_leaf[i] && needs_grad[i]) {
        o[i] = at;
        at += detail::pad_to(size[i], slot_align);
      }
    return o;
  }();
  static constexpr std::size_t workspace_size = [] {
    std::size_t at = value_size;
    for (std::size_t i = 0; i < n; ++i)
      if (!is_leaf[i] && needs_grad[i]) at += detail::pad_to(size[i], slot_align);
    return at;
  }();
  // first_write[i][k]: edge (node i, operand k) is the first to reach its child in the reverse sweep.
  static constexpr std::array<std::array<bool, 2>, n> first_write = [] {
    std::array<std::array<bool, 2>, n> f{};
    std::array<bool, n> seen{};
    for (std::size_t j = n; j-- > 0;) {
      if (is_leaf[j] || !needs_grad[j]) continue;
      for (std::size_t k = 0; k < arity[j]; ++k) {
        const std::size_t c = child[j][k];
        if (!needs_grad[c]) continue;
        f[j][k] = !seen[c];
        seen[c] = true;
      }
    }
    return f;
  }();
};

template <class Root>
using topological_order = typename detail::topo<meta::TypeList<>, Root>::type;

/// Runs an expression: forward sweep, and the reverse sweep on request.
template <class Root>
class StaticTape {
 public:
  using T = typename Root::scalar;
  using Order = topological_order<Root>;
  using P = Plan<Order>;
  static constexpr std::size_t root = P::n - 1;
  static constexpr bool has_duplicates = detail::tree_size<Root>::value != P::n;

  /// Forward sweep only; writes the root's value (Root::size elements) to out.
  static void evaluate(const Root& e, T* out) {
    run<false>(e, [out](const T* y) {
      for (std::size_t i = 0; i < Root::size; ++i) out[i] = y[i];
    });
  }
  /// Forward and reverse sweep of a scalar expression; returns its value. Every leaf that
  /// needs a gradient receives dRoot/dLeaf in its grad buffer (overwritten, not added to).
  static T value_and_gradient(const Root& e) {
    static_assert(diagnostic::loss_not_scalar<Root::rows, Root::cols>::value);
    T v{};
    run<true>(e, [&v](const T* y) { v = y[0]; });
    return v;
  }

 private:
  template <class... Ns>
  static auto pointer_tuple(meta::TypeList<Ns...>) -> std::tuple<const Ns*...>;
  using Ptrs = decltype(pointer_tuple(Order{}));

  template <class Node>
  static CTNN_INLINE void collect(const Node& node, Ptrs& ptrs, bool& ok) {
    constexpr std::size_t i = meta::index_of_v<Order, Node>;
    auto& slot = std::get<i>(ptrs);
    if constexpr (has_duplicates) {
      if (slot != nullptr && !slot->same_payload(node)) ok = false;
    }
    slot = &node;
    if constexpr (Node::children::size >= 1) collect(node.a, ptrs, ok);
    if constexpr (Node::children::size >= 2) collect(node.b, ptrs, ok);
  }

  template <std::size_t I>
  static CTNN_INLINE const T* val(const Ptrs& p, T* ws) {
    if constexpr (P::is_leaf[I]) return std::get<I>(p)->value;
    else return ws + P::value_offset[I];
  }
  template <std::size_t I>
  static CTNN_INLINE T* adj(const Ptrs& p, T* ws) {
    if constexpr (P::is_leaf[I]) return std::get<I>(p)->grad;
    else return ws + P::adjoint_offset[I];
  }

  template <std::size_t I>
  static CTNN_INLINE void forward_node(const Ptrs& p, T* ws) {
    if constexpr (!P::is_leaf[I]) {
      const auto* node = std::get<I>(p);
      constexpr auto c = P::child[I];
      if constexpr (P::arity[I] == 1) node->forward(ws + P::value_offset[I], val<c[0]>(p, ws));
      else node->forward(ws + P::value_offset[I], val<c[0]>(p, ws), val<c[1]>(p, ws));
    }
  }
  template <std::size_t I>
  static CTNN_INLINE void backward_node(const Ptrs& p, T* ws) {
    if constexpr (!P::is_leaf[I] && P::needs_grad[I]) {
      const auto* node = std::get<I>(p);
      constexpr auto c = P::child[I];
      constexpr auto first = P::first_write[I];
      const T* g = ws + P::adjoint_offset[I];
      const T* y = ws + P::value_offset[I];
      if constexpr (P::arity[I] == 1) {
        if constexpr (P::needs_grad[c[0]])
          node->template backward_a<!first[0]>(g, y, val<c[0]>(p, ws), adj<c[0]>(p, ws));
      } else {
        if constexpr (P::needs_grad[c[0]])
          node->template backward_a<!first[0]>(g, y, val<c[0]>(p, ws), val<c[1]>(p, ws), adj<c[0]>(p, ws));
        if constexpr (P::needs_grad[c[1]])
          node->template backward_b<!first[1]>(g, y, val<c[0]>(p, ws), val<c[1]>(p, ws), adj<c[1]>(p, ws));
      }
    }
  }

  template <bool Backward, class Out>
  static CTNN_INLINE void run(const Root& e, Out&& out) {
    static_assert(!Root::is_leaf, "ctnn: the expression is a single leaf; nothing to evaluate");
    Ptrs ptrs{};
    bool ok = true;
    collect(e, ptrs, ok);
    if constexpr (has_duplicates) {
      if (!ok)
        throw std::invalid_argument(
            "ctnn: two nodes of the same expression type carry different constants (or leaves of one "
            "tag point to different buffers); the static tape identifies nodes by type: give the "
            "constants distinct ctnn::constant<Id> tags or fold them into one node");
    }
    constexpr std::size_t n_ws = (Backward ? P::workspace_size : P::value_size) + 1;
    auto body = [&](T* ws) {
      [&]<std::size_t... I>(std::index_sequence<I...>) { (forward_node<I>(ptrs, ws), ...); }
      (std::make_index_sequence<P::n>{});
      if constexpr (Backward) {
        if constexpr (P::needs_grad[root]) {
          ws[P::adjoint_offset[root]] = T(1);
          [&]<std::size_t... I>(std::index_sequence<I...>) { (backward_node<P::n - 1 - I>(ptrs, ws), ...); }
          (std::make_index_sequence<P::n>{});
        }
      }
      out(ws + P::value_offset[root]);
    };
    if constexpr (n_ws * sizeof(T) <= stack_workspace_limit) {
      alignas(alignment) T ws[n_ws];
      body(ws);
    } else {
      thread_local AlignedBuffer<T> buffer(n_ws);
      body(buffer.data());
    }
  }
};

/// Value of a scalar expression and the gradients of every leaf that asks for one.
template <Expression E>
auto value_and_gradient(const E& e) {
  return StaticTape<std::remove_cvref_t<E>>::value_and_gradient(e);
}
/// Forward sweep only; writes the expression's R x C value to out.
template <Expression E>
void evaluate(const E& e, typename std::remove_cvref_t<E>::scalar* out) {
  StaticTape<std::remove_cvref_t<E>>::evaluate(e, out);
}

}  // namespace ctnn::ad
