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
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "ctnn/ad/expr.hpp"
#include "ctnn/core/aligned.hpp"
#include "ctnn/core/config.hpp"
#include "ctnn/core/diagnostics.hpp"
#include "ctnn/core/type_list.hpp"
#include "ctnn/kernel/map.hpp"
#include "ctnn/kernel/simd.hpp"

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

template <class N>
constexpr std::array<bool, 2> pass_through() {
  if constexpr (requires { N::pass_through; }) return N::pass_through;
  else return {false, false};
}

template <class N>
constexpr bool is_elementwise() {
  if constexpr (requires { N::elementwise; }) return N::elementwise;
  else return false;
}
template <class N>
constexpr bool supports_sink() {
  if constexpr (requires { N::supports_sink; }) return N::supports_sink;
  else return false;
}
template <class N>
constexpr bool needs_own_value() {
  if constexpr (N::is_leaf) return false;
  else if constexpr (requires { N::needs_own_value; }) return N::needs_own_value;
  else return true;
}
// Scratch a node keeps after its value in its own slot (`aux_size` elements at y + N::aux_offset),
// written by its forward rule and read by its backward rule (log-sum-exp keeps e^{x − m} and 1/Σ).
template <class N>
constexpr std::size_t aux_size() {
  if constexpr (requires { N::aux_size; }) return N::aux_size;
  else return 0;
}
template <class N>
constexpr std::array<bool, 2> needs_child_values() {
  if constexpr (N::is_leaf) return {false, false};
  else if constexpr (requires { N::needs_child_values; }) return N::needs_child_values;
  else return {true, true};
}

// Where a node type sits in the expression object: the child choices (0 = a, 1 = b) from the root.
// The tape reaches nodes through these member paths instead of taking their addresses, so after
// inlining the expression object (a few pointers and constants) can live in registers.
template <std::size_t... P>
struct Path {};
template <class Node, class PathT>
struct Entry {
  using node = Node;
  using path = PathT;
};
template <class... Ls>
struct concat;
template <>
struct concat<> {
  using type = meta::TypeList<>;
};
template <class... A>
struct concat<meta::TypeList<A...>> {
  using type = meta::TypeList<A...>;
};
template <class... A, class... B, class... Rest>
struct concat<meta::TypeList<A...>, meta::TypeList<B...>, Rest...> {
  using type = typename concat<meta::TypeList<A..., B...>, Rest...>::type;
};
template <class Node, class PathT>
struct flatten;
template <class Node, std::size_t... P>
struct flatten<Node, Path<P...>> {
  using Ch = typename Node::children;
  template <std::size_t K>
  static auto child_entries() {
    if constexpr (K < Ch::size) return typename flatten<meta::at_t<K, Ch>, Path<P..., K>>::type{};
    else return meta::TypeList<>{};
  }
  using type = typename concat<decltype(child_entries<0>()), decltype(child_entries<1>()),
                               meta::TypeList<Entry<Node, Path<P...>>>>::type;
};
template <class Entries>
struct entry_nodes;
template <class... Es>
struct entry_nodes<meta::TypeList<Es...>> {
  using type = meta::TypeList<typename Es::node...>;
};
template <class N>
CTNN_INLINE const N& follow(const N& n, Path<>) {
  return n;
}
template <class N, std::size_t P0, std::size_t... Ps>
CTNN_INLINE const auto& follow(const N& n, Path<P0, Ps...>) {
  if constexpr (P0 == 0) return follow(n.a, Path<Ps...>{});
  else return follow(n.b, Path<Ps...>{});
}

constexpr std::size_t pad_to(std::size_t n, std::size_t m) { return (n + m - 1) / m * m; }

// ---- numbers inside nodes --------------------------------------------------------------------
// An interior node may hold numbers of its own (its payload: x * 2.0 holds 2.0, a leaky ReLU its
// slope, a Tap its output buffer); it says so by `static constexpr bool has_payload = true`.
// Two occurrences of such a type, or of a type with one below it, are the same tape node only if
// their numbers are equal, which only a pass can see. The tape keeps the order by types and, when
// a pass finds such numbers differ (2.0 * x + 3.0 * x), runs a second order compiled for that
// case, in which every node with numbers at or below it is keyed by its path from the root
// (Keyed<Node, Path>): one tape node per occurrence. Leaves are never keyed (a leaf's tag names
// its buffer).
struct OwnPayload {
  template <class N>
  static constexpr bool test() {
    if constexpr (N::is_leaf) return false;
    else if constexpr (requires { N::has_payload; }) return N::has_payload;
    else return false;
  }
};
template <class N>
constexpr bool carries_payload() {
  return any_at_or_below<OwnPayload, N>();
}
template <class Node, class PathT>
struct Keyed;
template <class Node, class PathT>
struct key_of {
  using type = std::conditional_t<carries_payload<Node>(), Keyed<Node, PathT>, Node>;
};
template <class Node, class PathT>
struct keyed_children;
template <class Node, std::size_t... P>
struct keyed_children<Node, Path<P...>> {
  using Ch = typename Node::children;
  template <std::size_t K>
  static auto child() {
    if constexpr (K < Ch::size) return meta::TypeList<typename key_of<meta::at_t<K, Ch>, Path<P..., K>>::type>{};
    else return meta::TypeList<>{};
  }
  using type = typename concat<decltype(child<0>()), decltype(child<1>())>::type;
};
/// Node at member path PathT, as its own tape node: Node's static facts, children keyed alike.
template <class Node, class PathT>
struct Keyed : Node {
  using node = Node;
  using path = PathT;
  using children = typename keyed_children<Node, PathT>::type;
};
template <class K>
struct node_of {
  using type = K;
};
template <class N, class PathT>
struct node_of<Keyed<N, PathT>> {
  using type = N;
};
template <class K>
inline constexpr bool is_keyed_v = !std::is_same_v<typename node_of<K>::type, K>;

// Whether a type with numbers at or below it occurs more than once in the tree (Entries: the
// tree's nodes in post-order; Order: the distinct types).
template <class Order, class... Es>
constexpr bool payload_repeated(meta::TypeList<Es...>) {
  constexpr std::size_t n = sizeof...(Es);
  constexpr std::array<bool, n> pay{carries_payload<typename Es::node>()...};
  constexpr std::array<std::size_t, n> at{meta::index_of_v<Order, typename Es::node>...};
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j)
      if (pay[i] && at[i] == at[j]) return true;
  return false;
}

}  // namespace detail

/// The compile-time plan of an expression type, for a forward-only pass or a gradient pass.
template <class Order, bool Backward>
struct Plan;
template <class... Ns, bool Backward>
struct Plan<meta::TypeList<Ns...>, Backward> {
  using order = meta::TypeList<Ns...>;
  static constexpr std::size_t n = sizeof...(Ns);
  static constexpr std::size_t root = n - 1;
  static constexpr std::size_t slot_align = ad::slot_align;  // elements: 64 bytes for float
  static constexpr std::array<bool, n> is_leaf{Ns::is_leaf...};
  static constexpr std::array<std::size_t, n> size{Ns::size...};
  static constexpr std::array<std::size_t, n> rows{Ns::rows...};
  static constexpr std::array<std::size_t, n> cols{Ns::cols...};
  static constexpr std::array<bool, n> elementwise{detail::is_elementwise<Ns>()...};
  static constexpr std::array<bool, n> is_sink{ad::is_sink<Ns>()...};
  static constexpr std::array<std::size_t, n> aux{detail::aux_size<Ns>()...};
  // A leaf of another scalar than the root's (double constants in a Dual or float pass): its
  // values are converted into a value slot at the start of the forward sweep.
  using root_scalar = typename meta::at_t<n - 1, order>::scalar;
  static constexpr std::array<bool, n> foreign{(Ns::is_leaf && !std::is_same_v<typename Ns::scalar, root_scalar>)...};
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
  // Forward fusion. An element-wise node with a single parent that is element-wise and of the same
  // shape, whose value no backward rule reads, is inlined: its parent's lane function computes it
  // on the fly and it gets no value slot (bias add + activation run as one pass; intermediates
  // nobody reads are never stored).
  static constexpr std::array<bool, n> value_needed = [] {
    constexpr std::array<bool, n> own{detail::needs_own_value<Ns>()...};
    constexpr std::array<std::array<bool, 2>, n> of_child{detail::needs_child_values<Ns>()...};
    std::array<bool, n> v{};
    if (!Backward) return v;
    for (std::size_t j = 0; j < n; ++j) {
      if (is_leaf[j] || !needs_grad[j]) continue;
      v[j] = v[j] || own[j];
      for (std::size_t k = 0; k < arity[j]; ++k) v[child[j][k]] = v[child[j][k]] || of_child[j][k];
    }
    return v;
  }();
  static constexpr std::array<bool, n> inlined = [] {
    std::array<std::size_t, n> uses{}, parent{};
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t k = 0; k < arity[j]; ++k) {
        ++uses[child[j][k]];
        parent[child[j][k]] = j;
      }
    std::array<bool, n> in{};
    for (std::size_t i = 0; i + 1 < n; ++i) {
      const std::size_t p = parent[i];
      in[i] = !is_leaf[i] && elementwise[i] && uses[i] == 1 && elementwise[p] && rows[i] == rows[p] &&
              cols[i] == cols[p] && !value_needed[i];
    }
    return in;
  }();
  // A fused training step is exact only if each parameter (sink leaf) has one use and its
  // parent's rule can scale: then nothing reads a parameter after it was updated.
  static constexpr bool sink_ok = [] {
    constexpr std::array<bool, n> scalable{detail::supports_sink<Ns>()...};
    std::array<std::size_t, n> uses{}, parent{};
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t k = 0; k < arity[j]; ++k) {
        ++uses[child[j][k]];
        parent[child[j][k]] = j;
      }
    bool ok = true;
    for (std::size_t i = 0; i < n; ++i)
      if (is_sink[i]) ok = ok && uses[i] == 1 && scalable[parent[i]];
    return ok;
  }();
  struct Layout {
    std::array<std::size_t, n> offset{};
    std::size_t end = 0;
  };
  static constexpr Layout values = [] {
    Layout l;
    for (std::size_t i = 0; i < n; ++i)
      if ((!is_leaf[i] && !inlined[i]) || foreign[i]) {
        l.offset[i] = l.end;
        l.end += detail::pad_to(size[i], slot_align) + detail::pad_to(aux[i], slot_align);
      }
    return l;
  }();
  static constexpr std::array<std::size_t, n> value_offset = values.offset;
  static constexpr std::size_t value_size = values.end;
  // Reverse-sweep edges into each child (from interior parents that run a backward rule).
  static constexpr std::array<std::size_t, n> grad_uses = [] {
    std::array<std::size_t, n> u{};
    for (std::size_t j = 0; j < n; ++j)
      if (!is_leaf[j] && needs_grad[j])
        for (std::size_t k = 0; k < arity[j]; ++k)
          if (needs_grad[child[j][k]]) ++u[child[j][k]];
    return u;
  }();
  // alias[j][k]: operand k of node j shares j's adjoint slot (its adjoint IS j's adjoint: j passes
  // it through unchanged, the operand has no other parent, same size), so no copy is made.
  static constexpr std::array<std::array<bool, 2>, n> alias = [] {
    constexpr std::array<std::array<bool, 2>, n> pass{detail::pass_through<Ns>()...};
    std::array<std::array<bool, 2>, n> a{};
    for (std::size_t j = 0; j < n; ++j) {
      if (is_leaf[j] || !needs_grad[j]) continue;
      for (std::size_t k = 0; k < arity[j]; ++k) {
        const std::size_t c = child[j][k];
        a[j][k] = pass[j][k] && needs_grad[c] && !is_leaf[c] && grad_uses[c] == 1 && size[c] == size[j];
      }
    }
    return a;
  }();
  static constexpr Layout adjoints = [] {
    Layout l;
    l.end = value_size;
    for (std::size_t j = n; j-- > 0;) {  // parents before children: an alias takes its parent's slot
      if (is_leaf[j] || !needs_grad[j]) continue;
      bool aliased = false;
      for (std::size_t p = j + 1; p < n; ++p)
        for (std::size_t k = 0; k < arity[p]; ++k)
          if (alias[p][k] && child[p][k] == j) {
            l.offset[j] = l.offset[p];
            aliased = true;
          }
      if (!aliased) {
        l.offset[j] = l.end;
        l.end += detail::pad_to(size[j], slot_align);
      }
    }
    return l;
  }();
  static constexpr std::array<std::size_t, n> adjoint_offset = adjoints.offset;
  static constexpr std::size_t workspace_size = adjoints.end;
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

/// How a gradient pass reduces over the batch. BatchMode: the usual pass (seed 1; a parameter's
/// adjoint is the sum over the batch rows). PerSampleMode<Batch, Stride>: one batch pass that keeps
/// the rows apart (seed Batch, so that for a loss that is a mean over Batch rows, row n's share is
/// sample n's loss l_n alone): every leaf that wants a gradient, except the input (InputTag), is a
/// parameter, and sample n's gradient goes to its grad buffer + n·Stride. An edge into a parameter
/// whose rule sums over the batch rows (Z = X Wᵀ: dW = Gᵀ X; a bias row broadcast over the batch:
/// db = Σ_r g_r) runs its node's per-row rule (backward_{a,b}_rows: dW_n = g_n x_nᵀ, db_n = g_n); any
/// other edge (e.g. an L2 penalty on W, which does not go through a row) is shared: 1/Batch of its
/// contribution goes to every sample, so each gets the penalty's full gradient (sample n's loss
/// alone is l_n + penalty). The batch mode's generated code is unchanged by this (docs/design.md).
struct BatchMode {
  static constexpr bool per_sample = false;
};
template <std::size_t Batch, std::size_t Stride>
struct PerSampleMode {
  static constexpr bool per_sample = true;
  static constexpr std::size_t batch = Batch, stride = Stride;
};

namespace detail {
/// Whether node N has a per-row rule for operand K in a pass over Batch rows.
template <class N, std::size_t K, std::size_t Batch>
constexpr bool has_rows_rule() {
  if constexpr (requires { N::template rows_rule<K, Batch>(); }) return N::template rows_rule<K, Batch>();
  else return false;
}
/// A leaf that receives per-sample gradients: wants a gradient and is not the input.
template <class N>
constexpr bool per_sample_leaf() {
  if constexpr (N::is_leaf) return N::leaf_needs_grad && !std::is_same_v<typename N::tag, InputTag>;
  else return false;
}
}  // namespace detail

template <class Root>
using topological_order = typename detail::topo<meta::TypeList<>, Root>::type;
/// The order with every node that has numbers at or below it keyed by its path (detail::Keyed):
/// what a pass runs when two occurrences of one such type hold different numbers.
template <class Root>
using keyed_order = typename detail::topo<meta::TypeList<>, typename detail::key_of<Root, detail::Path<>>::type>::type;

/// Runs an expression: forward sweep, and the reverse sweep on request. ByPath: the tape of
/// keyed_order (what a pass of the plain tape hands over to when numbers differ; see above).
template <class Root, class Binding = NoBinding, bool ByPath = false>
class StaticTape {
  template <class, class, bool>
  friend class StaticTape;
  using Entries = typename detail::flatten<Root, detail::Path<>>::type;
  using EntryNodes = typename detail::entry_nodes<Entries>::type;

 public:
  using T = typename Root::scalar;
  using Order = std::conditional_t<ByPath, keyed_order<Root>, topological_order<Root>>;
  static constexpr std::size_t root = Order::size - 1;
  static constexpr bool has_duplicates = detail::tree_size<Root>::value != Order::size;
  /// Whether a type with numbers of its own at or below it (x * 2.0, a leaky ReLU) occurs twice:
  /// then a pass compares the numbers and runs keyed_order's tape when they differ.
  static constexpr bool payload_repeated = [] {
    if constexpr (ByPath || !has_duplicates) return false;
    else return detail::payload_repeated<Order>(Entries{});
  }();
  /// Whether a fused training step (sink leaves) is exact for this expression (in both orders a
  /// pass may run).
  static constexpr bool fused_step_ok = [] {
    if constexpr (payload_repeated) return Plan<Order, true>::sink_ok && Plan<keyed_order<Root>, true>::sink_ok;
    else return Plan<Order, true>::sink_ok;
  }();

  /// Forward sweep only; writes the root's value (Root::size elements) to out.
  static void evaluate(const Root& e, T* out, const Binding& bind = {}) {
    // Copied in the pieces the root's pass stored (batches, then the same tail split), so every
    // load is store-forwarded (a wider load over narrower stores waits for them to retire).
    run<false>(e, bind, [out](const T* y) { kernel::copy<Root::size>(out, y); });
  }
  /// Forward and reverse sweep of a scalar expression; returns its value. Every leaf that
  /// needs a gradient receives dRoot/dLeaf in its grad buffer (overwritten, not added to).
  static T value_and_gradient(const Root& e, const Binding& bind = {}) {
    T v{};
    if constexpr (diagnostic::loss_not_scalar<Root::rows, Root::cols>::value)
      run<true>(e, bind, [&v](const T* y) { v = y[0]; });
    return v;
  }
  /// Per-sample gradients of a scalar expression over a batch of Batch rows, from one forward
  /// and one reverse sweep (see PerSampleMode): sample n's gradient of every parameter leaf goes
  /// to its grad buffer + n·Stride; an input leaf with a grad buffer receives its rows (each row
  /// is its own sample's). Returns the expression's value (the batch loss).
  template <std::size_t Batch, std::size_t Stride>
  static T per_sample_gradient(const Root& e, const Binding& bind = {}) {
    T v{};
    if constexpr (diagnostic::loss_not_scalar<Root::rows, Root::cols>::value)
      run<true, PerSampleMode<Batch, Stride>>(e, bind, [&v](const T* y) { v = y[0]; });
    return v;
  }
  /// Whether two occurrences of one interior node type in e hold different numbers, so that a
  /// pass runs keyed_order's tape (false unless payload_repeated).
  static bool numbers_differ(const Root& e) {
    if constexpr (payload_repeated) return !compare_payloads(e).numbers_ok;
    else return false;
  }

 private:
  // What every sweep function receives: the expression object and the binding of its slots.
  struct Ptrs {
    const Root& e;
    const Binding& bind;
  };
  /// Node I of the order, reached by its member path from the root.
  template <std::size_t I>
  static CTNN_INLINE const auto& node_at(const Ptrs& p) {
    using K = meta::at_t<I, Order>;
    if constexpr (detail::is_keyed_v<K>) {
      return detail::follow(p.e, typename K::path{});
    } else {
      using E = meta::at_t<meta::index_of_v<EntryNodes, K>, Entries>;
      return detail::follow(p.e, typename E::path{});
    }
  }
  template <std::size_t I>
  static CTNN_INLINE const auto* leaf_value(const Ptrs& p) {
    const auto& leaf = node_at<I>(p);
    if constexpr (requires { leaf.value; }) return leaf.value;
    else return p.bind.template value<typename meta::at_t<I, Order>::tag>();
  }
  template <std::size_t I>
  static CTNN_INLINE T* leaf_grad(const Ptrs& p) {
    const auto& leaf = node_at<I>(p);
    if constexpr (requires { leaf.grad; }) return leaf.grad;
    else return p.bind.template grad<typename meta::at_t<I, Order>::tag>();
  }
  template <std::size_t I>
  static CTNN_INLINE T leaf_alpha(const Ptrs& p) {
    const auto& leaf = node_at<I>(p);
    if constexpr (requires { leaf.alpha; }) return leaf.alpha;
    else return p.bind.alpha;
  }

  // Leaves that hold their own grad pointer (ad::variable): two of them writing overlapping
  // buffers would lose a contribution (each leaf's first edge writes, =), so a pass refuses them.
  template <std::size_t I>
  static constexpr bool owns_grad_pointer() {
    using N = meta::at_t<I, Order>;
    if constexpr (!N::is_leaf) return false;
    else if constexpr (!N::leaf_needs_grad || is_sink<N>()) return false;
    else return requires(const N& l) { l.grad; };
  }
  static constexpr std::size_t grad_pointers = []<std::size_t... I>(std::index_sequence<I...>) {
    return (std::size_t{0} + ... + std::size_t{owns_grad_pointer<I>()});
  }(std::make_index_sequence<Order::size>{});
  template <class N>
  static std::string leaf_name() {
    using Tag = typename N::tag;
    if constexpr (requires { Tag::id; }) return "ad::variable<" + std::to_string(Tag::id) + ", ...>";
    else if constexpr (requires { Tag::index; }) return "parameter block " + std::to_string(Tag::index);
    else if constexpr (requires { Tag::name; }) return std::string("the leaf ") + Tag::name;
    else return "a leaf";
  }
  static void check_grad_buffers(const Ptrs& p) {
    std::array<std::uintptr_t, grad_pointers> lo{}, hi{};
    std::array<std::string (*)(), grad_pointers> name{};
    std::size_t k = 0;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (([&] {
         if constexpr (owns_grad_pointer<I>()) {
           const T* g = leaf_grad<I>(p);
           lo[k] = reinterpret_cast<std::uintptr_t>(g);
           hi[k] = reinterpret_cast<std::uintptr_t>(g + meta::at_t<I, Order>::size);
           name[k++] = &leaf_name<meta::at_t<I, Order>>;
         }
       }()),
       ...);
    }(std::make_index_sequence<Order::size>{});
    for (std::size_t i = 0; i < k; ++i)
      for (std::size_t j = i + 1; j < k; ++j)
        if (lo[i] != hi[i] && lo[j] != hi[j] && lo[i] < hi[j] && lo[j] < hi[i])
          throw std::invalid_argument("ctnn: " + name[i]() + " and " + name[j]() +
                                      " write overlapping gradient buffers, so one would overwrite the other's "
                                      "gradient; for a weight used twice (tied weights) make one ad::variable and "
                                      "use it twice: the tape adds both contributions");
  }
  // Only for expressions with a repeated type (plain order): whether every occurrence of a leaf
  // type has the same buffers (leaves_ok) and of an interior type the same numbers (numbers_ok).
  struct PayloadCheck {
    bool leaves_ok = true, numbers_ok = true;
  };
  static PayloadCheck compare_payloads(const Root& e) {
    std::array<const void*, Order::size> seen{};  // the first occurrence of each node type
    PayloadCheck r;
    compare_payloads(e, seen, r);
    return r;
  }
  template <class Node, class Seen>
  static void compare_payloads(const Node& node, Seen& seen, PayloadCheck& r) {
    constexpr std::size_t i = meta::index_of_v<Order, Node>;
    const void*& slot = seen[i];
    if (slot != nullptr && !static_cast<const Node*>(slot)->same_payload(node)) {
      if constexpr (Node::is_leaf) r.leaves_ok = false;
      else r.numbers_ok = false;
    }
    slot = &node;
    if constexpr (Node::children::size >= 1) compare_payloads(node.a, seen, r);
    if constexpr (Node::children::size >= 2) compare_payloads(node.b, seen, r);
  }

  template <class P, std::size_t I>
  static CTNN_INLINE const T* val(const Ptrs& p, T* ws) {
    if constexpr (P::is_leaf[I] && !P::foreign[I]) return leaf_value<I>(p);
    else return ws + P::value_offset[I];
  }
  template <class P, std::size_t I>
  static CTNN_INLINE T* adj(const Ptrs& p, T* ws) {
    if constexpr (P::is_leaf[I]) return leaf_grad<I>(p);
    else return ws + P::adjoint_offset[I];
  }

  static constexpr std::size_t W = simd::width<T>;
  template <std::size_t L>
  using V = simd::lanes_t<T, L>;  // a 128-bit batch for a narrow (<= 4 float) tail

  // Lanes [c0, c0 + L) of row r of operand C of a fused map over an R x Cols result (Flat: the
  // map runs over all R·Cols elements as one row and every operand is R x Cols or 1 x 1).
  template <class P, std::size_t C, std::size_t L, bool Flat>
  static CTNN_INLINE V<L> operand_lanes(const Ptrs& p, T* ws, std::size_t r, std::size_t c0) {
    if constexpr (P::inlined[C]) {
      return apply_lanes<P, C, L, Flat>(p, ws, r, c0);
    } else {
      const T* ptr = val<P, C>(p, ws);
      constexpr std::size_t rc = P::rows[C], cc = P::cols[C];
      if constexpr (Flat) {
        if constexpr (rc * cc == 1) return V<L>(ptr[0]);
        else return simd::load_n<L>(ptr + c0);
      } else {
        const std::size_t row = rc == 1 ? 0 : r;
        if constexpr (cc == 1) return V<L>(ptr[row]);
        else return simd::load_n<L>(ptr + row * cc + c0);
      }
    }
  }
  template <class P, std::size_t J, std::size_t L, bool Flat>
  static CTNN_INLINE V<L> apply_lanes(const Ptrs& p, T* ws, std::size_t r, std::size_t c0) {
    const auto* node = &node_at<J>(p);
    constexpr auto c = P::child[J];
    if constexpr (P::arity[J] == 1) return node->lane(operand_lanes<P, c[0], L, Flat>(p, ws, r, c0));
    else
      return node->lane(operand_lanes<P, c[0], L, Flat>(p, ws, r, c0), operand_lanes<P, c[1], L, Flat>(p, ws, r, c0));
  }
  // Whether every fringe operand of the fused map rooted at J is full-shape or a 1 x 1 scalar.
  template <class P, std::size_t J>
  static constexpr bool flat_ok() {
    bool ok = true;
    for (std::size_t k = 0; k < P::arity[J]; ++k) {
      const std::size_t c = P::child[J][k];
      if (P::inlined[c]) continue;  // same shape as J; its own operands are checked below
      const bool full = P::rows[c] == P::rows[J] && P::cols[c] == P::cols[J];
      ok = ok && (full || P::size[c] == 1);
    }
    return ok;
  }
  template <class P, std::size_t J>
  static constexpr bool flat_tree() {
    if constexpr (!flat_ok<P, J>()) {
      return false;
    } else {
      constexpr auto c = P::child[J];
      bool ok = true;
      if constexpr (P::arity[J] >= 1 && P::inlined[c[0]]) ok = ok && flat_tree<P, c[0]>();
      if constexpr (P::arity[J] >= 2 && P::inlined[c[1]]) ok = ok && flat_tree<P, c[1]>();
      return ok;
    }
  }
  // Whether the fused map rooted at J evaluates an op that is costly per lane (its op struct says
  // `transcendental = true`: exp, log, sigmoid, tanh, softplus).
  template <class P, std::size_t J>
  static constexpr bool costly_tree() {
    using N = std::remove_cvref_t<decltype(node_at<J>(std::declval<const Ptrs&>()))>;
    bool costly = false;
    if constexpr (requires { N::op_type::transcendental; }) costly = N::op_type::transcendental;
    constexpr auto c = P::child[J];
    if constexpr (P::arity[J] >= 1 && P::inlined[c[0]]) costly = costly || costly_tree<P, c[0]>();
    if constexpr (P::arity[J] >= 2 && P::inlined[c[1]]) costly = costly || costly_tree<P, c[1]>();
    return costly;
  }
  // A tail of 5..7 floats runs as 4 lanes and the rest (simd::split_tail: each piece is stored and
  // loaded as it is, so the hand-over to the next pass is free), except when the map evaluates a
  // transcendental function: two evaluations of ~18 instructions then cost more than the insert
  // and extract of one 256-bit evaluation (a 4-5-1 forward: 11.9 instead of 12.9 ns, ~0.7 ns
  // longer from one input to the next; bench_foundation).
  template <class P, std::size_t I>
  static CTNN_INLINE void fused_map(const Ptrs& p, T* ws) {
    T* y = ws + P::value_offset[I];
    constexpr bool flat = flat_tree<P, I>();
    constexpr std::size_t R = flat ? 1 : P::rows[I], C = flat ? P::size[I] : P::cols[I];
    constexpr std::size_t Cf = C / W * W;
    for (std::size_t r = 0; r < R; ++r) {
      for (std::size_t c0 = 0; c0 < Cf; c0 += W) simd::store_n<W>(y + r * C + c0, apply_lanes<P, I, W, flat>(p, ws, r, c0));
      if constexpr (simd::split_tail<T, C % W> && !costly_tree<P, I>()) {
        simd::store_n<4>(y + r * C + Cf, apply_lanes<P, I, 4, flat>(p, ws, r, Cf));
        simd::store_n<C % W - 4>(y + r * C + Cf + 4, apply_lanes<P, I, C % W - 4, flat>(p, ws, r, Cf + 4));
      } else if constexpr (C % W != 0) {
        simd::store_n<C % W>(y + r * C + Cf, apply_lanes<P, I, C % W, flat>(p, ws, r, Cf));
      }
    }
  }

  template <class P, std::size_t I>
  static CTNN_INLINE void forward_node(const Ptrs& p, T* ws) {
    if constexpr (P::foreign[I]) {
      static_assert(!P::needs_grad[I],
                    "ctnn: a leaf that wants a gradient has another scalar type than the expression "
                    "(e.g. a double ad::variable in a float expression): give all differentiated leaves one type");
      const auto* src = leaf_value<I>(p);
      T* dst = ws + P::value_offset[I];
      for (std::size_t k = 0; k < P::size[I]; ++k) dst[k] = static_cast<T>(src[k]);
    } else if constexpr (!P::is_leaf[I] && !P::inlined[I]) {
      if constexpr (P::elementwise[I]) {
        fused_map<P, I>(p, ws);
      } else {
        const auto* node = &node_at<I>(p);
        constexpr auto c = P::child[I];
        if constexpr (P::arity[I] == 1) node->forward(ws + P::value_offset[I], val<P, c[0]>(p, ws));
        else node->forward(ws + P::value_offset[I], val<P, c[0]>(p, ws), val<P, c[1]>(p, ws));
      }
    }
  }
  // Edge (I, k): operand k's rule, writing (first edge), adding, or — for a sink leaf — applying
  // alpha · contribution to the parameters in place.
  template <class P, std::size_t I, std::size_t K, class Mode = BatchMode>
  static CTNN_INLINE void backward_edge(const Ptrs& p, T* ws) {
    constexpr auto c = P::child[I];
    if constexpr (Mode::per_sample && P::needs_grad[c[K]] &&
                  detail::per_sample_leaf<meta::at_t<c[K], typename P::order>>()) {
      per_sample_edge<P, I, K, Mode>(p, ws);
    } else if constexpr (P::needs_grad[c[K]] && !P::alias[I][K]) {
      const auto* node = &node_at<I>(p);
      const T* g = ws + P::adjoint_offset[I];
      const T* y = ws + P::value_offset[I];
      constexpr bool sink = P::is_sink[c[K]];
      constexpr bool acc = sink || !P::first_write[I][K];
      T* dst = adj<P, c[K]>(p, ws);
      if constexpr (P::arity[I] == 1) {
        node->template backward_a<acc>(g, y, val<P, c[0]>(p, ws), dst);
      } else if constexpr (sink) {
        const T alpha = leaf_alpha<c[K]>(p);
        if constexpr (K == 0)
          node->template backward_a<true, true>(g, y, val<P, c[0]>(p, ws), val<P, c[1]>(p, ws), dst, alpha);
        else
          node->template backward_b<true, true>(g, y, val<P, c[0]>(p, ws), val<P, c[1]>(p, ws), dst, alpha);
      } else {
        if constexpr (K == 0) node->template backward_a<acc>(g, y, val<P, c[0]>(p, ws), val<P, c[1]>(p, ws), dst);
        else node->template backward_b<acc>(g, y, val<P, c[0]>(p, ws), val<P, c[1]>(p, ws), dst);
      }
    }
  }
  template <class P, std::size_t I, class Mode = BatchMode>
  static CTNN_INLINE void backward_node(const Ptrs& p, T* ws) {
    if constexpr (!P::is_leaf[I] && P::needs_grad[I]) {
      if constexpr (P::arity[I] == 1) {
        backward_edge<P, I, 0, Mode>(p, ws);
      } else if constexpr (P::is_sink[P::child[I][0]] && !P::is_sink[P::child[I][1]]) {
        backward_edge<P, I, 1, Mode>(p, ws);  // the other rule may read the parameter: before its update
        backward_edge<P, I, 0, Mode>(p, ws);
      } else {
        backward_edge<P, I, 0, Mode>(p, ws);
        backward_edge<P, I, 1, Mode>(p, ws);
      }
    }
  }

  // ---- per-sample mode (PerSampleMode) -----------------------------------------------------
  // Edge (I, K) into a parameter leaf: the node's per-row rule when it has one (the rows of a
  // batch reduction kept apart, sample n at + n·Stride), else the shared rule: the node's ordinary
  // rule into a scratch slot, 1/Batch of it to every sample.
  template <class P, std::size_t I, std::size_t K, class Mode>
  static CTNN_INLINE void per_sample_edge(const Ptrs& p, T* ws) {
    using Node = meta::at_t<I, typename P::order>;
    constexpr auto c = P::child[I];
    constexpr bool acc = !P::first_write[I][K];
    static_assert(!P::is_sink[c[K]], "ctnn: a per-sample pass does not update parameters in place");
    const auto* node = &node_at<I>(p);
    const T* g = ws + P::adjoint_offset[I];
    const T* y = ws + P::value_offset[I];
    T* dst = adj<P, c[K]>(p, ws);
    if constexpr (detail::has_rows_rule<Node, K, Mode::batch>()) {
      if constexpr (K == 0)
        node->template backward_a_rows<acc, Mode::stride>(g, y, val<P, c[0]>(p, ws), val<P, c[1]>(p, ws), dst);
      else
        node->template backward_b_rows<acc, Mode::stride>(g, y, val<P, c[0]>(p, ws), val<P, c[1]>(p, ws), dst);
    } else {
      T* tmp = ws + P::workspace_size;
      if constexpr (P::arity[I] == 1) node->template backward_a<false>(g, y, val<P, c[0]>(p, ws), tmp);
      else if constexpr (K == 0) node->template backward_a<false>(g, y, val<P, c[0]>(p, ws), val<P, c[1]>(p, ws), tmp);
      else node->template backward_b<false>(g, y, val<P, c[0]>(p, ws), val<P, c[1]>(p, ws), tmp);
      const T share = T(1) / static_cast<T>(Mode::batch);
      for (std::size_t m = 0; m < Mode::batch; ++m)
        kernel::map<P::size[c[K]], acc>([share](auto v) { return v * decltype(v)(share); }, dst + m * Mode::stride,
                                        static_cast<const T*>(tmp));
    }
  }
  // Scratch the shared rule needs: the largest parameter reached by an edge without a per-row rule.
  template <class P, std::size_t I, std::size_t K, class Mode>
  static constexpr std::size_t shared_edge_size() {
    if constexpr (P::is_leaf[I] || !P::needs_grad[I] || K >= P::arity[I]) {
      return 0;
    } else {
      using Child = meta::at_t<P::child[I][K], typename P::order>;
      if constexpr (detail::per_sample_leaf<Child>() &&
                    !detail::has_rows_rule<meta::at_t<I, typename P::order>, K, Mode::batch>())
        return Child::size;
      else
        return 0;
    }
  }
  template <class P, class Mode>
  static constexpr std::size_t scratch_size() {
    if constexpr (!Mode::per_sample) {
      return 0;
    } else {
      return []<std::size_t... I>(std::index_sequence<I...>) {
        std::size_t m = 0;
        ((m = std::max({m, shared_edge_size<P, I, 0, Mode>(), shared_edge_size<P, I, 1, Mode>()})), ...);
        return m;
      }(std::make_index_sequence<P::n>{});
    }
  }

  template <bool Backward, class Mode = BatchMode, class Out>
  static CTNN_INLINE void run(const Root& e, const Binding& bind, Out&& out) {
    using P = Plan<Order, Backward>;
    static_assert(diagnostic::expression_is_leaf<Root::is_leaf>::value);
    const Ptrs ptrs{e, bind};
    if constexpr (!ByPath && grad_pointers >= 2) check_grad_buffers(ptrs);
    if constexpr (!ByPath && has_duplicates) {
      const PayloadCheck c = compare_payloads(e);
      if (!c.leaves_ok)
        throw std::invalid_argument(
            "ctnn: two leaves of one tag point to different buffers (e.g. ad::constant<1, R, C>(a) and "
            "ad::constant<1, R, C>(b)); the static tape identifies a leaf by its tag: give each buffer "
            "its own Id");
      if constexpr (payload_repeated)
        if (!c.numbers_ok) return StaticTape<Root, Binding, true>::template run<Backward, Mode>(e, bind, out);
    }
    constexpr std::size_t n_ws = (Backward ? P::workspace_size : P::value_size) + scratch_size<P, Mode>() + 1;
    auto body = [&](T* ws) {
      [&]<std::size_t... I>(std::index_sequence<I...>) { (forward_node<P, I>(ptrs, ws), ...); }
      (std::make_index_sequence<P::n>{});
      if constexpr (Backward) {
        if constexpr (P::needs_grad[root]) {
          if constexpr (Mode::per_sample) ws[P::adjoint_offset[root]] = static_cast<T>(Mode::batch);
          else ws[P::adjoint_offset[root]] = T(1);
          [&]<std::size_t... I>(std::index_sequence<I...>) { (backward_node<P, P::n - 1 - I, Mode>(ptrs, ws), ...); }
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
template <Expression E, class Binding = NoBinding>
auto value_and_gradient(const E& e, const Binding& bind = {}) {
  return StaticTape<std::remove_cvref_t<E>, Binding>::value_and_gradient(e, bind);
}
/// Forward sweep only; writes the expression's R x C value to out.
template <Expression E, class Binding = NoBinding>
void evaluate(const E& e, typename std::remove_cvref_t<E>::scalar* out, const Binding& bind = {}) {
  StaticTape<std::remove_cvref_t<E>, Binding>::evaluate(e, out, bind);
}

}  // namespace ctnn::ad
