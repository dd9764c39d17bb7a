// bench/bench_compress.cpp: the gradient compressors of ctnn/dist alone (no MPI), per step of a
// data-parallel run: TopK::compress (histogram of the magnitudes' top bits, then a selection inside
// one bucket; one selection over all below 16384 floats) against the plain way to the same result,
// std::nth_element over indices ordered by (magnitude, index) on residual + g; and Sign::compress.
// Gradients of the 784-128-10 (101,770 floats) and 64-64-10 (4,874) networks, k = 1%, error feedback
// on, a fresh normal gradient each step. Before timing, both top-k forms must pick the same entries
// on 20 steps. Prints ctnn / nth_element at the end.
//
//   taskset -c 1 build/bench/bench_compress --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "ctnn/dist/compress.hpp"
#include "median_reporter.hpp"

namespace {

// The plain top-k with error feedback: the same contract as ctnn::dist::TopK.
struct PlainTopK {
  std::size_t k;
  std::vector<float> r;
  std::vector<std::uint32_t> order;
  PlainTopK(std::size_t n, std::size_t k_) : k(k_), r(n, 0.0f), order(n) {}
  void compress(const std::vector<float>& g, std::vector<std::uint32_t>& idx, std::vector<float>& val) {
    for (std::size_t i = 0; i < r.size(); ++i) r[i] += g[i];
    std::iota(order.begin(), order.end(), std::uint32_t(0));
    std::nth_element(order.begin(), order.begin() + std::ptrdiff_t(k - 1), order.end(),
                     [this](std::uint32_t a, std::uint32_t b) {
                       const float ma = std::abs(r[a]), mb = std::abs(r[b]);
                       return ma > mb || (ma == mb && a < b);
                     });
    std::sort(order.begin(), order.begin() + std::ptrdiff_t(k));
    for (std::size_t j = 0; j < k; ++j) {
      idx[j] = order[j];
      val[j] = r[order[j]];
      r[order[j]] = 0.0f;
    }
  }
};

// 64 gradients drawn once, used in turn (so the residual changes as in training, without timing the RNG).
struct Gradients {
  std::vector<std::vector<float>> g;
  std::size_t next = 0;
  explicit Gradients(std::size_t n) : g(64, std::vector<float>(n)) {
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    for (auto& v : g)
      for (auto& x : v) x = nd(rng) * 1e-3f;
  }
  const std::vector<float>& operator()() { return g[next++ % g.size()]; }
};

// One compression step per iteration; C is ctnn::dist::TopK<float> or PlainTopK.
template <class C, std::size_t N>
void topk(benchmark::State& st) {
  const std::size_t k = ctnn::dist::top_k_count(0.01, N);
  C t(N, k);
  Gradients gs(N);
  std::vector<std::uint32_t> idx(k);
  std::vector<float> val(k);
  for (auto _ : st) {
    t.compress(gs(), idx, val);
    benchmark::DoNotOptimize(val.data());
  }
}
template <std::size_t N>
void sign_ctnn(benchmark::State& st) {
  ctnn::dist::Sign<float> s(N);
  Gradients gs(N);
  std::vector<std::uint64_t> bits(s.words());
  for (auto _ : st) {
    float scale = s.compress(gs(), bits);
    benchmark::DoNotOptimize(scale);
    benchmark::DoNotOptimize(bits.data());
  }
}

BENCHMARK(topk<ctnn::dist::TopK<float>, 101770>)->Name("784-128-10/topk_ctnn");
BENCHMARK(topk<PlainTopK, 101770>)->Name("784-128-10/topk_nth_element");
BENCHMARK(sign_ctnn<101770>)->Name("784-128-10/sign_ctnn");
BENCHMARK(topk<ctnn::dist::TopK<float>, 4874>)->Name("64-64-10/topk_ctnn");
BENCHMARK(topk<PlainTopK, 4874>)->Name("64-64-10/topk_nth_element");
BENCHMARK(sign_ctnn<4874>)->Name("64-64-10/sign_ctnn");

// Both top-k forms pick the same entries with the same values, step after step.
bool agree(std::size_t n) {
  const std::size_t k = ctnn::dist::top_k_count(0.01, n);
  ctnn::dist::TopK<float> a(n, k);
  PlainTopK b(n, k);
  Gradients gs(n);
  std::vector<std::uint32_t> ia(k), ib(k);
  std::vector<float> va(k), vb(k);
  for (int step = 0; step < 20; ++step) {
    const auto& g = gs();
    a.compress(g, ia, va);
    b.compress(g, ib, vb);
    if (ia != ib || va != vb) return false;
  }
  return true;
}

// ctnn / nth_element (and sign), from the run's medians.
void print_ratios(const bench::MedianReporter& rep) {
  std::printf("\ntop-1%% selection with error feedback, per step (median CPU time, float):\n");
  for (const char* wl : {"784-128-10", "64-64-10"}) {
    const auto c = rep.time(std::string(wl) + "/topk_ctnn");
    const auto p = rep.time(std::string(wl) + "/topk_nth_element");
    const auto s = rep.time(std::string(wl) + "/sign_ctnn");
    if (!c || !p || !s) continue;
    std::printf("  %-11s ctnn %10.1f ns   nth_element %10.1f ns   ratio %.2f   (sign: %10.1f ns)\n", wl, *c, *p,
                *c / *p, *s);
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (std::size_t n : {std::size_t(101770), std::size_t(4874)})
    if (!agree(n)) {
      std::fprintf(stderr, "bench_compress: ctnn's top-k and nth_element's disagree (n = %zu)\n", n);
      return EXIT_FAILURE;
    }
  return bench::run_with_medians(argc, argv, print_ratios);
}
