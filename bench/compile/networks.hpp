// bench/compile: the networks whose translation units are timed by compile_times.py. Each TU
// (net<N>.cpp) instantiates what a training program needs: a gradient and a forward pass at batch 64.
//
//   2 layers:  784-128-10              (Dense+ReLU, Dense)
//   4 layers:  784-256-128-64-10
//   8 layers:  8 × Dense<64,64> with ReLU between
//  16 layers: 16 × Dense<64,64> with ReLU between
#pragma once

#include "ctnn/ctnn.hpp"

#include <cstddef>

namespace compile_bench {

// Sequential<Dense<W,W>, ReLU, ..., Dense<W,W>> with N Dense layers.
template <std::size_t N, std::size_t W, class... Acc>
struct Repeat {
  using type = typename Repeat<N - 1, W, Acc..., ctnn::Dense<W, W>, ctnn::ReLU>::type;
};
template <std::size_t W, class... Acc>
struct Repeat<1, W, Acc...> {
  using type = ctnn::Sequential<Acc..., ctnn::Dense<W, W>>;
};

constexpr std::size_t kBatch = 64;

// The instantiations a training program makes; non-inline so the compiler must emit them.
#define CTNN_COMPILE_BENCH_TU(Net)                                                           \
  float train_gradient(Net& net, const float* x, const float* y) {                          \
    return net.gradient<compile_bench::kBatch>(ctnn::loss::softmax_cross_entropy, x, y);     \
  }                                                                                          \
  void run_forward(const Net& net, const float* x, float* out) {                             \
    net.forward<compile_bench::kBatch>(x, out);                                              \
  }

}  // namespace compile_bench
