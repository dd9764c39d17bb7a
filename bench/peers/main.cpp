// bench_peers: ctnn against every peer library found at configure time, on workloads A-D
// (bench/peers/workload.hpp), forward and one SGD step, float32, one thread.
//
// Before anything is timed, every peer's forward output, its loss and its parameters after one SGD
// step (lr 0.1) from the shared initial weights are checked against the double-precision reference
// (bench/compare.hpp: 1e-5 relative + 1e-6 absolute). A peer that fails on a workload is REFUSED:
// it is named loudly on stdout and in the JSON context ("refused"), and none of its times for that
// workload are registered. The JSON context also carries the BLAS library actually loaded, the
// compiler, the CPU model and each peer's description; the benchmark "fma_peak" measures the core's
// float FMA throughput (counter "flops", FLOP per CPU second) for the report's "limit" column.
//
// Run through tools/bench-peers (pins to one core, sets OPENBLAS_NUM_THREADS=1, writes the report), or
//   OPENBLAS_NUM_THREADS=1 taskset -c 1 build/bench/peers/bench_peers --benchmark_repetitions=7
//       --benchmark_enable_random_interleaving=true --benchmark_out=peers.json
#include "../compare.hpp"
#include "peer.hpp"
#include "workload.hpp"

#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <immintrin.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {
using namespace peers;

constexpr double kCheckLr = 0.1;

// Every library file mapped into this process whose name mentions blas/lapack (after the dynamic
// loader resolved Debian's alternatives symlinks), plus OpenBLAS's own configuration string.
std::string active_blas() {
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> libs;
  for (std::string line; std::getline(maps, line);) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    if (path.find("blas") != std::string::npos || path.find("lapack") != std::string::npos) libs.insert(path);
  }
  std::string s;
  for (const auto& l : libs) s += (s.empty() ? "" : ", ") + l;
  if (s.empty()) s = "none loaded";
  using Config = char* (*)();
  if (auto f = reinterpret_cast<Config>(dlsym(RTLD_DEFAULT, "openblas_get_config")))
    s += std::string(" [openblas_get_config: ") + f() + "]";
  return s;
}

// The first processor's model name, and its CPUID family, model and stepping, which name the core where
// the model name does not (a virtual machine may show only "AMD EPYC"); "under a hypervisor" when the
// CPU says so, for then those numbers are what the hypervisor presents, and the measured FMA rate
// (reported beside) is the better witness of the core.
std::string cpu_model() {
  std::ifstream info("/proc/cpuinfo");
  std::string name = "unknown", family, model, stepping;
  bool hypervisor = false;
  const auto value = [](const std::string& line) { return line.substr(line.find(':') + 2); };
  for (std::string line; std::getline(info, line) && !line.empty();) {  // the first processor's block
    if (line.rfind("model name", 0) == 0) name = value(line);
    else if (line.rfind("cpu family", 0) == 0) family = value(line);
    else if (line.rfind("model\t", 0) == 0) model = value(line);
    else if (line.rfind("stepping", 0) == 0) stepping = value(line);
    else if (line.rfind("flags", 0) == 0) hypervisor = (value(line) + " ").find(" hypervisor ") != std::string::npos;
  }
  if (!family.empty())
    name += " (CPUID family " + family + ", model " + model + ", stepping " + stepping +
            (hypervisor ? "; under a hypervisor" : "") + ")";
  return name;
}

// Peak float FMA throughput of one core: 12 independent accumulator chains (enough to cover FMA
// latency x number of FMA pipes on current x86 cores) of the widest vector FMA this build targets.
#if defined(__AVX512F__)
using VecF = __m512;
constexpr int kLanes = 16;
inline VecF vfma(VecF a, VecF b, VecF c) { return _mm512_fmadd_ps(a, b, c); }
inline VecF vset(float v) { return _mm512_set1_ps(v); }
#elif defined(__FMA__)
using VecF = __m256;
constexpr int kLanes = 8;
inline VecF vfma(VecF a, VecF b, VecF c) { return _mm256_fmadd_ps(a, b, c); }
inline VecF vset(float v) { return _mm256_set1_ps(v); }
#else
using VecF = __m128;
constexpr int kLanes = 4;
inline VecF vfma(VecF a, VecF b, VecF c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }  // no FMA: mul + add
inline VecF vset(float v) { return _mm_set1_ps(v); }
#endif

void fma_peak(benchmark::State& st) {
  constexpr int kChains = 12, kInner = 256;
  VecF acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = vset(0.001f * float(i));
  VecF b = vset(0.999999f), c = vset(1e-7f);
  asm volatile("" : "+x"(b), "+x"(c));  // unknown to the compiler: nothing is folded
  for (auto _ : st) {
    for (int k = 0; k < kInner; ++k)
      for (int i = 0; i < kChains; ++i) acc[i] = vfma(acc[i], b, c);
    for (int i = 0; i < kChains; ++i) asm volatile("" : "+x"(acc[i]));  // results are used
  }
  st.counters["flops"] =
      benchmark::Counter(double(st.iterations()) * kInner * kChains * kLanes * 2.0, benchmark::Counter::kIsRate);
  st.SetLabel(std::to_string(kLanes * 32) + "-bit FMA");
}

// The correctness gate for one peer on one workload.
bool check(const Peer& peer, const Workload& w, const Data& d, CaseBase& c) {
  const std::string tag = peer.name + " " + w.name + " ";
  bool ok = true;
  c.forward();
  const std::vector<double> want_out = reference::forward(w, d);
  const std::vector<float> out = c.output();
  ok &= bench::compare<float>((tag + "forward").c_str(), want_out, out);
  std::vector<double> want_params;
  const double want_loss = reference::sgd_step(w, d, kCheckLr, want_params);
  const double loss = c.step(float(kCheckLr));
  if (!std::isnan(loss)) ok &= bench::compare_scalar((tag + "loss").c_str(), want_loss, loss);
  const std::vector<float> p = c.params();
  ok &= bench::compare<float>((tag + "params after step").c_str(), want_params, p);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  const char* threads = std::getenv("OPENBLAS_NUM_THREADS");
  if (!threads || std::string(threads) != "1")
    std::printf("warning: OPENBLAS_NUM_THREADS is not 1 (a threaded OpenBLAS would use more than one core)\n");

  std::vector<std::unique_ptr<CaseBase>> keep;  // benchmarked cases live until the run ends
  std::string refused, peer_list;
  std::printf("correctness gate: forward, loss and parameters after one SGD step (lr %g) vs the double reference\n",
              kCheckLr);
  for (const Peer& peer : registry()) {
    peer_list += (peer_list.empty() ? "" : "; ") + peer.name + ": " + peer.description;
    benchmark::AddCustomContext("peer." + peer.name, peer.description);
    for (const Workload& w : workloads()) {
      const Data d = make_data(w);
      std::unique_ptr<CaseBase> checked;
      bool ok = false;
      try {
        checked = peer.make(w, d);
        if (!checked) {
          std::printf("--  %s %s: not run (%s)\n", peer.name.c_str(), w.name.c_str(), peer.skip_reason.c_str());
          benchmark::AddCustomContext("skipped." + peer.name + "." + w.name, peer.skip_reason);
          continue;
        }
        ok = check(peer, w, d, *checked);
      } catch (const std::exception& e) {
        std::printf("ERROR %s %s: %s\n", peer.name.c_str(), w.name.c_str(), e.what());
      }
      if (!ok) {
        std::printf("\n*** REFUSED: %s on workload %s (%s) fails the correctness gate; its times are NOT reported ***\n\n",
                    peer.name.c_str(), w.name.c_str(), w.shape().c_str());
        refused += (refused.empty() ? "" : " ") + peer.name + "/" + w.name;
        continue;
      }
      keep.push_back(peer.make(w, d));  // fresh parameters for the timed run
      keep.back()->register_benchmarks(w.name, peer.name);
    }
  }
  std::fflush(stdout);

  benchmark::RegisterBenchmark("fma_peak", fma_peak);
  benchmark::AddCustomContext("refused", refused.empty() ? "none" : refused);
  benchmark::AddCustomContext("blas", active_blas());
  benchmark::AddCustomContext("cpu_model", cpu_model());
  benchmark::AddCustomContext("compiler", "g++ " __VERSION__);
  benchmark::AddCustomContext("openblas_num_threads", threads ? threads : "unset");
  std::printf("BLAS in this process: %s\n", active_blas().c_str());
  if (!refused.empty()) std::printf("REFUSED (failed the correctness gate): %s\n", refused.c_str());

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (!refused.empty()) std::printf("\n*** REFUSED (failed the correctness gate, not reported): %s ***\n", refused.c_str());
  return 0;
}
