// ctnn/ad/binary.hpp: element-wise binary nodes (+ - * /) with broadcasting: each operand is
// R x C, 1 x C (a bias row added to every sample), R x 1 or 1 x 1 (a scalar). The adjoint of a
// broadcast operand is the sum over the broadcast dimension. Also Affine1 (a·x + b with runtime
// constants: scaling, adding a number, c - x, x / c).
// Layer: ad.
#pragma once
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "ctnn/ad/expr.hpp"
#include "ctnn/core/diagnostics.hpp"
#include "ctnn/kernel/map.hpp"
#include "ctnn/kernel/reduce.hpp"

namespace ctnn::ops {
struct Add {
  static constexpr bool needs_a = false, needs_b = false, needs_y = false;  // what da/db read
  static constexpr const char* name = "add";
  static constexpr const char* symbol = "+";
  template <class V> static V value(const V& a, const V& b) noexcept { return a + b; }
  template <class V> static V da(const V& g, const V&, const V&, const V&) noexcept { return g; }
  template <class V> static V db(const V& g, const V&, const V&, const V&) noexcept { return g; }
};
struct Sub {
  static constexpr bool needs_a = false, needs_b = false, needs_y = false;
  static constexpr const char* name = "sub";
  static constexpr const char* symbol = "−";
  template <class V> static V value(const V& a, const V& b) noexcept { return a - b; }
  template <class V> static V da(const V& g, const V&, const V&, const V&) noexcept { return g; }
  template <class V> static V db(const V& g, const V&, const V&, const V&) noexcept { return -g; }
};
struct Mul {
  static constexpr bool needs_a = true, needs_b = true, needs_y = false;
  static constexpr const char* name = "mul";
  static constexpr const char* symbol = "⊙";
  template <class V> static V value(const V& a, const V& b) noexcept { return a * b; }
  template <class V> static V da(const V& g, const V&, const V& b, const V&) noexcept { return g * b; }
  template <class V> static V db(const V& g, const V& a, const V&, const V&) noexcept { return g * a; }
};
struct Div {
  static constexpr bool needs_a = false, needs_b = true, needs_y = true;
  static constexpr const char* name = "div";
  static constexpr const char* symbol = "/";
  template <class V> static V value(const V& a, const V& b) noexcept { return a / b; }
  template <class V> static V da(const V& g, const V&, const V& b, const V&) noexcept { return g / b; }
  template <class V> static V db(const V& g, const V&, const V& b, const V& y) noexcept { return -(g * y) / b; }
};
}  // namespace ctnn::ops

namespace ctnn::ad {

namespace detail {
constexpr std::size_t bmax(std::size_t a, std::size_t b) { return a > b ? a : b; }
}

template <class Op, class A, class B>
struct Binary : NodeBase<operand_scalar<A, B>, detail::bmax(A::rows, B::rows), detail::bmax(A::cols, B::cols)> {
  using children = meta::TypeList<A, B>;
  using op_type = Op;
  static constexpr std::size_t R = detail::bmax(A::rows, B::rows), C = detail::bmax(A::cols, B::cols);
  static constexpr bool shapes_ok =
      diagnostic::broadcast_mismatch<Op, A::rows, A::cols, B::rows, B::cols>::value;
  static_assert(shapes_ok || true);  // instantiates the diagnostic as soon as the node is built
  /// Operands whose adjoint is exactly this node's adjoint (a + b, a − b, not broadcast): the tape
  /// lets such an operand share this node's adjoint slot instead of copying it.
  static constexpr std::array<bool, 2> pass_through{
      (std::is_same_v<Op, ops::Add> || std::is_same_v<Op, ops::Sub>) && A::rows == R && A::cols == C,
      std::is_same_v<Op, ops::Add> && B::rows == R && B::cols == C};
  A a;
  B b;
  Binary(A a_, B b_) : a(std::move(a_)), b(std::move(b_)) {}
  bool same_payload(const Binary&) const noexcept { return true; }

 private:
  // Row r of operand X (rows Rx, cols Cx) as a full row of C values; column-broadcast rows are
  // expanded into buf.
  template <std::size_t Rx, std::size_t Cx, class T>
  static CTNN_INLINE const T* row(const T* x, std::size_t r, T* buf) noexcept {
    const T* p = x + (Rx == 1 ? 0 : r * Cx);
    if constexpr (Cx == C) {
      return p;
    } else {
      for (std::size_t c = 0; c < C; ++c) buf[c] = p[0];
      return buf;
    }
  }
  // Shared reverse rule for operand X (shape Rx x Cx) with local rule `rule`.
  template <std::size_t Rx, std::size_t Cx, bool Acc, class Rule, class T>
  static CTNN_INLINE void reduce_into(Rule rule, const T* g, const T* y, const T* av, const T* bv, T* dx) noexcept {
    if constexpr (A::rows == R && A::cols == C && B::rows == R && B::cols == C) {
      kernel::map<R * C, Acc>(rule, dx, g, av, bv, y);
    } else {
      T abuf[C], bbuf[C], tmp[C];
      T total = T(0);
      for (std::size_t r = 0; r < R; ++r) {
        const T* ar = row<A::rows, A::cols>(av, r, abuf);
        const T* br = row<B::rows, B::cols>(bv, r, bbuf);
        const T* gr = g + r * C;
        const T* yr = y + r * C;
        if constexpr (Rx == R && Cx == C) {
          kernel::map<C, Acc>(rule, dx + r * C, gr, ar, br, yr);
        } else if constexpr (Cx == C) {  // 1 x C operand broadcast over rows (a bias)
          if (r == 0) kernel::map<C, Acc>(rule, dx, gr, ar, br, yr);
          else kernel::map<C, true>(rule, dx, gr, ar, br, yr);
        } else {  // R x 1 or 1 x 1 operand broadcast over columns
          kernel::map<C>(rule, tmp, gr, ar, br, yr);
          const T s = kernel::sum<C>(tmp);
          if constexpr (Rx == R && R > 1) {
            if constexpr (Acc) dx[r] += s;
            else dx[r] = s;
          } else {
            total += s;
          }
        }
      }
      if constexpr (Cx != C && !(Rx == R && R > 1)) {
        if constexpr (Acc) dx[0] += total;
        else dx[0] = total;
      }
    }
  }

 public:
  static constexpr bool elementwise = true;
  static constexpr bool needs_own_value = Op::needs_y;
  static constexpr std::array<bool, 2> needs_child_values{Op::needs_a, Op::needs_b};
  template <class V>
  CTNN_INLINE static V lane(const V& x, const V& z) noexcept {
    return Op::value(x, z);
  }
  static constexpr bool supports_sink = true;  // backward rules take a scale (fused training step)
  template <bool Acc, bool Scaled = false, class T>
  CTNN_INLINE void backward_a(const T* g, const T* y, const T* av, const T* bv, T* da, T alpha = T(1)) const noexcept {
    operand_rule<A::rows, A::cols, Acc, Scaled>([](auto... v) { return Op::da(v...); }, g, y, av, bv, da, alpha);
  }
  template <bool Acc, bool Scaled = false, class T>
  CTNN_INLINE void backward_b(const T* g, const T* y, const T* av, const T* bv, T* db, T alpha = T(1)) const noexcept {
    operand_rule<B::rows, B::cols, Acc, Scaled>([](auto... v) { return Op::db(v...); }, g, y, av, bv, db, alpha);
  }
  // Per-sample mode (ad/tape_static.hpp, PerSampleMode): an operand of one row broadcast over the
  // R = Batch rows (a bias) has as adjoint the sum of the rows' terms; the per-row rule keeps row
  // r's term at dx + r·Stride (a 1 x 1 operand: the row's terms summed over the columns).
  template <std::size_t Operand, std::size_t Batch>
  static constexpr bool rows_rule() {
    return R == Batch && (Operand == 0 ? A::rows == 1 : B::rows == 1);
  }
  template <bool Acc, std::size_t Stride, class T>
  CTNN_INLINE void backward_a_rows(const T* g, const T* y, const T* av, const T* bv, T* da) const noexcept {
    rows_into<A::cols, Acc, Stride>([](auto... v) { return Op::da(v...); }, g, y, av, bv, da);
  }
  template <bool Acc, std::size_t Stride, class T>
  CTNN_INLINE void backward_b_rows(const T* g, const T* y, const T* av, const T* bv, T* db) const noexcept {
    rows_into<B::cols, Acc, Stride>([](auto... v) { return Op::db(v...); }, g, y, av, bv, db);
  }

 private:
  template <std::size_t Cx, bool Acc, std::size_t Stride, class Rule, class T>
  static CTNN_INLINE void rows_into(Rule rule, const T* g, const T* y, const T* av, const T* bv, T* dx) noexcept {
    T abuf[C], bbuf[C], tmp[C];
    for (std::size_t r = 0; r < R; ++r) {
      const T* ar = row<A::rows, A::cols>(av, r, abuf);
      const T* br = row<B::rows, B::cols>(bv, r, bbuf);
      T* d = dx + r * Stride;
      if constexpr (Cx == C) {
        kernel::map<C, Acc>(rule, d, g + r * C, ar, br, y + r * C);
      } else {
        kernel::map<C>(rule, tmp, g + r * C, ar, br, y + r * C);
        const T s = kernel::sum<C>(tmp);
        if constexpr (Acc) d[0] += s;
        else d[0] = s;
      }
    }
  }
  // An operand's rule, scaled by alpha in a fused training step.
  template <std::size_t Rx, std::size_t Cx, bool Acc, bool Scaled, class Rule, class T>
  static CTNN_INLINE void operand_rule(Rule rule, const T* g, const T* y, const T* av, const T* bv, T* dx,
                                       T alpha) noexcept {
    if constexpr (Scaled)
      reduce_into<Rx, Cx, Acc>([rule, alpha](auto gg, auto x, auto z, auto yy) { return rule(gg, x, z, yy) * decltype(gg)(alpha); },
                               g, y, av, bv, dx);
    else
      reduce_into<Rx, Cx, Acc>(rule, g, y, av, bv, dx);
  }
};

/// The rules of y = alpha·x + beta, shared by Affine1 and the runtime tape: the value lane and
/// the adjoint lane dx = g · alpha (al is alpha converted to the scalar type once).
/// Plain `inline` and by value on purpose: so the static tape's code is unchanged (docs/design.md).
template <class V>
inline V affine_lane(V x, double alpha, double beta) noexcept {
  using S = simd::scalar_t<V>;
  return x * V(static_cast<S>(alpha)) + V(static_cast<S>(beta));
}
template <class V, class T>
inline V affine_adjoint(V g, T al) noexcept {
  return g * V(al);
}

/// y = alpha·x + beta with runtime constants (scaling, x + c, c - x, x / c).
template <class A>
struct Affine1 : NodeBase<typename A::scalar, A::rows, A::cols> {
  using children = meta::TypeList<A>;
  A a;
  double alpha = 1, beta = 0;
  Affine1(A a_, double al, double be) : a(std::move(a_)), alpha(al), beta(be) {}
  bool same_payload(const Affine1& o) const noexcept { return alpha == o.alpha && beta == o.beta; }
  static constexpr bool has_payload = true;

  static constexpr bool elementwise = true;
  static constexpr bool needs_own_value = false;
  static constexpr std::array<bool, 2> needs_child_values{false, false};
  template <class V>
  CTNN_INLINE V lane(const V& x) const noexcept {
    return affine_lane(x, alpha, beta);
  }
  template <bool Acc, class T>
  CTNN_INLINE void backward_a(const T* g, const T*, const T*, T* dx) const noexcept {
    const T al = static_cast<T>(alpha);
    kernel::map<A::size, Acc>([al](auto v) { return affine_adjoint(v, al); }, dx, g);
  }
};

template <class A>
CTNN_INLINE auto affine1(A a, double alpha, double beta) {
  return Affine1<std::remove_cvref_t<A>>(std::move(a), alpha, beta);
}

template <class Op, class A, class B>
CTNN_INLINE auto binary(A a, B b) {
  return Binary<Op, std::remove_cvref_t<A>, std::remove_cvref_t<B>>(std::move(a), std::move(b));
}

template <class S>
concept Number = std::is_arithmetic_v<S>;

template <Expression A, Expression B> CTNN_INLINE auto operator+(A a, B b) { return binary<ops::Add>(std::move(a), std::move(b)); }
template <Expression A, Expression B> CTNN_INLINE auto operator-(A a, B b) { return binary<ops::Sub>(std::move(a), std::move(b)); }
template <Expression A, Expression B> CTNN_INLINE auto operator*(A a, B b) { return binary<ops::Mul>(std::move(a), std::move(b)); }
template <Expression A, Expression B> CTNN_INLINE auto operator/(A a, B b) { return binary<ops::Div>(std::move(a), std::move(b)); }

template <Expression A, Number S> CTNN_INLINE auto operator*(A a, S s) { return affine1(std::move(a), double(s), 0.0); }
template <Expression A, Number S> CTNN_INLINE auto operator*(S s, A a) { return affine1(std::move(a), double(s), 0.0); }
template <Expression A, Number S> CTNN_INLINE auto operator/(A a, S s) { return affine1(std::move(a), 1.0 / double(s), 0.0); }
template <Expression A, Number S> CTNN_INLINE auto operator+(A a, S s) { return affine1(std::move(a), 1.0, double(s)); }
template <Expression A, Number S> CTNN_INLINE auto operator+(S s, A a) { return affine1(std::move(a), 1.0, double(s)); }
template <Expression A, Number S> CTNN_INLINE auto operator-(A a, S s) { return affine1(std::move(a), 1.0, -double(s)); }
template <Expression A, Number S> CTNN_INLINE auto operator-(S s, A a) { return affine1(std::move(a), -1.0, double(s)); }
template <Expression A> CTNN_INLINE auto operator-(A a) { return affine1(std::move(a), -1.0, 0.0); }

}  // namespace ctnn::ad
