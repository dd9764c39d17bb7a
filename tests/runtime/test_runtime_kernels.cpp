// tests/runtime/test_runtime_kernels.cpp: the runtime tape's matrix products (ad/runtime/kernels.hpp,
// sizes known at run time) give the compile-time products' numbers (kernel/gemm.hpp) bit for bit,
// overwrite and accumulate, agree with a double triple loop, and write nothing past the end of C:
//   * double: the runtime loops repeat kernel/'s operation order;
//   * float: the runtime tape calls kernel/'s float tiles (512-bit on AVX-512 builds; the K <= 4
//     and 3 x 4 register-blocked ones on AVX), blocked differently (rows 3 or 8 at a time, then
//     one; columns 8 / 48 / 4 at a time, then fewer), which must not change any output.
// The shapes take every path of kernel::gemm_nt / gemm_bcast (on a build with AVX-512; the others
// take the rest) and every remainder of the blockings and of K.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <vector>

#include "../kernel/gemm_check.hpp"  // Form, reference_entry
#include "ctnn/ad/runtime/kernels.hpp"
#include "ctnn/core/aligned.hpp"
#include "ctnn/kernel/gemm.hpp"

namespace {

namespace rk = ctnn::ad::runtime::kernel;
using ctnn::test::gemm::Form;
using ctnn::test::gemm::reference_entry;

template <class T, Form F, std::size_t M, std::size_t N, std::size_t K, bool Acc>
void check_one() {
  constexpr std::size_t pad = 16;
  ctnn::AlignedBuffer<T> a(M * K), b(N * K), c1(M * N + pad), c2(M * N + pad);
  for (std::size_t i = 0; i < M * K; ++i) a[i] = static_cast<T>(std::sin(0.37 * static_cast<double>(i) + 0.1));
  for (std::size_t i = 0; i < N * K; ++i) b[i] = static_cast<T>(std::cos(0.11 * static_cast<double>(i) + 0.2));
  for (std::size_t i = 0; i < M * N + pad; ++i) c1[i] = c2[i] = static_cast<T>(0.25 * static_cast<double>(i % 7) - 0.5);
  const std::vector<T> before(c1.begin(), c1.end());
  if constexpr (F == Form::nt) {
    ctnn::kernel::gemm_nt<M, N, K, Acc>(a.data(), b.data(), c1.data());
    rk::gemm_nt(Acc, M, N, K, a.data(), b.data(), c2.data());
  } else if constexpr (F == Form::nn) {
    ctnn::kernel::gemm_nn<M, N, K, Acc>(a.data(), b.data(), c1.data());
    rk::gemm_nn(Acc, M, N, K, a.data(), b.data(), c2.data());
  } else {
    ctnn::kernel::gemm_tn<M, N, K, Acc>(a.data(), b.data(), c1.data());
    rk::gemm_tn(Acc, M, N, K, a.data(), b.data(), c2.data());
  }
  INFO("form " << static_cast<int>(F) << " M " << M << " N " << N << " K " << K << " acc " << Acc);
  for (std::size_t i = M * N; i < M * N + pad; ++i) {
    CHECK(c1[i] == before[i]);
    CHECK(c2[i] == before[i]);
  }
  CHECK(std::memcmp(c1.data(), c2.data(), M * N * sizeof(T)) == 0);
  const double tol = (std::is_same_v<T, float> ? 2e-6 : 1e-14) * static_cast<double>(K);
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) {
      const double s = reference_entry<F>(a.data(), b.data(), M, N, K, m, n);
      const double want = Acc ? static_cast<double>(before[m * N + n]) + s : s;
      CHECK(std::abs(static_cast<double>(c2[m * N + n]) - want) <= tol * (1 + std::abs(want)));
    }
}

template <class T, Form F, std::size_t M, std::size_t N, std::size_t K>
void check() {
  check_one<T, F, M, N, K, false>();
  check_one<T, F, M, N, K, true>();
}

}  // namespace

TEST_CASE("runtime gemm_nt = kernel::gemm_nt, shapes of the 512-bit dot-product tiles (float)") {
  using ctnn::kernel::detail::wide_nt;
  static_assert(wide_nt(5, 13, 100) && wide_nt(64, 37, 70) && wide_nt(2, 8, 200) && wide_nt(1, 30, 80) &&
                wide_nt(3, 16, 64) && wide_nt(64, 128, 784));
  check<float, Form::nt, 5, 13, 100>();   // M % 3 = 2, N % 8 = 5 (4 + 1), K % 16 = 4
  check<float, Form::nt, 64, 37, 70>();   // M % 3 = 1, N % 8 = 5, K % 16 = 6
  check<float, Form::nt, 2, 8, 200>();    // two rows (kernel: a 2 x 8 tile; here one by one)
  check<float, Form::nt, 1, 30, 80>();    // a single sample, N % 8 = 6 (4 + 1 + 1)
  check<float, Form::nt, 3, 16, 64>();    // exact tiles, K % 16 = 0
  check<float, Form::nt, 64, 128, 784>(); // Fashion-MNIST's first layer
}

TEST_CASE("runtime gemm_nn / gemm_tn = kernel's, shapes of the 512-bit broadcast tiles (float)") {
  using ctnn::kernel::detail::wide_bcast;
  static_assert(wide_bcast(13, 40, 7) && wide_bcast(64, 100, 10) && wide_bcast(9, 48, 5) && wide_bcast(1, 33, 70) &&
                wide_bcast(20, 130, 3) && wide_bcast(128, 784, 64));
  // For gemm_bcast every output is one FMA chain over k at any vector width: identical on every build.
  check<float, Form::nn, 13, 40, 7>();    // M % 8 = 5, N = 16 + 16 + 8 (masked)
  check<float, Form::nn, 64, 100, 10>();  // N = 48 + 48 + 4
  check<float, Form::nn, 9, 48, 5>();     // one exact panel, M % 8 = 1
  check<float, Form::nn, 1, 33, 70>();    // a single row, N = 16 + 16 + 1
  check<float, Form::tn, 13, 40, 7>();
  check<float, Form::tn, 20, 130, 3>();   // N = 48 + 48 + 16 + 16 + 2
  check<float, Form::tn, 128, 784, 64>(); // Fashion-MNIST's first weight gradient
}

TEST_CASE("runtime products = kernel's below the 512-bit size rule (float)") {
  using ctnn::kernel::detail::wide_nt;
  static_assert(!wide_nt(7, 10, 40) && !wide_nt(8, 5, 20) && !wide_nt(64, 10, 32) && !wide_nt(4, 3, 3));
  check<float, Form::nt, 7, 10, 40>();  // 256-bit 3 x 4 tiles: M % 3 = 1, N % 4 = 2, K % 8 = 0
  check<float, Form::nt, 8, 5, 20>();   // M % 3 = 2, N % 4 = 1, K % 8 = 4
  check<float, Form::nt, 64, 10, 32>(); // 64-32-10's second layer at batch 64
  check<float, Form::nt, 5, 7, 13>();   // K < 16: one row at a time, 8 outputs per haddp
  check<float, Form::nt, 2, 9, 30>();   // two rows
  check<float, Form::nt, 4, 3, 3>();    // K <= 4: 128-bit, N % 4 = 3
  check<float, Form::nt, 3, 9, 4>();    // K = 4, N = 4 + 4 + 1
  check<float, Form::nt, 1, 5, 1>();    // K = 1
  check<float, Form::nt, 1, 1, 5>();    // one output, K = 4 + 1 (kernel: a 128-bit dot and one FMA)
  check<float, Form::nt, 2, 9, 13>();   // N % 8 = 1, K % 8 = 5 (the lone column: 4 + 1 after the chain)
  check<float, Form::nt, 1, 1, 14>();   // K % 8 = 6
  check<float, Form::nt, 1, 17, 23>();  // K % 8 = 7
  check<float, Form::nt, 1, 10, 32>();  // 64-32-10's second layer, one sample: 8 columns, then a tile of 2
  check<float, Form::nt, 2, 12, 20>();  // a last tile of 4 columns, K % 8 = 4
  check<float, Form::nt, 1, 6, 9>();    // one tile of 6 columns, K % 8 = 1
  check<float, Form::nt, 3, 3, 7>();    // K < 16: one row at a time, a tile of 3, K % 8 = 7
  check<float, Form::nn, 7, 10, 6>();   // narrow broadcast tiles: one chain per output
  check<float, Form::tn, 6, 5, 9>();
}

TEST_CASE("runtime products = kernel's (double, every path)") {
  check<double, Form::nt, 5, 13, 100>();
  check<double, Form::nt, 64, 37, 70>();
  check<double, Form::nt, 7, 10, 40>();
  check<double, Form::nt, 1, 30, 80>();
  check<double, Form::nn, 13, 40, 7>();
  check<double, Form::nn, 64, 100, 10>();
  check<double, Form::tn, 20, 130, 3>();
  check<double, Form::tn, 6, 5, 9>();
  check<double, Form::nt, 1, 3, 7>();  // a last tile of 3 columns, K % 4 = 3
}
