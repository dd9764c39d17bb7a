// bench/peers: what one implementation ("peer") of a workload provides to the harness, and the
// registry the peer translation units add themselves to (one TU per peer, so a peer whose library is
// missing at configure time is simply not compiled).
//
// A peer implements an `Impl` type per workload with
//   Impl(const Workload&, const Data&)   load the shared initial parameters and the input batch
//   void forward()                       forward pass on the batch (output activations)
//   std::vector<float> output()          the last forward's output activations, batch x out row-major
//   double step(float lr)                one SGD step on the batch; returns the loss before the update,
//                                        or NaN when the library does not report it
//   std::vector<float> params()          current parameters, flat order W1, b1, W2, b2, ...
// and wraps it in Case<Impl>: the benchmark loops are then compiled inside the peer's TU around the
// concrete type (no virtual call inside the timed loop).
#pragma once

#include "workload.hpp"

#include <benchmark/benchmark.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace peers {

inline constexpr float kBenchLr = 1e-4f;  // step size inside the timed loops (parameters stay finite)

struct CaseBase {
  virtual ~CaseBase() = default;
  virtual void forward() = 0;
  virtual std::vector<float> output() = 0;
  virtual double step(float lr) = 0;
  virtual std::vector<float> params() = 0;
  // Registers "<workload>_forward/<peer>" and "<workload>_step/<peer>"; the case must outlive the run.
  virtual void register_benchmarks(const std::string& workload, const std::string& peer) = 0;
};

template <class Impl>
struct Case final : CaseBase {
  Impl impl;
  Case(const Workload& w, const Data& d) : impl(w, d) {}
  void forward() override { impl.forward(); }
  std::vector<float> output() override { return impl.output(); }
  double step(float lr) override { return impl.step(lr); }
  std::vector<float> params() override { return impl.params(); }
  void register_benchmarks(const std::string& workload, const std::string& peer) override {
    Impl* p = &impl;
    benchmark::RegisterBenchmark((workload + "_forward/" + peer).c_str(), [p](benchmark::State& st) {
      Impl* q = p;
      // Hide where q points (the "+r" form: benchmark 1.7's non-const DoNotOptimize uses "+m,r",
      // which g++ 12 can miscompile into reading an uninitialised stack slot).
      asm volatile("" : "+r"(q));
      for (auto _ : st) {
        q->forward();
        benchmark::ClobberMemory();
      }
    });
    benchmark::RegisterBenchmark((workload + "_step/" + peer).c_str(), [p](benchmark::State& st) {
      Impl* q = p;
      asm volatile("" : "+r"(q));
      for (auto _ : st) {
        const auto loss = q->step(kBenchLr);  // const: the "r,m" input form of DoNotOptimize
        benchmark::DoNotOptimize(loss);
        benchmark::ClobberMemory();
      }
    });
  }
};

// A peer: its name in benchmark names, a one-line description (library, version, BLAS) for the
// report, and a factory returning nullptr for the workloads it cannot express (with `skip_reason`).
struct Peer {
  std::string name;
  std::string description;
  std::function<std::unique_ptr<CaseBase>(const Workload&, const Data&)> make;
  std::string skip_reason;  // why make() returns nullptr for some workloads ("" if it never does)
};

inline std::vector<Peer>& registry() {
  static std::vector<Peer> r;
  return r;
}

struct Register {
  explicit Register(Peer p) { registry().push_back(std::move(p)); }
};

// Helper for peers whose Impl is one class template over the workload letter's compile-time types.
template <class Impl>
std::unique_ptr<CaseBase> make_case(const Workload& w, const Data& d) {
  return std::make_unique<Case<Impl>>(w, d);
}

}  // namespace peers
