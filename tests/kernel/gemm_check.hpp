// The fixed-size matrix products (kernel/gemm.hpp) against a double-precision triple loop, in
// float and double, for shapes that reach every code path: one row (gemv), K <= 4 (128-bit
// tiles), batched rows with the 3 x 4 register tiles and every remainder (M % 3, N % 4, K % 8),
// the broadcast tiles of gemm_nn / gemm_tn, and the Acc (+=) and Scaled (alpha ·) variants. The
// outputs carry sentinels past their end that must stay untouched. On AVX-512 float, the 512-bit
// tiles (dot-product 3 x 8, broadcast 8 x 48, masked tails) and the flat outer-product update. One TU per scalar type
// (test_gemm_float.cpp, test_gemm_double.cpp) to keep each compile short.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <vector>

#include "ctnn/core/aligned.hpp"
#include "ctnn/kernel/gemm.hpp"

namespace ctnn::test::gemm {

enum class Form { nt, nn, tn };

/// C[m, n] of the product in double, operands in Form F's layouts (nt A[M,K] B[N,K]; nn A[M,K]
/// B[K,N]; tn A[K,M] B[K,N]): the triple loop every SIMD product is checked against.
template <Form F, class T>
double reference_entry(const T* a, const T* b, std::size_t M, std::size_t N, std::size_t K, std::size_t m,
                       std::size_t n) {
  double s = 0;
  for (std::size_t k = 0; k < K; ++k) {
    const double x = F == Form::tn ? static_cast<double>(a[k * M + m]) : static_cast<double>(a[m * K + k]);
    const double y = F == Form::nt ? static_cast<double>(b[n * K + k]) : static_cast<double>(b[k * N + n]);
    s += x * y;
  }
  return s;
}

/// One product's operands (Form F's layouts: nt A[M,K] B[N,K]; nn A[M,K] B[K,N]; tn A[K,M] B[K,N])
/// and C[M,N] followed by sentinels, filled with fixed values; C's starting values are kept.
template <class T>
struct Operands {
  static constexpr std::size_t pad = 16;
  std::size_t M, N, K;
  ctnn::AlignedBuffer<T> a, b, c;
  std::vector<double> before;
  Operands(std::size_t m, std::size_t n, std::size_t k) : M(m), N(n), K(k), a(m * k), b(n * k), c(m * n + pad) {
    for (std::size_t i = 0; i < M * K; ++i) a[i] = static_cast<T>(std::sin(0.37 * static_cast<double>(i) + 0.1));
    for (std::size_t i = 0; i < N * K; ++i) b[i] = static_cast<T>(std::cos(0.11 * static_cast<double>(i) + 0.2));
    for (std::size_t i = 0; i < M * N + pad; ++i) c[i] = static_cast<T>(0.25 * static_cast<double>(i % 7) - 0.5);
    before.assign(c.begin(), c.end());
  }
};

/// Checks C after the product (C = [C +] [alpha ·] op(A) op(B)) entry by entry against the triple
/// loop, and that the sentinels past C are untouched. A plain function of the sizes: only the
/// kernel call is instantiated per shape, which keeps these TUs' compiles short.
template <Form F, class T>
void verify(const Operands<T>& o, bool acc, bool scaled, T alpha) {
  const double tol = std::is_same_v<T, float> ? 2e-6 * static_cast<double>(o.K) : 1e-14 * static_cast<double>(o.K);
  for (std::size_t m = 0; m < o.M; ++m)
    for (std::size_t n = 0; n < o.N; ++n) {
      double s = reference_entry<F>(o.a.data(), o.b.data(), o.M, o.N, o.K, m, n);
      if (scaled) s *= static_cast<double>(alpha);
      const double want = acc ? o.before[m * o.N + n] + s : s;
      INFO("form " << static_cast<int>(F) << " M " << o.M << " N " << o.N << " K " << o.K << " acc " << acc
                   << " scaled " << scaled << " at (" << m << ", " << n << ")");
      CHECK(std::abs(static_cast<double>(o.c[m * o.N + n]) - want) <= tol * (1 + std::abs(want)));
    }
  for (std::size_t i = o.M * o.N; i < o.M * o.N + Operands<T>::pad; ++i) CHECK(static_cast<double>(o.c[i]) == o.before[i]);
}

template <class T, Form F, std::size_t M, std::size_t N, std::size_t K, bool Acc, bool Scaled>
void check_one() {
  Operands<T> o(M, N, K);
  const T alpha = T(-0.375);
  if constexpr (F == Form::nt) ctnn::kernel::gemm_nt<M, N, K, Acc, Scaled>(o.a.data(), o.b.data(), o.c.data(), alpha);
  if constexpr (F == Form::nn) ctnn::kernel::gemm_nn<M, N, K, Acc, Scaled>(o.a.data(), o.b.data(), o.c.data(), alpha);
  if constexpr (F == Form::tn) ctnn::kernel::gemm_tn<M, N, K, Acc, Scaled>(o.a.data(), o.b.data(), o.c.data(), alpha);
  verify<F>(o, Acc, Scaled, alpha);
}

template <class T, Form F, std::size_t M, std::size_t N, std::size_t K>
void check_variants() {
  check_one<T, F, M, N, K, false, false>();
  check_one<T, F, M, N, K, true, false>();
  check_one<T, F, M, N, K, false, true>();
  check_one<T, F, M, N, K, true, true>();
}

template <class T, Form F>
void check_shapes() {
  check_variants<T, F, 1, 10, 64>();   // gemv
  check_variants<T, F, 1, 5, 4>();     // K <= 4
  check_variants<T, F, 2, 3, 3>();
  check_variants<T, F, 3, 4, 16>();    // one 3 x 4 tile
  check_variants<T, F, 7, 10, 40>();   // M % 3 = 1, N % 4 = 2
  check_variants<T, F, 8, 13, 37>();   // M % 3 = 2, N % 4 = 1, K % 8 = 5
  check_variants<T, F, 64, 12, 50>();  // a batch
  check_variants<T, F, 6, 33, 1>();    // outer product (tn)
  // AVX-512 float paths (others take the tiles above, which is checked the same way):
  check_variants<T, F, 5, 4, 1>();     // a 4-float-row outer-product update as one flat 16-float FMA, + 1 row
  check_variants<T, F, 8, 4, 1>();     // two flat blocks
  check_variants<T, F, 5, 11, 83>();   // 512-bit dot-product tiles 3 x 8: M % 3 = 2, N % 8 = 3, K % 16 = 3
  check_variants<T, F, 6, 16, 64>();   // exact 3 x 8 tiles, K % 16 = 0
  check_variants<T, F, 9, 50, 10>();   // 512-bit broadcast tiles 8 x 48: M % 8 = 1, N % 48 = 2 (masked vector)
  check_variants<T, F, 16, 96, 3>();   // exact 8 x 48 tiles
  check_variants<T, F, 64, 70, 1>();   // 512-bit outer-product update
  check_variants<T, F, 32, 64, 1>();   // the same at the smallest size that takes it (64-32-10's first layer)
  check_variants<T, F, 1, 40, 64>();   // a single sample on 512-bit dot-product tiles (1 x 8)
  check_variants<T, F, 2, 13, 80>();   // 2 x 8 tiles, N % 8 = 5, K % 16 = 0
  // Tails of 5..7 floats run as 4 lanes + the rest (simd::split_tail):
  check_variants<T, F, 1, 1, 5>();     // a 4-5-1 net's output layer: one dot product, K = 4 + 1
  check_variants<T, F, 2, 1, 7>();     // K = 4 + 3 (a 128-bit rest), row by row
  check_variants<T, F, 1, 9, 13>();    // one full batch of K, then 4 + 1; N % 8 = 1
  check_variants<T, F, 4, 22, 3>();    // broadcast tiles of 16 columns + 6 (4 + 2), 4 rows
  check_variants<T, F, 1, 39, 2>();    // broadcast tiles of 32 columns + 7 (4 + 3), one row
}

}  // namespace ctnn::test::gemm
