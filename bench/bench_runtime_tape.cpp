// bench/bench_runtime_tape.cpp: the runtime tape (RuntimeNetwork, sizes known at run time) against
// the static tape (ctnn::Network, sizes in the type) on the 64-32-10 ReLU network with softmax
// cross-entropy, one sample: forward, and loss + gradient (dLoss/dθ); and, in float, on the
// 784-128-10 network with a batch of 64 (Fashion-MNIST's, what `ctnn train --topology` runs),
// where the matrix products dominate. Both compute bit-identical
// numbers (checked before timing, bit for bit); what differs is what is known when the code is compiled.
// With libtorch (Debian libtorch-dev; optional at configure time) its autograd runs the same
// workload with the same weights (runtime_tape_torch.cpp; outputs and gradients checked to agree to
// 1e-12 in double before timing). Prints runtime / static and libtorch / static ratios of the median
// CPU times at the end.
//
//   taskset -c 1 build/bench/bench_runtime_tape --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/nn/runtime_network.hpp"
#include "median_reporter.hpp"
#ifdef CTNN_BENCH_TORCH
#include "runtime_tape_torch.hpp"
#endif

namespace {

template <class T>
using Static = ctnn::Network<T, ctnn::Dense<64, 32>, ctnn::ReLU, ctnn::Dense<32, 10>, ctnn::Identity>;

template <class T>
struct Workload {
  Static<T> net{2024};
  ctnn::RuntimeNetwork<T> rn{{64, 32, 10}, {"relu", "identity"}, 0.01, 2024};
  ctnn::RuntimeLoss loss = ctnn::RuntimeLoss::named("softmax_cross_entropy");
  std::vector<T> x = std::vector<T>(64), y = std::vector<T>(10, T(0)), out = std::vector<T>(10);
#ifdef CTNN_BENCH_TORCH
  std::unique_ptr<torch_autograd::Mlp<T>> torch;
#endif
  Workload() {
    ctnn::Random rng(9);
    for (T& v : x) v = static_cast<T>(rng.uniform(-1, 1));
    y[3] = T(1);
#ifdef CTNN_BENCH_TORCH
    torch = std::make_unique<torch_autograd::Mlp<T>>(std::vector<T>(net.params().begin(), net.params().end()), x, 3);
#endif
  }
  static Workload& get() {
    static Workload w;
    return w;
  }
};

template <class T>
void static_forward(benchmark::State& st) {
  auto& w = Workload<T>::get();
  for (auto _ : st) {
    w.net.template forward<1>(w.x.data(), w.out.data());
    benchmark::DoNotOptimize(w.out.data());
    benchmark::ClobberMemory();
  }
}
template <class T>
void runtime_forward(benchmark::State& st) {
  auto& w = Workload<T>::get();
  for (auto _ : st) {
    w.rn.forward(1, w.x.data(), w.out.data());
    benchmark::DoNotOptimize(w.out.data());
    benchmark::ClobberMemory();
  }
}
template <class T>
void static_gradient(benchmark::State& st) {
  auto& w = Workload<T>::get();
  for (auto _ : st) {
    benchmark::DoNotOptimize(w.net.template gradient<1>(ctnn::loss::softmax_cross_entropy, w.x.data(), w.y.data()));
    benchmark::ClobberMemory();
  }
}
template <class T>
void runtime_gradient(benchmark::State& st) {
  auto& w = Workload<T>::get();
  for (auto _ : st) {
    benchmark::DoNotOptimize(w.rn.gradient(w.loss, 1, w.x.data(), w.y.data()));
    benchmark::ClobberMemory();
  }
}

#ifdef CTNN_BENCH_TORCH
template <class T>
void torch_forward(benchmark::State& st) {
  auto& w = Workload<T>::get();
  for (auto _ : st) {
    w.torch->forward(w.out.data());
    benchmark::DoNotOptimize(w.out.data());
    benchmark::ClobberMemory();
  }
}
template <class T>
void torch_gradient(benchmark::State& st) {
  auto& w = Workload<T>::get();
  for (auto _ : st) {
    benchmark::DoNotOptimize(w.torch->gradient());
    benchmark::ClobberMemory();
  }
}
BENCHMARK(torch_forward<double>)->Name("forward/libtorch/double");
BENCHMARK(torch_gradient<double>)->Name("gradient/libtorch/double");
BENCHMARK(torch_forward<float>)->Name("forward/libtorch/float");
BENCHMARK(torch_gradient<float>)->Name("gradient/libtorch/float");

// libtorch computes the same output, loss and gradients (to 1e-12 relative in double: other
// summation orders), with the same weights.
template <class T>
bool torch_agrees(double tol) {
  auto& w = Workload<T>::get();
  std::vector<T> out_s(10), out_t(10);
  w.net.template forward<1>(w.x.data(), out_s.data());
  w.torch->forward(out_t.data());
  const T ls = w.net.template gradient<1>(ctnn::loss::softmax_cross_entropy, w.x.data(), w.y.data());
  const T lt = w.torch->gradient();
  const std::vector<T> gt = w.torch->grads();
  auto close = [tol](double a, double b, double scale) { return std::abs(a - b) <= tol * scale; };
  bool ok = gt.size() == Static<T>::num_params && close(ls, lt, std::abs(double(ls)));
  double gmax = 0, omax = 0;
  for (T v : w.net.grads()) gmax = std::max(gmax, std::abs(double(v)));
  for (T v : out_s) omax = std::max(omax, std::abs(double(v)));
  for (std::size_t k = 0; k < 10; ++k) ok = ok && close(out_s[k], out_t[k], omax);
  for (std::size_t i = 0; ok && i < gt.size(); ++i) ok = ok && close(w.net.grads()[i], gt[i], gmax);
  return ok;
}
#endif

// Both tapes on the same batch: outputs, loss and parameter gradients equal bit for bit.
template <std::size_t B, class Net, class T>
bool tapes_agree(Net& net, ctnn::RuntimeNetwork<T>& rn, const ctnn::RuntimeLoss& loss, const std::vector<T>& x,
                 const std::vector<T>& y, std::size_t outputs) {
  std::vector<T> out_s(B * outputs), out_r(B * outputs);
  net.template forward<B>(x.data(), out_s.data());
  rn.forward(B, x.data(), out_r.data());
  const T ls = net.template gradient<B>(ctnn::loss::softmax_cross_entropy, x.data(), y.data());
  const T lr = rn.gradient(loss, B, x.data(), y.data());
  bool ok = out_s == out_r && ls == lr;
  for (std::size_t i = 0; ok && i < Net::num_params; ++i) ok = net.grads()[i] == rn.grads()[i];
  return ok;
}

// 784-128-10, batch 64, float: a run-time network's products on the same 512-bit tiles as the
// static tape's (ad/runtime/kernels.hpp).
struct Batch {
  static constexpr std::size_t B = 64;
  using Net = ctnn::Network<float, ctnn::Dense<784, 128>, ctnn::ReLU, ctnn::Dense<128, 10>, ctnn::Identity>;
  std::unique_ptr<Net> net = std::make_unique<Net>(2024);
  ctnn::RuntimeNetwork<float> rn{{784, 128, 10}, {"relu", "identity"}, 0.01, 2024};
  ctnn::RuntimeLoss loss = ctnn::RuntimeLoss::named("softmax_cross_entropy");
  std::vector<float> x = std::vector<float>(B * 784), y = std::vector<float>(B * 10, 0.0f),
                     out = std::vector<float>(B * 10), out_s = std::vector<float>(B * 10);
  Batch() {
    ctnn::Random rng(11);
    for (float& v : x) v = static_cast<float>(rng.uniform(0, 1));
    for (std::size_t i = 0; i < B; ++i) y[i * 10 + i % 10] = 1.0f;
  }
  static Batch& get() {
    static Batch w;
    return w;
  }
  bool agrees() { return tapes_agree<B>(*net, rn, loss, x, y, 10); }
};
void batch_static_forward(benchmark::State& st) {
  auto& w = Batch::get();
  for (auto _ : st) {
    w.net->forward<Batch::B>(w.x.data(), w.out_s.data());
    benchmark::DoNotOptimize(w.out_s.data());
    benchmark::ClobberMemory();
  }
}
void batch_runtime_forward(benchmark::State& st) {
  auto& w = Batch::get();
  for (auto _ : st) {
    w.rn.forward(Batch::B, w.x.data(), w.out.data());
    benchmark::DoNotOptimize(w.out.data());
    benchmark::ClobberMemory();
  }
}
void batch_static_gradient(benchmark::State& st) {
  auto& w = Batch::get();
  for (auto _ : st) {
    benchmark::DoNotOptimize(w.net->gradient<Batch::B>(ctnn::loss::softmax_cross_entropy, w.x.data(), w.y.data()));
    benchmark::ClobberMemory();
  }
}
void batch_runtime_gradient(benchmark::State& st) {
  auto& w = Batch::get();
  for (auto _ : st) {
    benchmark::DoNotOptimize(w.rn.gradient(w.loss, Batch::B, w.x.data(), w.y.data()));
    benchmark::ClobberMemory();
  }
}

BENCHMARK(static_forward<double>)->Name("forward/static/double");
BENCHMARK(runtime_forward<double>)->Name("forward/runtime/double");
BENCHMARK(static_gradient<double>)->Name("gradient/static/double");
BENCHMARK(runtime_gradient<double>)->Name("gradient/runtime/double");
BENCHMARK(static_forward<float>)->Name("forward/static/float");
BENCHMARK(runtime_forward<float>)->Name("forward/runtime/float");
BENCHMARK(static_gradient<float>)->Name("gradient/static/float");
BENCHMARK(runtime_gradient<float>)->Name("gradient/runtime/float");
BENCHMARK(batch_static_forward)->Name("forward_784_128_10_b64/static/float");
BENCHMARK(batch_runtime_forward)->Name("forward_784_128_10_b64/runtime/float");
BENCHMARK(batch_static_gradient)->Name("gradient_784_128_10_b64/static/float");
BENCHMARK(batch_runtime_gradient)->Name("gradient_784_128_10_b64/runtime/float");

// Both tapes agree bit for bit before anything is timed.
template <class T>
bool same_numbers() {
  auto& w = Workload<T>::get();
  return tapes_agree<1>(w.net, w.rn, w.loss, w.x, w.y, 10);
}

// Runtime / static (and libtorch against both), from the run's medians.
void print_ratios(const bench::MedianReporter& rep) {
  std::printf("\nruntime tape / static tape (median CPU time, 64-32-10 relu, softmax CE, one sample):\n");
  for (const char* what : {"forward", "gradient"})
    for (const char* t : {"double", "float"}) {
      const auto s = rep.time(std::string(what) + "/static/" + t);
      const auto r = rep.time(std::string(what) + "/runtime/" + t);
      if (!s || !r) continue;
      std::printf("  %-8s %-6s static %9.1f ns   runtime %9.1f ns   ratio %.2f\n", what, t, *s, *r, *r / *s);
    }
  std::printf("\nruntime tape / static tape, 784-128-10 relu, softmax CE, batch of 64, float:\n");
  for (const char* what : {"forward_784_128_10_b64", "gradient_784_128_10_b64"}) {
    const auto s = rep.time(std::string(what) + "/static/float");
    const auto r = rep.time(std::string(what) + "/runtime/float");
    if (!s || !r) continue;
    std::printf("  %-24s static %9.1f us   runtime %9.1f us   ratio %.2f\n", what, *s / 1e3, *r / 1e3, *r / *s);
  }
  bool header = false;
  for (const char* what : {"forward", "gradient"})
    for (const char* t : {"double", "float"}) {
      const auto s = rep.time(std::string(what) + "/static/" + t);
      const auto r = rep.time(std::string(what) + "/runtime/" + t);
      const auto l = rep.time(std::string(what) + "/libtorch/" + t);
      if (!s || !l) continue;
      if (!header) std::printf("\nlibtorch autograd / static tape (and / runtime tape), same workload:\n");
      header = true;
      std::printf("  %-8s %-6s libtorch %9.1f ns   / static %.1f   / runtime %.1f\n", what, t, *l, *l / *s,
                  r ? *l / *r : 0.0);
    }
}

}  // namespace

int main(int argc, char** argv) {
  if (!same_numbers<double>()) {
    std::fprintf(stderr, "bench_runtime_tape: runtime and static tapes disagree (double)\n");
    return EXIT_FAILURE;
  }
  if (!same_numbers<float>() || !Batch::get().agrees()) {
    std::fprintf(stderr, "bench_runtime_tape: runtime and static tapes disagree (float)\n");
    return EXIT_FAILURE;
  }
#ifdef CTNN_BENCH_TORCH
  if (!torch_agrees<double>(1e-12) || !torch_agrees<float>(1e-5)) {
    std::fprintf(stderr, "bench_runtime_tape: libtorch autograd and the static tape disagree\n");
    return EXIT_FAILURE;
  }
#else
  std::printf("bench_runtime_tape: libtorch not found at configure time (libtorch-dev): its autograd is skipped\n");
#endif
  return bench::run_with_medians(argc, argv, print_ratios);
}
