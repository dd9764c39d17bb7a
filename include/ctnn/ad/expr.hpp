// ctnn/ad/expr.hpp: what an expression is. Every node is a type that knows its shape
// (rows x cols, compile time), its scalar type and its children; interior nodes hold their
// children by value, leaves hold pointers to long-lived storage (parameters, inputs, targets,
// user constants). Two nodes of the same type are the same node: the static tape evaluates
// them once and sums their adjoints, unless numbers inside them differ (see ad/tape_static.hpp).
// Layer: ad (includes core and kernel only).
#pragma once
#include <cstddef>
#include <type_traits>

#include "ctnn/core/type_list.hpp"

namespace ctnn::ad {

/// Base of every expression node type.
struct ExprTag {};

template <class E>
concept Expression = std::is_base_of_v<ExprTag, std::remove_cvref_t<E>>;

/// Leaf tags: what storage a leaf refers to. A tag type names exactly one buffer in a pass.
struct InputTag {
  static constexpr const char* name = "x";
};
struct TargetTag {
  static constexpr const char* name = "y";
};
/// Block I of a network's parameter buffer (layer l's W is 2l, its b is 2l+1 for Dense nets).
template <std::size_t I>
struct ParamTag {
  static constexpr std::size_t index = I;
};
/// A user constant (e.g. class weights); Id distinguishes several constants of one pass.
template <int Id>
struct ConstantTag {
  static constexpr int id = Id;
};

/// A leaf: an R x C row-major block of T at `value`. If NeedsGrad, the reverse sweep writes
/// dL/d(leaf) to `grad` (same layout).
template <class T, class Tag, std::size_t R, std::size_t C, bool NeedsGrad>
struct Leaf : ExprTag {
  using scalar = T;
  using tag = Tag;
  using children = meta::TypeList<>;
  static constexpr std::size_t rows = R, cols = C, size = R * C;
  static constexpr bool is_leaf = true;
  static constexpr bool leaf_needs_grad = NeedsGrad;

  const T* value = nullptr;
  T* grad = nullptr;

  bool same_payload(const Leaf& o) const noexcept { return value == o.value && grad == o.grad; }
};

/// A parameter leaf in a fused training step: the reverse sweep applies each contribution to
/// its adjoint as value += alpha · contribution (alpha = −learning rate) in the kernel that
/// produces it, instead of writing a gradient. `grad` points at the parameters themselves.
template <class T, class Tag, std::size_t R, std::size_t C>
struct SinkLeaf : Leaf<T, Tag, R, C, true> {
  static constexpr bool is_sink = true;
  T alpha = T(0);
  bool same_payload(const SinkLeaf& o) const noexcept { return this->value == o.value && alpha == o.alpha; }
};

/// A leaf that holds no pointer: its buffers come from the binding passed to the tape
/// (StaticTape::value_and_gradient(e, binding)), which answers value<Tag>(), grad<Tag>() and
/// alpha. A network builds its expressions from these, so an expression object is (nearly)
/// empty and building one copies nothing; Sink marks a parameter updated in place by a fused
/// training step.
template <class T, class Tag, std::size_t R, std::size_t C, bool NeedsGrad, bool Sink = false>
struct Slot : ExprTag {
  using scalar = T;
  using tag = Tag;
  using children = meta::TypeList<>;
  static constexpr std::size_t rows = R, cols = C, size = R * C;
  static constexpr bool is_leaf = true;
  static constexpr bool leaf_needs_grad = NeedsGrad || Sink;
  static constexpr bool is_sink = Sink;
  bool same_payload(const Slot&) const noexcept { return true; }
};

/// The binding of an expression whose leaves all hold their own pointers.
struct NoBinding {};

template <class N>
constexpr bool is_sink() {
  if constexpr (requires { N::is_sink; }) return N::is_sink;
  else return false;
}

template <class E>
inline constexpr bool is_leaf_v = std::remove_cvref_t<E>::is_leaf;

/// Whether node N or a node below it satisfies Pred (Pred::template test<M>()); stops at the first
/// that does.
template <class Pred, class N>
constexpr bool any_at_or_below() {
  if constexpr (Pred::template test<N>()) return true;
  else if constexpr (N::is_leaf) return false;
  else return []<class... Cs>(meta::TypeList<Cs...>) { return (false || ... || any_at_or_below<Pred, Cs>()); }(typename N::children{});
}
struct WantsGrad {
  template <class N>
  static constexpr bool test() {
    if constexpr (N::is_leaf) return N::leaf_needs_grad;
    else return false;
  }
};
/// Whether a leaf that wants a gradient is at or below node N.
template <class N>
constexpr bool wants_grad_below() {
  return any_at_or_below<WantsGrad, N>();
}
/// The scalar of a node with operands A and B: A's, unless only B has a leaf that wants a
/// gradient. So a constant takes the scalar of what is differentiated: double class weights or
/// ad::constant leaves in a loss run on Dual<double> (Hessian-vector products) or on float; the
/// tape converts such a leaf's values once per pass (ad/tape_static.hpp).
template <class A, class B>
using operand_scalar = typename std::conditional_t<!wants_grad_below<A>() && wants_grad_below<B>(), B, A>::scalar;

/// Elements a value slot of the static tape is padded to (64 bytes of float).
inline constexpr std::size_t slot_align = 16;

/// Interior node base: supplies is_leaf and the default payload comparison (no payload).
/// A node that declares `static constexpr std::size_t aux_size = n;` gets n elements of scratch
/// in its tape slot at y + aux_offset (y its value): its forward rule may write there what its
/// backward rule reads (log-sum-exp keeps its exponentials instead of computing them again).
template <class Scalar, std::size_t R, std::size_t C>
struct NodeBase : ExprTag {
  using scalar = Scalar;
  static constexpr std::size_t rows = R, cols = C, size = R * C;
  static constexpr std::size_t aux_offset = (R * C + slot_align - 1) / slot_align * slot_align;
  static constexpr bool is_leaf = false;
};

}  // namespace ctnn::ad
