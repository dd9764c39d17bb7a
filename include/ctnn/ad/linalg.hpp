// ctnn/ad/linalg.hpp: matrix nodes: MatMul (A B), MatMulNT (A Bᵀ, what matmul(a, transpose(b))
// becomes, so the Dense forward X Wᵀ reads W row by row), Transpose. Their rules are the
// textbook ones: for C = A B, dA = dC Bᵀ and dB = Aᵀ dC, each one fixed-size kernel call. A
// per-sample pass runs dB's per-row form (one outer product per batch row, see PerSampleMode).
// Layer: ad.
#pragma once
#include <array>
#include <cstddef>
#include <utility>

#include "ctnn/ad/expr.hpp"
#include "ctnn/core/diagnostics.hpp"
#include "ctnn/kernel/gemm.hpp"

namespace ctnn::ad {

template <class A>
struct Transpose : NodeBase<typename A::scalar, A::cols, A::rows> {
  using children = meta::TypeList<A>;
  A a;
  static constexpr bool needs_own_value = false;
  static constexpr std::array<bool, 2> needs_child_values{false, false};
  explicit Transpose(A a_) : a(std::move(a_)) {}
  bool same_payload(const Transpose&) const noexcept { return true; }
  template <class T>
  CTNN_INLINE void forward(T* y, const T* x) const noexcept {
    for (std::size_t r = 0; r < A::rows; ++r)
      for (std::size_t c = 0; c < A::cols; ++c) y[c * A::rows + r] = x[r * A::cols + c];
  }
  template <bool Acc, class T>
  CTNN_INLINE void backward_a(const T* g, const T*, const T*, T* dx) const noexcept {
    for (std::size_t r = 0; r < A::rows; ++r)
      for (std::size_t c = 0; c < A::cols; ++c) {
        if constexpr (Acc) dx[r * A::cols + c] += g[c * A::rows + r];
        else dx[r * A::cols + c] = g[c * A::rows + r];
      }
  }
};

/// C[M,N] = A[M,K] B[K,N]
template <class A, class B>
struct MatMul : NodeBase<operand_scalar<A, B>, A::rows, B::cols> {
  using children = meta::TypeList<A, B>;
  static constexpr std::size_t M = A::rows, K = A::cols, N = B::cols;
  static constexpr bool shapes_ok = diagnostic::matmul_inner_mismatch<A::rows, A::cols, B::rows, B::cols>::value;
  static_assert(shapes_ok || true);
  A a;
  B b;
  static constexpr bool needs_own_value = false;
  static constexpr std::array<bool, 2> needs_child_values{true, true};
  MatMul(A a_, B b_) : a(std::move(a_)), b(std::move(b_)) {}
  bool same_payload(const MatMul&) const noexcept { return true; }
  template <class T>
  CTNN_INLINE void forward(T* y, const T* av, const T* bv) const noexcept {
    if constexpr (shapes_ok) kernel::gemm_nn<M, N, K>(av, bv, y);
  }
  static constexpr bool supports_sink = true;  // backward rules take a scale (fused training step)
  template <bool Acc, bool Scaled = false, class T>  // dA[M,K] = g[M,N] B[K,N]ᵀ
  CTNN_INLINE void backward_a(const T* g, const T*, const T*, const T* bv, T* da, T alpha = T(1)) const noexcept {
    if constexpr (shapes_ok) kernel::gemm_nt<M, K, N, Acc, Scaled>(g, bv, da, alpha);
  }
  template <bool Acc, bool Scaled = false, class T>  // dB[K,N] = A[M,K]ᵀ g[M,N]
  CTNN_INLINE void backward_b(const T* g, const T*, const T* av, const T*, T* db, T alpha = T(1)) const noexcept {
    if constexpr (shapes_ok) kernel::gemm_tn<K, N, M, Acc, Scaled>(av, g, db, alpha);
  }
  // Per-sample mode (ad/tape_static.hpp, PerSampleMode): with the M rows of A the batch, dB is a
  // sum over them; the per-row rule keeps each row's term, dB_m = a_mᵀ g_m at db + m·Stride.
  template <std::size_t Operand, std::size_t Batch>
  static constexpr bool rows_rule() { return Operand == 1 && M == Batch; }
  template <bool Acc, std::size_t Stride, class T>
  CTNN_INLINE void backward_b_rows(const T* g, const T*, const T* av, const T*, T* db) const noexcept {
    if constexpr (shapes_ok)
      for (std::size_t m = 0; m < M; ++m) kernel::gemm_tn<K, N, 1, Acc>(av + m * K, g + m * N, db + m * Stride);
  }
};

/// C[M,N] = A[M,K] B[N,K]ᵀ
template <class A, class B>
struct MatMulNT : NodeBase<operand_scalar<A, B>, A::rows, B::rows> {
  using children = meta::TypeList<A, B>;
  static constexpr std::size_t M = A::rows, K = A::cols, N = B::rows;
  static constexpr bool shapes_ok = diagnostic::matmul_inner_mismatch<A::rows, A::cols, B::cols, B::rows>::value;
  static_assert(shapes_ok || true);
  A a;
  B b;
  static constexpr bool needs_own_value = false;
  static constexpr std::array<bool, 2> needs_child_values{true, true};
  MatMulNT(A a_, B b_) : a(std::move(a_)), b(std::move(b_)) {}
  bool same_payload(const MatMulNT&) const noexcept { return true; }
  template <class T>
  CTNN_INLINE void forward(T* y, const T* av, const T* bv) const noexcept {
    if constexpr (shapes_ok) kernel::gemm_nt<M, N, K>(av, bv, y);
  }
  static constexpr bool supports_sink = true;
  template <bool Acc, bool Scaled = false, class T>  // dA[M,K] = g[M,N] B[N,K]
  CTNN_INLINE void backward_a(const T* g, const T*, const T*, const T* bv, T* da, T alpha = T(1)) const noexcept {
    if constexpr (shapes_ok) kernel::gemm_nn<M, K, N, Acc, Scaled>(g, bv, da, alpha);
  }
  template <bool Acc, bool Scaled = false, class T>  // dB[N,K] = g[M,N]ᵀ A[M,K]
  CTNN_INLINE void backward_b(const T* g, const T*, const T* av, const T*, T* db, T alpha = T(1)) const noexcept {
    if constexpr (shapes_ok) kernel::gemm_tn<N, K, M, Acc, Scaled>(g, av, db, alpha);
  }
  // Per-sample mode (ad/tape_static.hpp, PerSampleMode): the Dense rule dW = Gᵀ X sums the batch
  // rows; the per-row rule keeps them apart, dW_m = g_m a_mᵀ (an outer product) at db + m·Stride.
  template <std::size_t Operand, std::size_t Batch>
  static constexpr bool rows_rule() { return Operand == 1 && M == Batch; }
  template <bool Acc, std::size_t Stride, class T>
  CTNN_INLINE void backward_b_rows(const T* g, const T*, const T* av, const T*, T* db) const noexcept {
    if constexpr (shapes_ok)
      for (std::size_t m = 0; m < M; ++m) kernel::gemm_tn<N, K, 1, Acc>(g + m * N, av + m * K, db + m * Stride);
  }
};

template <Expression A>
CTNN_INLINE auto transpose(A a) {
  return Transpose<std::remove_cvref_t<A>>(std::move(a));
}
template <Expression A, Expression B>
CTNN_INLINE auto matmul(A a, B b) {
  return MatMul<std::remove_cvref_t<A>, std::remove_cvref_t<B>>(std::move(a), std::move(b));
}
template <Expression A, Expression B>
CTNN_INLINE auto matmul(A a, Transpose<B> bt) {
  return MatMulNT<std::remove_cvref_t<A>, B>(std::move(a), std::move(bt.a));
}

}  // namespace ctnn::ad
