// bench/bench_per_sample.cpp: per-sample gradients of a batch (ctnn::per_sample_gradients, one
// forward and one reverse sweep over the batch, the batch-reducing rules run per row) against B
// single-sample passes (net.gradient<1> per sample, its gradient copied to row n), both filling the
// same B x P buffer. Workloads: 64-32-10 ReLU + softmax CE with B = 32, and 784-128-10 with B = 64
// (float). Both agree before timing (to float rounding). Prints the one-pass / B-passes ratio.
//
//   taskset -c 1 build/bench/bench_per_sample --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/nn/per_sample.hpp"
#include "median_reporter.hpp"

namespace {

template <std::size_t In, std::size_t Hidden, std::size_t B>
struct Workload {
  using Net = ctnn::Network<float, ctnn::Dense<In, Hidden>, ctnn::ReLU, ctnn::Dense<Hidden, 10>, ctnn::Identity>;
  static constexpr std::size_t batch = B, P = Net::num_params;
  Net net{2024};
  std::vector<float> x = std::vector<float>(B * In), y = std::vector<float>(B * 10, 0.0f);
  std::vector<float> rows = std::vector<float>(B * P);
  Workload() {
    ctnn::Random rng(9);
    for (float& v : x) v = static_cast<float>(rng.uniform(-1, 1));
    for (std::size_t n = 0; n < B; ++n) y[n * 10 + n % 10] = 1.0f;
  }
  static Workload& get() {
    static Workload w;
    return w;
  }
  void one_pass() { ctnn::per_sample_gradients<B>(net, ctnn::loss::softmax_cross_entropy, x.data(), y.data(), rows.data()); }
  void single_passes() {
    for (std::size_t n = 0; n < B; ++n) {
      net.template gradient<1>(ctnn::loss::softmax_cross_entropy, x.data() + n * In, y.data() + n * 10);
      std::copy(net.grads().begin(), net.grads().end(), rows.begin() + static_cast<std::ptrdiff_t>(n * P));
    }
  }
  // Max |one pass − single passes| / max |g|.
  double disagreement() {
    one_pass();
    const std::vector<float> a = rows;
    single_passes();
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      worst = std::max(worst, double(std::abs(a[i] - rows[i])));
      scale = std::max(scale, double(std::abs(rows[i])));
    }
    return worst / scale;
  }
};

using Small = Workload<64, 32, 32>;
using Mnist = Workload<784, 128, 64>;

template <class W>
void one_pass(benchmark::State& st) {
  auto& w = W::get();
  for (auto _ : st) {
    w.one_pass();
    benchmark::DoNotOptimize(w.rows.data());
    benchmark::ClobberMemory();
  }
}
template <class W>
void single_passes(benchmark::State& st) {
  auto& w = W::get();
  for (auto _ : st) {
    w.single_passes();
    benchmark::DoNotOptimize(w.rows.data());
    benchmark::ClobberMemory();
  }
}

BENCHMARK(one_pass<Small>)->Name("64-32-10_B32/one_pass");
BENCHMARK(single_passes<Small>)->Name("64-32-10_B32/single_passes");
BENCHMARK(one_pass<Mnist>)->Name("784-128-10_B64/one_pass");
BENCHMARK(single_passes<Mnist>)->Name("784-128-10_B64/single_passes");

// One pass / B passes, from the run's medians.
void print_ratios(const bench::MedianReporter& rep) {
  std::printf("\nper-sample gradients: one batch pass / B single-sample passes (median CPU time, float):\n");
  for (const char* wl : {"64-32-10_B32", "784-128-10_B64"}) {
    const auto o = rep.time(std::string(wl) + "/one_pass");
    const auto s = rep.time(std::string(wl) + "/single_passes");
    if (!o || !s) continue;
    std::printf("  %-16s one pass %11.1f ns   B passes %11.1f ns   ratio %.2f\n", wl, *o, *s, *o / *s);
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (const double d : {Small::get().disagreement(), Mnist::get().disagreement()})
    if (!(d <= 1e-5)) {
      std::fprintf(stderr, "bench_per_sample: one pass and single passes disagree (%g)\n", d);
      return EXIT_FAILURE;
    }
  return bench::run_with_medians(argc, argv, print_ratios);
}
