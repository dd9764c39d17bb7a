// ctnn/ad/unary.hpp: the generic element-wise node Unary<Op, A>. A primitive op (ad/ops/*.hpp)
// supplies only its value and its local derivative (from input x and output y); this node
// turns them into the forward lane function and the reverse-sweep rule.
// Layer: ad.
#pragma once
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "ctnn/ad/expr.hpp"
#include "ctnn/kernel/map.hpp"

namespace ctnn::ad {

/// The reverse rule of an element-wise op, dx = g · op'(x, y): the one place the chain rule meets
/// an op's local derivative, shared by this node and the runtime tape (ad/tape_runtime.hpp).
/// Plain `inline` and by value on purpose: so the static tape's code is unchanged (docs/design.md).
/// An op may instead give the whole product as `vjp(g, x, y)` when another association is
/// shorter on the critical path (Square: (g + g)·x, where g is often a constant such as ½ that
/// folds away, instead of g·(x + x)); it must equal g·derivative(x, y) exactly.
template <class Op, class V>
inline V unary_adjoint(const Op& op, V g, V x, V y) noexcept {
  if constexpr (requires { op.vjp(g, x, y); }) return op.vjp(g, x, y);
  else return g * op.derivative(x, y);
}

template <class Op, class A>
struct Unary : NodeBase<typename A::scalar, A::rows, A::cols> {
  using children = meta::TypeList<A>;
  using op_type = Op;
  A a;
  [[no_unique_address]] Op op;

  Unary(A a_, Op op_) : a(std::move(a_)), op(op_) {}
  bool same_payload(const Unary& o) const noexcept { return op == o.op; }
  static constexpr bool has_payload = !std::is_empty_v<Op>;  // an op with members (a slope) holds numbers

  // Element-wise: the tape evaluates it lane by lane, fused with its single-use element-wise
  // neighbours (ad/tape_static.hpp); the backward rule reads only what the op says it needs.
  static constexpr bool elementwise = true;
  static constexpr bool needs_own_value = []{ if constexpr (requires { Op::uses_y; }) return Op::uses_y; else return true; }();
  static constexpr std::array<bool, 2> needs_child_values{
      []{ if constexpr (requires { Op::uses_x; }) return Op::uses_x; else return true; }(), false};
  template <class V>
  CTNN_INLINE V lane(const V& x) const noexcept {
    return op.value(x);
  }
  template <bool AccA, class T>
  CTNN_INLINE void backward_a(const T* g, const T* y, const T* x, T* dx) const noexcept {
    kernel::map<A::size, AccA>([this](auto gv, auto xv, auto yv) { return unary_adjoint(op, gv, xv, yv); },
                               dx, g, x, y);
  }
};

template <class Op, Expression A>
CTNN_INLINE auto unary(A a, Op op = {}) {
  return Unary<Op, std::remove_cvref_t<A>>(std::move(a), op);
}

}  // namespace ctnn::ad
