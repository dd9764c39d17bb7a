// ctnn/ad/unary.hpp: the generic element-wise node Unary<Op, A>. A primitive op (ad/ops/*.hpp)
// supplies only its value and its local derivative (from input x and output y); this node
// turns them into the forward map and the reverse-sweep rule.
// Layer: ad.
#pragma once
#include <cstddef>
#include <utility>

#include "ctnn/ad/expr.hpp"
#include "ctnn/kernel/map.hpp"

namespace ctnn::ad {

template <class Op, class A>
struct Unary : NodeBase<typename A::scalar, A::rows, A::cols> {
  using children = meta::TypeList<A>;
  using op_type = Op;
  A a;
  [[no_unique_address]] Op op;

  Unary(A a_, Op op_) : a(std::move(a_)), op(op_) {}
  bool same_payload(const Unary& o) const noexcept { return op == o.op; }

  template <class T>
  CTNN_INLINE void forward(T* y, const T* x) const noexcept {
    kernel::map<A::size>([this](auto v) { return op.value(v); }, y, x);
  }
  template <bool AccA, class T>
  CTNN_INLINE void backward_a(const T* g, const T* y, const T* x, T* dx) const noexcept {
    kernel::map<A::size, AccA>([this](auto gv, auto xv, auto yv) { return gv * op.derivative(xv, yv); },
                               dx, g, x, y);
  }
};

template <class Op, Expression A>
CTNN_INLINE auto unary(A a, Op op = {}) {
  return Unary<Op, std::remove_cvref_t<A>>(std::move(a), op);
}

}  // namespace ctnn::ad
