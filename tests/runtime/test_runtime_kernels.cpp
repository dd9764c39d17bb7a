// tests/runtime/test_runtime_kernels.cpp: the runtime tape's matrix products (ad/runtime/kernels.hpp,
// sizes known at run time) give the compile-time products' numbers (kernel/gemm.hpp) bit for bit,
// overwrite and accumulate, and write nothing past the end of C:
//   * double, every shape: the runtime loops repeat kernel/'s operation order;
//   * float on AVX-512 builds, the shapes that take the 512-bit tiles (the size rule
//     kernel::detail::wide_nt / wide_bcast): the runtime tape calls the same tiles, blocked
//     differently (rows 3 or 8 at a time, then one; columns 8 / 48 at a time, then fewer), which
//     must not change any output. Shapes cover every remainder of those blockings and of K.
// Float shapes below the rule take kernel/'s 256-bit shortcuts, which the runtime tape does not
// repeat: they are checked against a double triple loop instead.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
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
void check_one(bool identical) {
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
  if (identical) {
    CHECK(std::memcmp(c1.data(), c2.data(), M * N * sizeof(T)) == 0);
    return;
  }
  const double tol = 2e-6 * static_cast<double>(K);
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) {
      const double s = reference_entry<F>(a.data(), b.data(), M, N, K, m, n);
      const double want = Acc ? static_cast<double>(before[m * N + n]) + s : s;
      CHECK(std::abs(static_cast<double>(c2[m * N + n]) - want) <= tol * (1 + std::abs(want)));
    }
}

template <class T, Form F, std::size_t M, std::size_t N, std::size_t K>
void check(bool identical) {
  check_one<T, F, M, N, K, false>(identical);
  check_one<T, F, M, N, K, true>(identical);
}

#if defined(CTNN_SIMD_512)
constexpr bool wide_same = true;  // the runtime tape runs kernel/'s 512-bit tiles
#else
constexpr bool wide_same = false;
#endif

}  // namespace

TEST_CASE("runtime gemm_nt = kernel::gemm_nt on the 512-bit dot-product tiles (float)") {
  using ctnn::kernel::detail::wide_nt;
  static_assert(wide_nt(5, 13, 100) && wide_nt(64, 37, 70) && wide_nt(2, 8, 200) && wide_nt(1, 30, 80) &&
                wide_nt(3, 16, 64) && wide_nt(64, 128, 784));
  check<float, Form::nt, 5, 13, 100>(wide_same);   // M % 3 = 2, N % 8 = 5 (4 + 1), K % 16 = 4
  check<float, Form::nt, 64, 37, 70>(wide_same);   // M % 3 = 1, N % 8 = 5, K % 16 = 6
  check<float, Form::nt, 2, 8, 200>(wide_same);    // two rows (kernel: a 2 x 8 tile; here one by one)
  check<float, Form::nt, 1, 30, 80>(wide_same);    // a single sample, N % 8 = 6 (4 + 1 + 1)
  check<float, Form::nt, 3, 16, 64>(wide_same);    // exact tiles, K % 16 = 0
  check<float, Form::nt, 64, 128, 784>(wide_same); // Fashion-MNIST's first layer
}

TEST_CASE("runtime gemm_nn / gemm_tn = kernel's on the 512-bit broadcast tiles (float)") {
  using ctnn::kernel::detail::wide_bcast;
  static_assert(wide_bcast(13, 40, 7) && wide_bcast(64, 100, 10) && wide_bcast(9, 48, 5) && wide_bcast(1, 33, 70) &&
                wide_bcast(20, 130, 3) && wide_bcast(128, 784, 64));
  // For gemm_bcast every output is one FMA chain over k at any vector width: identical on every build.
  check<float, Form::nn, 13, 40, 7>(true);    // M % 8 = 5, N = 16 + 16 + 8 (masked)
  check<float, Form::nn, 64, 100, 10>(true);  // N = 48 + 48 + 4
  check<float, Form::nn, 9, 48, 5>(true);     // one exact panel, M % 8 = 1
  check<float, Form::nn, 1, 33, 70>(true);    // a single row, N = 16 + 16 + 1
  check<float, Form::tn, 13, 40, 7>(true);
  check<float, Form::tn, 20, 130, 3>(true);   // N = 48 + 48 + 16 + 16 + 2
  check<float, Form::tn, 128, 784, 64>(true); // Fashion-MNIST's first weight gradient
}

TEST_CASE("runtime products below the 512-bit size rule (float): correct, nothing written past C") {
  using ctnn::kernel::detail::wide_nt;
  static_assert(!wide_nt(7, 10, 40) && !wide_nt(8, 5, 20) && !wide_nt(4, 3, 3));
  check<float, Form::nt, 7, 10, 40>(false);  // kernel: 256-bit 3 x 4 tiles (not repeated at run time)
  check<float, Form::nt, 8, 5, 20>(false);
  check<float, Form::nt, 4, 3, 3>(false);    // kernel: K <= 4, 128-bit
  check<float, Form::nn, 7, 10, 6>(true);    // narrow broadcast tiles: one chain per output
  check<float, Form::tn, 6, 5, 9>(true);
}

TEST_CASE("runtime products = kernel's (double, every path)") {
  check<double, Form::nt, 5, 13, 100>(true);
  check<double, Form::nt, 64, 37, 70>(true);
  check<double, Form::nt, 7, 10, 40>(true);
  check<double, Form::nt, 1, 30, 80>(true);
  check<double, Form::nn, 13, 40, 7>(true);
  check<double, Form::nn, 64, 100, 10>(true);
  check<double, Form::tn, 20, 130, 3>(true);
  check<double, Form::tn, 6, 5, 9>(true);
}
