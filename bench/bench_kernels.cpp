// bench_kernels: the matrix-product kernels of kernel/gemm.hpp alone, at the shapes of the
// 784-128-10 and 784-256-128-64-10 batch-64 workloads (C and D of bench/peers), in GFLOP/s
// (counter "flops", multiply-adds counted as 2). Shows what the kernels reach against the core's
// FMA rate (bench_peers' fma_peak) without the rest of a pass.
//   taskset -c 1 build/bench/bench_kernels
#include <benchmark/benchmark.h>

#include <cstddef>
#include <random>
#include <vector>

#include "ctnn/core/aligned.hpp"
#include "ctnn/kernel/gemm.hpp"

namespace {

template <class T>
ctnn::AlignedBuffer<T> random_buffer(std::size_t n, unsigned seed) {
  ctnn::AlignedBuffer<T> b(n);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (std::size_t i = 0; i < n; ++i) b[i] = T(u(rng));
  return b;
}

// Times product(A, B, C) for an M x N result over K (A holds M·K floats, B N·K, in whatever layout
// the product reads) and reports its rate in FLOP/s.
template <std::size_t M, std::size_t N, std::size_t K, class Product>
void time_product(benchmark::State& st, Product product) {
  auto A = random_buffer<float>(M * K, 1), B = random_buffer<float>(N * K, 2), C = random_buffer<float>(M * N, 3);
  for (auto _ : st) {
    product(A.data(), B.data(), C.data());
    benchmark::DoNotOptimize(C.data());
    benchmark::ClobberMemory();
  }
  st.counters["flops"] = benchmark::Counter(double(st.iterations()) * 2.0 * M * N * K, benchmark::Counter::kIsRate);
}

// C[M,N] = A[M,K] B[N,K]ᵀ (a Dense forward: X Wᵀ)
template <std::size_t M, std::size_t N, std::size_t K>
void gemm_nt(benchmark::State& st) {
  time_product<M, N, K>(st, [](const float* a, const float* b, float* c) { ctnn::kernel::gemm_nt<M, N, K>(a, b, c); });
}
// C[M,N] += alpha A[K,M]ᵀ B[K,N] (a weight gradient applied in a fused step: W += -lr dZᵀ X)
template <std::size_t M, std::size_t N, std::size_t K>
void gemm_tn(benchmark::State& st) {
  time_product<M, N, K>(st, [](const float* a, const float* b, float* c) {
    ctnn::kernel::gemm_tn<M, N, K, true, true>(a, b, c, -1e-6f);
  });
}
// C[M,N] = A[M,K] B[K,N] (an input gradient: dX = dZ W)
template <std::size_t M, std::size_t N, std::size_t K>
void gemm_nn(benchmark::State& st) {
  time_product<M, N, K>(st, [](const float* a, const float* b, float* c) { ctnn::kernel::gemm_nn<M, N, K>(a, b, c); });
}

}  // namespace

BENCHMARK(gemm_nt<64, 128, 784>)->Name("nt 64x128x784 (C layer 1 forward)");
BENCHMARK(gemm_nt<64, 10, 128>)->Name("nt 64x10x128 (C layer 2 forward)");
BENCHMARK(gemm_nt<64, 256, 784>)->Name("nt 64x256x784 (D layer 1 forward)");
BENCHMARK(gemm_nt<64, 128, 256>)->Name("nt 64x128x256 (D layer 2 forward)");
BENCHMARK(gemm_nt<64, 64, 128>)->Name("nt 64x64x128 (D layer 3 forward)");
BENCHMARK(gemm_tn<128, 784, 64>)->Name("tn 128x784x64 (C dW1 step)");
BENCHMARK(gemm_tn<10, 128, 64>)->Name("tn 10x128x64 (C dW2 step)");
BENCHMARK(gemm_tn<256, 784, 64>)->Name("tn 256x784x64 (D dW1 step)");
BENCHMARK(gemm_nn<64, 128, 10>)->Name("nn 64x128x10 (C dH)");
BENCHMARK(gemm_nn<64, 256, 128>)->Name("nn 64x256x128 (D dH1)");

#if defined(CTNN_SIMD_512)
namespace {
template <std::size_t MR, std::size_t NR, std::size_t M, std::size_t N, std::size_t K>
void nt_wide(benchmark::State& st) {
  time_product<M, N, K>(st, [](const float* a, const float* b, float* c) {
    ctnn::kernel::detail::gemm_nt_wide<MR, NR, M, N, K, false, false>(a, b, c, 1.0f);
  });
}
}  // namespace
BENCHMARK(nt_wide<4, 4, 64, 128, 784>)->Name("ntw 4x4");
BENCHMARK(nt_wide<4, 6, 64, 128, 784>)->Name("ntw 4x6");
BENCHMARK(nt_wide<6, 4, 64, 128, 784>)->Name("ntw 6x4");
BENCHMARK(nt_wide<3, 8, 64, 128, 784>)->Name("ntw 3x8");
BENCHMARK(nt_wide<2, 8, 64, 128, 784>)->Name("ntw 2x8");
BENCHMARK(nt_wide<2, 12, 64, 128, 784>)->Name("ntw 2x12");
BENCHMARK(nt_wide<8, 3, 64, 128, 784>)->Name("ntw 8x3");
#endif

#if defined(CTNN_SIMD_512)
namespace {
template <std::size_t MR, std::size_t NV, std::size_t M, std::size_t N, std::size_t K>
void tn_wide(benchmark::State& st) {
  time_product<M, N, K>(st, [](const float* a, const float* b, float* c) {
    ctnn::kernel::detail::gemm_bcast_wide<MR, NV, M, N, K, 1, M, true, true>(a, b, c, -1e-6f);
  });
}
template <std::size_t MR, std::size_t NV, std::size_t M, std::size_t N, std::size_t K>
void nn_wide(benchmark::State& st) {
  time_product<M, N, K>(st, [](const float* a, const float* b, float* c) {
    ctnn::kernel::detail::gemm_bcast_wide<MR, NV, M, N, K, K, 1, false, false>(a, b, c, 1.0f);
  });
}
}  // namespace
BENCHMARK(tn_wide<4, 4, 128, 784, 64>)->Name("tnw 4x4");
BENCHMARK(tn_wide<6, 4, 128, 784, 64>)->Name("tnw 6x4");
BENCHMARK(tn_wide<8, 3, 128, 784, 64>)->Name("tnw 8x3");
BENCHMARK(tn_wide<12, 2, 128, 784, 64>)->Name("tnw 12x2");
BENCHMARK(tn_wide<4, 6, 128, 784, 64>)->Name("tnw 4x6");
BENCHMARK(nn_wide<4, 4, 64, 256, 128>)->Name("nnw 4x4");
BENCHMARK(nn_wide<6, 4, 64, 256, 128>)->Name("nnw 6x4");
BENCHMARK(nn_wide<8, 3, 64, 256, 128>)->Name("nnw 8x3");
BENCHMARK(nn_wide<12, 2, 64, 256, 128>)->Name("nnw 12x2");
#endif
BENCHMARK_MAIN();
