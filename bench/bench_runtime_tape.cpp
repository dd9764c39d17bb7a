// bench/bench_runtime_tape.cpp: the runtime tape (RuntimeNetwork, sizes known at run time) against
// the static tape (ctnn::Network, sizes in the type) on the 64-32-10 ReLU network with softmax
// cross-entropy, one sample: forward, and loss + gradient (dLoss/dθ). Both compute bit-identical
// numbers (checked before timing); what differs is what is known when the code is compiled.
// Prints runtime / static ratios of the median CPU times at the end.
//
//   taskset -c 1 build/bench/bench_runtime_tape --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/nn/runtime_network.hpp"

namespace {

template <class T>
using Static = ctnn::Network<T, ctnn::Dense<64, 32>, ctnn::ReLU, ctnn::Dense<32, 10>, ctnn::Identity>;

template <class T>
struct Workload {
  Static<T> net{2024};
  ctnn::RuntimeNetwork<T> rn{{64, 32, 10}, {"relu", "identity"}, 0.01, 2024};
  ctnn::RuntimeLoss loss = ctnn::RuntimeLoss::named("softmax_cross_entropy");
  std::vector<T> x = std::vector<T>(64), y = std::vector<T>(10, T(0)), out = std::vector<T>(10);
  Workload() {
    ctnn::Random rng(9);
    for (T& v : x) v = static_cast<T>(rng.uniform(-1, 1));
    y[3] = T(1);
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

BENCHMARK(static_forward<double>)->Name("forward/static/double");
BENCHMARK(runtime_forward<double>)->Name("forward/runtime/double");
BENCHMARK(static_gradient<double>)->Name("gradient/static/double");
BENCHMARK(runtime_gradient<double>)->Name("gradient/runtime/double");
BENCHMARK(static_forward<float>)->Name("forward/static/float");
BENCHMARK(runtime_forward<float>)->Name("forward/runtime/float");
BENCHMARK(static_gradient<float>)->Name("gradient/static/float");
BENCHMARK(runtime_gradient<float>)->Name("gradient/runtime/float");

// Both tapes agree before anything is timed (bit for bit in double; float to rounding).
template <class T>
bool same_numbers() {
  auto& w = Workload<T>::get();
  std::vector<T> out_s(10);
  w.net.template forward<1>(w.x.data(), out_s.data());
  w.rn.forward(1, w.x.data(), w.out.data());
  const T ls = w.net.template gradient<1>(ctnn::loss::softmax_cross_entropy, w.x.data(), w.y.data());
  const T lr = w.rn.gradient(w.loss, 1, w.x.data(), w.y.data());
  bool ok = out_s == w.out && ls == lr;
  for (std::size_t i = 0; i < Static<T>::num_params; ++i) ok = ok && w.net.grads()[i] == w.rn.grads()[i];
  return ok;
}

// Keeps each benchmark's median (or its single run) and prints runtime / static at the end.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs)
      if (r.aggregate_name == "median" || (r.run_type == Run::RT_Iteration && r.repetitions <= 1))
        time_[r.run_name.function_name] = r.GetAdjustedCPUTime();
  }
  void print_ratios() const {
    std::printf("\nruntime tape / static tape (median CPU time, 64-32-10 relu, softmax CE, one sample):\n");
    for (const char* what : {"forward", "gradient"})
      for (const char* t : {"double", "float"}) {
        const auto s = time_.find(std::string(what) + "/static/" + t);
        const auto r = time_.find(std::string(what) + "/runtime/" + t);
        if (s == time_.end() || r == time_.end()) continue;
        std::printf("  %-8s %-6s static %9.1f ns   runtime %9.1f ns   ratio %.2f\n", what, t, s->second, r->second,
                    r->second / s->second);
      }
  }

 private:
  std::map<std::string, double> time_;
};

}  // namespace

int main(int argc, char** argv) {
  if (!same_numbers<double>()) {
    std::fprintf(stderr, "bench_runtime_tape: runtime and static tapes disagree (double)\n");
    return EXIT_FAILURE;
  }
  same_numbers<float>();  // float: warm-up only (kernel/'s float shortcuts may round differently)
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return EXIT_FAILURE;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();
  benchmark::Shutdown();
  return EXIT_SUCCESS;
}
