// ctnn/ad/reduce.hpp: reductions and row-wise nodes: sum and mean (to a 1 x 1 scalar), row_sum
// (R x C to R x 1), softmax and log-sum-exp along each row (one sample per row). softmax and
// log-sum-exp subtract the row maximum, so [1000, 1000, 0] and [-1000, -1000, -1000] are exact.
// Layer: ad.
#pragma once
#include <array>
#include <cstddef>
#include <utility>

#include "ctnn/ad/expr.hpp"
#include "ctnn/kernel/map.hpp"
#include "ctnn/kernel/reduce.hpp"

namespace ctnn::ad {

/// The lane rules of softmax and log-sum-exp, shared by the nodes below and the runtime tape:
/// e^{v − m} (m the row maximum), the softmax adjoint y ⊙ (g − ⟨g, y⟩) (d = ⟨g, y⟩ of the row) and
/// the log-sum-exp adjoint g_r · softmax(x_r) = (g_r / Σ_r) · e^{x − m} from the forward's own
/// exponentials e and 1/Σ_r (kept in the node's scratch: no second exp, and the log is not on the
/// adjoint's path).
/// Plain `inline` and by value on purpose: so the static tape's code is unchanged (docs/design.md).
template <class V, class T>
inline V shifted_exp(V v, T m) noexcept {
  return simd::exp(v - V(m));
}
template <class V, class T>
inline V softmax_adjoint(V g, V y, T d) noexcept {
  return y * (g - V(d));
}
template <class V, class T>
inline V logsumexp_adjoint(V e, T g_over_sum) noexcept {
  return V(g_over_sum) * e;
}

template <class A>
struct Sum : NodeBase<typename A::scalar, 1, 1> {
  using children = meta::TypeList<A>;
  A a;
  static constexpr bool needs_own_value = false;
  static constexpr std::array<bool, 2> needs_child_values{false, false};
  explicit Sum(A a_) : a(std::move(a_)) {}
  bool same_payload(const Sum&) const noexcept { return true; }
  template <class T>
  CTNN_INLINE void forward(T* y, const T* x) const noexcept { y[0] = kernel::sum<A::size>(x); }
  template <bool Acc, class T>
  CTNN_INLINE void backward_a(const T* g, const T*, const T*, T* dx) const noexcept {
    kernel::fill<A::size, Acc>(dx, g[0]);
  }
};

template <class A>
struct Mean : NodeBase<typename A::scalar, 1, 1> {
  using children = meta::TypeList<A>;
  A a;
  static constexpr bool needs_own_value = false;
  static constexpr std::array<bool, 2> needs_child_values{false, false};
  explicit Mean(A a_) : a(std::move(a_)) {}
  bool same_payload(const Mean&) const noexcept { return true; }
  template <class T>
  CTNN_INLINE void forward(T* y, const T* x) const noexcept {
    y[0] = kernel::sum<A::size>(x) / static_cast<T>(A::size);
  }
  template <bool Acc, class T>
  CTNN_INLINE void backward_a(const T* g, const T*, const T*, T* dx) const noexcept {
    kernel::fill<A::size, Acc>(dx, g[0] / static_cast<T>(A::size));
  }
};

template <class A>
struct RowSum : NodeBase<typename A::scalar, A::rows, 1> {
  using children = meta::TypeList<A>;
  A a;
  static constexpr bool needs_own_value = false;
  static constexpr std::array<bool, 2> needs_child_values{false, false};
  explicit RowSum(A a_) : a(std::move(a_)) {}
  bool same_payload(const RowSum&) const noexcept { return true; }
  template <class T>
  CTNN_INLINE void forward(T* y, const T* x) const noexcept {
    for (std::size_t r = 0; r < A::rows; ++r) y[r] = kernel::sum<A::cols>(x + r * A::cols);
  }
  template <bool Acc, class T>
  CTNN_INLINE void backward_a(const T* g, const T*, const T*, T* dx) const noexcept {
    for (std::size_t r = 0; r < A::rows; ++r) kernel::fill<A::cols, Acc>(dx + r * A::cols, g[r]);
  }
};

template <class A>
struct Softmax : NodeBase<typename A::scalar, A::rows, A::cols> {
  using children = meta::TypeList<A>;
  static constexpr std::size_t R = A::rows, C = A::cols;
  A a;
  static constexpr bool needs_own_value = true;
  static constexpr std::array<bool, 2> needs_child_values{false, false};
  explicit Softmax(A a_) : a(std::move(a_)) {}
  bool same_payload(const Softmax&) const noexcept { return true; }
  template <class T>
  CTNN_INLINE void forward(T* y, const T* x) const noexcept {
    for (std::size_t r = 0; r < R; ++r) {
      const T* xr = x + r * C;
      T* yr = y + r * C;
      const T m = kernel::max<C>(xr);
      kernel::map<C>([m](auto v) { return shifted_exp(v, m); }, yr, xr);
      const T inv = T(1) / kernel::sum<C>(yr);
      kernel::scale_inplace<C>(yr, inv);
    }
  }
  // dx = y ⊙ (g − ⟨g, y⟩) per row
  template <bool Acc, class T>
  CTNN_INLINE void backward_a(const T* g, const T* y, const T*, T* dx) const noexcept {
    for (std::size_t r = 0; r < R; ++r) {
      const T d = kernel::dot<C>(g + r * C, y + r * C);
      kernel::map<C, Acc>([d](auto gv, auto yv) { return softmax_adjoint(gv, yv, d); }, dx + r * C, g + r * C,
                          y + r * C);
    }
  }
};

template <class A>
struct LogSumExp : NodeBase<typename A::scalar, A::rows, 1> {
  using children = meta::TypeList<A>;
  static constexpr std::size_t R = A::rows, C = A::cols;
  // Scratch: e = e^{x − m} (R x C), then 1/Σ_r e per row; the adjoint reads them.
  static constexpr std::size_t aux_size = R * C + R;
  A a;
  static constexpr bool needs_own_value = true;
  static constexpr std::array<bool, 2> needs_child_values{false, false};
  explicit LogSumExp(A a_) : a(std::move(a_)) {}
  bool same_payload(const LogSumExp&) const noexcept { return true; }
  template <class T>
  CTNN_INLINE void forward(T* y, const T* x) const noexcept {
    T* e = y + LogSumExp::aux_offset;
    T* inv = e + R * C;
    for (std::size_t r = 0; r < R; ++r) {
      const T* xr = x + r * C;
      const T m = kernel::max<C>(xr);
      kernel::map<C>([m](auto v) { return shifted_exp(v, m); }, e + r * C, xr);
      const T s = kernel::sum<C>(e + r * C);
      inv[r] = T(1) / s;
      y[r] = m + simd::log(s);
    }
  }
  // dx = g_r · softmax(x_r) = (g_r / Σ_r) · e^{x − m}
  template <bool Acc, class T>
  CTNN_INLINE void backward_a(const T* g, const T* y, const T*, T* dx) const noexcept {
    const T* e = y + LogSumExp::aux_offset;
    const T* inv = e + R * C;
    for (std::size_t r = 0; r < R; ++r) {
      const T gs = g[r] * inv[r];
      kernel::map<C, Acc>([gs](auto v) { return logsumexp_adjoint(v, gs); }, dx + r * C, e + r * C);
    }
  }
};

template <Expression A> CTNN_INLINE auto sum(A a) { return Sum<std::remove_cvref_t<A>>(std::move(a)); }
template <Expression A> CTNN_INLINE auto mean(A a) { return Mean<std::remove_cvref_t<A>>(std::move(a)); }
template <Expression A> CTNN_INLINE auto row_sum(A a) { return RowSum<std::remove_cvref_t<A>>(std::move(a)); }
template <Expression A> CTNN_INLINE auto softmax(A a) { return Softmax<std::remove_cvref_t<A>>(std::move(a)); }
template <Expression A> CTNN_INLINE auto logsumexp(A a) { return LogSumExp<std::remove_cvref_t<A>>(std::move(a)); }

}  // namespace ctnn::ad
