// bench_foundation: expert Eigen baseline (and, later, ctnn) for three small MLPs.
//
//   A: 4-5-1       sigmoid/sigmoid, ½·Σ(ŷ−y)², one sample
//   B: 64-32-10    relu/softmax, cross-entropy, one sample
//   C: 784-128-10  relu/softmax, cross-entropy, mini-batch of 64 (mean loss)
//
// Benchmarks: <Model>_forward/<impl> and <Model>_step/<impl> (one SGD step: forward, backward, update).
// Before benchmarking, main() checks every implementation against the double-precision reference
// (bench/reference_mlp.hpp): forward outputs, and parameters after one SGD step with lr 0.1, must match
// within 1e-5 relative + 1e-6 absolute. On mismatch it prints what differs and exits with status 1.
//
// Run e.g.:  taskset -c 1 build/bench/bench_foundation --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include "compare.hpp"
#include "ctnn/ctnn.hpp"
#include "eigen_mlp.hpp"
#include "intrinsics_mlp.hpp"
#include "reference_mlp.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace {

namespace ref = reference_mlp;

// ------------------------------------------------------------------------------------------------
// Shared problem data: flat double parameters (order W1 row-major, b1, W2 row-major, b2) and inputs.
// Every value is rounded to float first, so float implementations and the double reference start
// from bit-identical numbers. Implementations load their weights from here (see eigen_mlp::load_flat).
// ------------------------------------------------------------------------------------------------
constexpr std::size_t kBatchC = 64;
constexpr double kCheckLr = 0.1;   // step size for the correctness check
constexpr float kBenchLr = 1e-4f;  // step size inside the benchmark loops (parameters stay finite)

struct Problem {
  std::vector<double> pA, xA, yA;  // xA: 4, yA: 1
  std::vector<double> pB, xB;      // xB: 64
  int labelB = 0;
  std::vector<double> pC, xC;      // xC: 64 x 784 row-major
  std::vector<int> labelsC;        // 64
};

double rounded(double v) { return static_cast<double>(static_cast<float>(v)); }

// Weights and biases of each layer: uniform(-0.5, 0.5) / sqrt(fan_in); std::mt19937 seed 42.
// Generation order: A params, xA, yA, B params, xB, labelB, C params, xC, labelsC.
std::vector<double> init_params(const ref::Mlp& m, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  std::vector<double> p(m.num_params());
  const double s1 = 1.0 / std::sqrt(double(m.in)), s2 = 1.0 / std::sqrt(double(m.hid));
  for (std::size_t q = 0; q < m.w2(); ++q) p[q] = rounded(u(rng) * s1);  // W1, b1
  for (std::size_t q = m.w2(); q < p.size(); ++q) p[q] = rounded(u(rng) * s2);  // W2, b2
  return p;
}

std::vector<double> init_inputs(std::size_t n, std::mt19937& rng, double lo = -0.5, double hi = 0.5) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (auto& e : v) e = rounded(u(rng));
  return v;
}

Problem make_problem() {
  std::mt19937 rng(42);
  Problem P;
  P.pA = init_params(ref::A, rng);
  P.xA = init_inputs(ref::A.in, rng);
  P.yA = init_inputs(1, rng, 0.0, 1.0);
  P.pB = init_params(ref::B, rng);
  P.xB = init_inputs(ref::B.in, rng);
  P.labelB = std::uniform_int_distribution<int>(0, int(ref::B.out) - 1)(rng);
  P.pC = init_params(ref::C, rng);
  P.xC = init_inputs(kBatchC * ref::C.in, rng);
  P.labelsC.resize(kBatchC);
  for (auto& l : P.labelsC) l = std::uniform_int_distribution<int>(0, int(ref::C.out) - 1)(rng);
  return P;
}

using bench::compare;  // the correctness gate, shared with bench/peers (bench/compare.hpp)
using bench::compare_scalar;

// ------------------------------------------------------------------------------------------------
// Eigen side
// ------------------------------------------------------------------------------------------------
struct EigenData {
  eigen_mlp::NetA a;
  eigen_mlp::Vec<4> xA;
  eigen_mlp::Vec<1> yA;
  eigen_mlp::NetB b;
  eigen_mlp::Vec<64> xB;
  int labelB = 0;
  std::unique_ptr<eigen_mlp::NetC> c = eigen_mlp::make_net_c();
  std::unique_ptr<eigen_mlp::WorkC> ws = eigen_mlp::make_work_c();
  std::vector<float> xC;
  std::vector<int> labelsC;
  eigen_mlp::ProbsC probsC;
};

std::unique_ptr<EigenData> make_eigen_data(const Problem& P) {
  auto E = std::make_unique<EigenData>();
  eigen_mlp::load_flat(E->a, P.pA.data());
  for (int i = 0; i < 4; ++i) E->xA[i] = float(P.xA[i]);
  E->yA[0] = float(P.yA[0]);
  eigen_mlp::load_flat(E->b, P.pB.data());
  for (int i = 0; i < 64; ++i) E->xB[i] = float(P.xB[i]);
  E->labelB = P.labelB;
  eigen_mlp::load_flat(*E->c, P.pC.data());
  E->xC.assign(P.xC.begin(), P.xC.end());
  E->labelsC = P.labelsC;
  return E;
}

bool check_eigen(const Problem& P) {
  bool ok = true;
  auto E = make_eigen_data(P);
  std::vector<double> want;

  // A
  {
    ref::forward(ref::A, P.pA, P.xA, 1, want);
    eigen_mlp::Vec<1> y;
    eigen_mlp::forward_a(E->a, E->xA, y);
    ok &= compare<float>("A forward", want, {y.data(), 1});
    std::vector<double> p = P.pA;
    const double loss_ref = ref::sgd_step_half_sse(ref::A, p, P.xA, 1, P.yA, kCheckLr);
    const float loss = eigen_mlp::sgd_step_a(E->a, E->xA, E->yA, float(kCheckLr));
    std::vector<float> got(ref::A.num_params());
    eigen_mlp::store_flat(E->a, got.data());
    ok &= compare_scalar("A loss", loss_ref, loss);
    ok &= compare<float>("A params after step", p, got);
  }
  // B
  {
    ref::forward(ref::B, P.pB, P.xB, 1, want);
    eigen_mlp::Vec<10> probs;
    eigen_mlp::forward_b(E->b, E->xB, probs);
    ok &= compare<float>("B forward", want, {probs.data(), 10});
    std::vector<double> p = P.pB;
    const int labels[1] = {P.labelB};
    const double loss_ref = ref::sgd_step_softmax_ce(ref::B, p, P.xB, 1, labels, kCheckLr);
    const float loss = eigen_mlp::sgd_step_b(E->b, E->xB, E->labelB, float(kCheckLr));
    std::vector<float> got(ref::B.num_params());
    eigen_mlp::store_flat(E->b, got.data());
    ok &= compare_scalar("B loss", loss_ref, loss);
    ok &= compare<float>("B params after step", p, got);
  }
  // C
  {
    ref::forward(ref::C, P.pC, P.xC, kBatchC, want);
    eigen_mlp::forward_c(*E->c, E->xC.data(), E->probsC, *E->ws);
    ok &= compare<float>("C forward", want, {E->probsC.data(), std::size_t(E->probsC.size())});
    std::vector<double> p = P.pC;
    const double loss_ref = ref::sgd_step_softmax_ce(ref::C, p, P.xC, kBatchC, P.labelsC, kCheckLr);
    const float loss = eigen_mlp::sgd_step_c(*E->c, E->xC.data(), E->labelsC.data(), float(kCheckLr), *E->ws);
    std::vector<float> got(ref::C.num_params());
    eigen_mlp::store_flat(*E->c, got.data());
    ok &= compare_scalar("C loss", loss_ref, loss);
    ok &= compare<float>("C params after step", p, got);
  }
  return ok;
}

// Every benchmark also reports the minimum over its repetitions ("_min"): other work on a shared
// host only adds time, so the minimum is the figure it disturbs least; the median stays the headline.
template <class F>
benchmark::internal::Benchmark* register_timed(const char* name, F&& fn) {
  return benchmark::RegisterBenchmark(name, std::forward<F>(fn))
      ->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
}

// Benchmarks. Inputs and parameters live on the heap behind `E` (escaped to the optimiser), and
// every iteration ends with DoNotOptimize(output) + ClobberMemory(), so the work is redone each
// iteration and nothing is hoisted or discarded.
void register_eigen_benchmarks(EigenData& E) {
  using namespace eigen_mlp;
  register_timed("A_forward/eigen", [&E](benchmark::State& st) {
    const NetA* net = &E.a;
    const Vec<4>* x = &E.xA;
    benchmark::DoNotOptimize(net);
    benchmark::DoNotOptimize(x);
    Vec<1> y;
    for (auto _ : st) {
      forward_a(*net, *x, y);
      benchmark::DoNotOptimize(y);
      benchmark::ClobberMemory();
    }
  });
  // Latency: each input depends on the previous output (x0' = x0 + y·1e-30, which leaves x0 unchanged in
  // float but the CPU cannot start a call before the previous one ends). A_forward measures how well
  // independent calls overlap; the two orders can rank the libraries differently.
  register_timed("A_forward_latency/eigen", [&E](benchmark::State& st) {
    const NetA* net = &E.a;
    Vec<4> x = E.xA;
    const float x0 = x[0];
    benchmark::DoNotOptimize(net);
    Vec<1> y;
    for (auto _ : st) {
      forward_a(*net, x, y);
      x[0] = x0 + y[0] * 1e-30f;
      benchmark::DoNotOptimize(x);
    }
  });
  register_timed("A_step/eigen", [&E](benchmark::State& st) {
    NetA* net = &E.a;
    const Vec<4>* x = &E.xA;
    const Vec<1>* y = &E.yA;
    benchmark::DoNotOptimize(net);
    benchmark::DoNotOptimize(x);
    benchmark::DoNotOptimize(y);
    for (auto _ : st) {
      float loss = sgd_step_a(*net, *x, *y, kBenchLr);
      benchmark::DoNotOptimize(loss);
      benchmark::ClobberMemory();
    }
  });
  register_timed("B_forward/eigen", [&E](benchmark::State& st) {
    const NetB* net = &E.b;
    const Vec<64>* x = &E.xB;
    benchmark::DoNotOptimize(net);
    benchmark::DoNotOptimize(x);
    Vec<10> probs;
    for (auto _ : st) {
      forward_b(*net, *x, probs);
      benchmark::DoNotOptimize(probs);
      benchmark::ClobberMemory();
    }
  });
  register_timed("B_step/eigen", [&E](benchmark::State& st) {
    NetB* net = &E.b;
    const Vec<64>* x = &E.xB;
    const int* label = &E.labelB;
    benchmark::DoNotOptimize(net);
    benchmark::DoNotOptimize(x);
    benchmark::DoNotOptimize(label);
    for (auto _ : st) {
      float loss = sgd_step_b(*net, *x, *label, kBenchLr);
      benchmark::DoNotOptimize(loss);
      benchmark::ClobberMemory();
    }
  });
  register_timed("C_forward/eigen", [&E](benchmark::State& st) {
    const NetC* net = E.c.get();
    const float* x = E.xC.data();
    ProbsC* probs = &E.probsC;
    WorkC* ws = E.ws.get();
    benchmark::DoNotOptimize(net);
    benchmark::DoNotOptimize(x);
    for (auto _ : st) {
      forward_c(*net, x, *probs, *ws);
      benchmark::DoNotOptimize(probs->data());
      benchmark::ClobberMemory();
    }
  })->Unit(benchmark::kMicrosecond);
  register_timed("C_step/eigen", [&E](benchmark::State& st) {
    NetC* net = E.c.get();
    const float* x = E.xC.data();
    const int* labels = E.labelsC.data();
    WorkC* ws = E.ws.get();
    benchmark::DoNotOptimize(net);
    benchmark::DoNotOptimize(x);
    for (auto _ : st) {
      float loss = sgd_step_c(*net, x, labels, kBenchLr, *ws);
      benchmark::DoNotOptimize(loss);
      benchmark::ClobberMemory();
    }
  })->Unit(benchmark::kMicrosecond);
}

// ================================================================================================
// ===  ctnn side — TO BE FILLED IN BY THE LEAD  ==================================================
// Load the same weights/inputs from `P` (flat doubles, order W1 row-major, b1, W2 row-major, b2;
// see Problem above), check against the reference exactly like check_eigen() does (forward outputs,
// loss, and parameters after one step with kCheckLr), and register
//   A_forward/ctnn, A_step/ctnn, B_forward/ctnn, B_step/ctnn, C_forward/ctnn, C_step/ctnn
// (use kBenchLr inside the step benchmarks). Keep any data the benchmarks use alive for the whole run.
// ================================================================================================
using CtnnA = ctnn::Sequential<ctnn::Dense<4, 5>, ctnn::Sigmoid, ctnn::Dense<5, 1>, ctnn::Sigmoid>;
using CtnnBLogits = ctnn::Sequential<ctnn::Dense<64, 32>, ctnn::ReLU, ctnn::Dense<32, 10>>;
using CtnnBProbs = ctnn::Sequential<ctnn::Dense<64, 32>, ctnn::ReLU, ctnn::Dense<32, 10>, ctnn::Softmax>;
using CtnnCLogits = ctnn::Sequential<ctnn::Dense<784, 128>, ctnn::ReLU, ctnn::Dense<128, 10>>;
using CtnnCProbs = ctnn::Sequential<ctnn::Dense<784, 128>, ctnn::ReLU, ctnn::Dense<128, 10>, ctnn::Softmax>;

// The same computation as the Eigen side: the forward nets end in a softmax (probabilities), the
// training nets output logits and use softmax cross-entropy from logits (what an expert writes).
// A step is net.sgd_step: forward, derived backward, and θ −= lr·∇θ applied by the kernels that
// produce each gradient block (the Eigen code likewise updates W in its outer-product pass).
struct CtnnData {
  CtnnA a;
  CtnnBProbs b_probs;
  CtnnBLogits b;
  CtnnCProbs c_probs;
  CtnnCLogits c;
  std::vector<float> xA, yA, xB, yB, xC, yC;  // targets as one-hot rows for the class losses
};

template <class Net>
void load_params(Net& net, const std::vector<double>& p) {
  auto dst = net.params();
  for (std::size_t i = 0; i < dst.size(); ++i) dst[i] = static_cast<float>(p[i]);
}
std::vector<float> to_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }
std::vector<float> one_hot(const std::vector<int>& labels, std::size_t classes) {
  std::vector<float> y(labels.size() * classes, 0.0f);
  for (std::size_t n = 0; n < labels.size(); ++n) y[n * classes + std::size_t(labels[n])] = 1.0f;
  return y;
}
std::unique_ptr<CtnnData> make_ctnn_data(const Problem& P) {
  auto D = std::make_unique<CtnnData>();
  load_params(D->a, P.pA);
  load_params(D->b_probs, P.pB);
  load_params(D->b, P.pB);
  load_params(D->c_probs, P.pC);
  load_params(D->c, P.pC);
  D->xA = to_float(P.xA);
  D->yA = to_float(P.yA);
  D->xB = to_float(P.xB);
  D->yB = one_hot({P.labelB}, 10);
  D->xC = to_float(P.xC);
  D->yC = one_hot(P.labelsC, 10);
  return D;
}

bool check_ctnn(const Problem& P) {
  auto D = make_ctnn_data(P);
  bool ok = true;
  std::vector<double> want;
  {
    ref::forward(ref::A, P.pA, P.xA, 1, want);
    float y = 0;
    D->a.forward<1>(D->xA.data(), &y);
    ok &= compare<float>("ctnn A forward", want, {&y, 1});
    std::vector<double> p = P.pA;
    const double loss_ref = ref::sgd_step_half_sse(ref::A, p, P.xA, 1, P.yA, kCheckLr);
    const float loss = D->a.sgd_step<1>(ctnn::loss::mse_half_sum, D->xA.data(), D->yA.data(), float(kCheckLr));
    ok &= compare_scalar("ctnn A loss", loss_ref, loss);
    ok &= compare<float>("ctnn A params after step", p, D->a.params());
  }
  {
    ref::forward(ref::B, P.pB, P.xB, 1, want);
    float y[10];
    D->b_probs.forward<1>(D->xB.data(), y);
    ok &= compare<float>("ctnn B forward", want, {y, 10});
    std::vector<double> p = P.pB;
    const int label[1] = {P.labelB};
    const double loss_ref = ref::sgd_step_softmax_ce(ref::B, p, P.xB, 1, label, kCheckLr);
    const float loss = D->b.sgd_step<1>(ctnn::loss::softmax_cross_entropy, D->xB.data(), D->yB.data(), float(kCheckLr));
    ok &= compare_scalar("ctnn B loss", loss_ref, loss);
    ok &= compare<float>("ctnn B params after step", p, D->b.params());
  }
  {
    ref::forward(ref::C, P.pC, P.xC, kBatchC, want);
    std::vector<float> y(kBatchC * 10);
    D->c_probs.forward<kBatchC>(D->xC.data(), y.data());
    ok &= compare<float>("ctnn C forward", want, y);
    std::vector<double> p = P.pC;
    const double loss_ref = ref::sgd_step_softmax_ce(ref::C, p, P.xC, kBatchC, P.labelsC, kCheckLr);
    const float loss =
        D->c.sgd_step<kBatchC>(ctnn::loss::softmax_cross_entropy, D->xC.data(), D->yC.data(), float(kCheckLr));
    ok &= compare_scalar("ctnn C loss", loss_ref, loss);
    ok &= compare<float>("ctnn C params after step", p, D->c.params());
  }
  return ok;
}

void register_ctnn_benchmarks(const Problem& P) {
  static std::unique_ptr<CtnnData> D = make_ctnn_data(P);
  CtnnData* d = D.get();
  register_timed("A_forward/ctnn", [d](benchmark::State& st) {
    const CtnnA* net = &d->a;
    const float* x = d->xA.data();
    benchmark::DoNotOptimize(net);
    benchmark::DoNotOptimize(x);
    float y = 0;
    for (auto _ : st) {
      net->forward<1>(x, &y);
      benchmark::DoNotOptimize(y);
      benchmark::ClobberMemory();
    }
  });
  register_timed("A_forward_latency/ctnn", [d](benchmark::State& st) {
    const CtnnA* net = &d->a;
    float x[4] = {d->xA[0], d->xA[1], d->xA[2], d->xA[3]};
    const float x0 = x[0];
    benchmark::DoNotOptimize(net);
    float y = 0;
    for (auto _ : st) {
      net->forward<1>(x, &y);
      x[0] = x0 + y * 1e-30f;
      benchmark::DoNotOptimize(x);
    }
  });
  register_timed("A_step/ctnn", [d](benchmark::State& st) {
    CtnnA* net = &d->a;
    const float* x = d->xA.data();
    const float* y = d->yA.data();
    benchmark::DoNotOptimize(net);
    benchmark::DoNotOptimize(x);
    benchmark::DoNotOptimize(y);
    for (auto _ : st) {
      float loss = net->sgd_step<1>(ctnn::loss::mse_half_sum, x, y, kBenchLr);
      benchmark::DoNotOptimize(loss);
      benchmark::ClobberMemory();
    }
  });
  register_timed("B_forward/ctnn", [d](benchmark::State& st) {
    const CtnnBProbs* net = &d->b_probs;
    const float* x = d->xB.data();
    benchmark::DoNotOptimize(net);
    benchmark::DoNotOptimize(x);
    alignas(64) float y[10];
    for (auto _ : st) {
      net->forward<1>(x, y);
      benchmark::DoNotOptimize(y);
      benchmark::ClobberMemory();
    }
  });
  register_timed("B_step/ctnn", [d](benchmark::State& st) {
    CtnnBLogits* net = &d->b;
    const float* x = d->xB.data();
    const float* y = d->yB.data();
    benchmark::DoNotOptimize(net);
    benchmark::DoNotOptimize(x);
    benchmark::DoNotOptimize(y);
    for (auto _ : st) {
      float loss = net->sgd_step<1>(ctnn::loss::softmax_cross_entropy, x, y, kBenchLr);
      benchmark::DoNotOptimize(loss);
      benchmark::ClobberMemory();
    }
  });
  register_timed("C_forward/ctnn", [d](benchmark::State& st) {
    const CtnnCProbs* net = &d->c_probs;
    const float* x = d->xC.data();
    std::vector<float> y(kBatchC * 10);
    float* yp = y.data();
    benchmark::DoNotOptimize(net);
    benchmark::DoNotOptimize(x);
    for (auto _ : st) {
      net->forward<kBatchC>(x, yp);
      benchmark::DoNotOptimize(yp);
      benchmark::ClobberMemory();
    }
  })->Unit(benchmark::kMicrosecond);
  register_timed("C_step/ctnn", [d](benchmark::State& st) {
    CtnnCLogits* net = &d->c;
    const float* x = d->xC.data();
    const float* y = d->yC.data();
    benchmark::DoNotOptimize(net);
    benchmark::DoNotOptimize(x);
    for (auto _ : st) {
      float loss = net->sgd_step<kBatchC>(ctnn::loss::softmax_cross_entropy, x, y, kBenchLr);
      benchmark::DoNotOptimize(loss);
      benchmark::ClobberMemory();
    }
  })->Unit(benchmark::kMicrosecond);
}

// ------------------------------------------------------------------------------------------------
// B hand-written in AVX-512 intrinsics (bench/intrinsics_mlp.hpp): the machine's floor for this
// computation, beside the Eigen baseline. B_forward/intrinsics and B_step/intrinsics.
// ------------------------------------------------------------------------------------------------
#if defined(__AVX512F__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
struct IntrinsicsData {
  intrinsics_mlp::NetB b;
  std::vector<float> xB;
  int labelB = 0;
};
std::unique_ptr<IntrinsicsData> make_intrinsics_data(const Problem& P) {
  auto D = std::make_unique<IntrinsicsData>();
  D->b.load_flat(P.pB.data());
  D->xB.assign(P.xB.begin(), P.xB.end());
  D->labelB = P.labelB;
  return D;
}
bool check_intrinsics(const Problem& P) {
  auto D = make_intrinsics_data(P);
  std::vector<double> want;
  ref::forward(ref::B, P.pB, P.xB, 1, want);
  float probs[10];
  intrinsics_mlp::forward_b(D->b, D->xB.data(), probs);
  bool ok = compare<float>("intrinsics B forward", want, {probs, 10});
  std::vector<double> p = P.pB;
  const int label[1] = {P.labelB};
  const double loss_ref = ref::sgd_step_softmax_ce(ref::B, p, P.xB, 1, label, kCheckLr);
  const float loss = intrinsics_mlp::sgd_step_b(D->b, D->xB.data(), D->labelB, float(kCheckLr));
  std::vector<float> got(intrinsics_mlp::NetB::num_params);
  D->b.store_flat(got.data());
  ok &= compare_scalar("intrinsics B loss", loss_ref, loss);
  ok &= compare<float>("intrinsics B params after step", p, got);
  return ok;
}
void register_intrinsics_benchmarks(const Problem& P) {
  static std::unique_ptr<IntrinsicsData> D = make_intrinsics_data(P);
  IntrinsicsData* d = D.get();
  register_timed("B_forward/intrinsics", [d](benchmark::State& st) {
    const intrinsics_mlp::NetB* net = &d->b;
    const float* x = d->xB.data();
    benchmark::DoNotOptimize(net);
    benchmark::DoNotOptimize(x);
    alignas(64) float y[10];
    for (auto _ : st) {
      intrinsics_mlp::forward_b(*net, x, y);
      benchmark::DoNotOptimize(y);
      benchmark::ClobberMemory();
    }
  });
  register_timed("B_step/intrinsics", [d](benchmark::State& st) {
    intrinsics_mlp::NetB* net = &d->b;
    const float* x = d->xB.data();
    const int* label = &d->labelB;
    benchmark::DoNotOptimize(net);
    benchmark::DoNotOptimize(x);
    benchmark::DoNotOptimize(label);
    for (auto _ : st) {
      float loss = intrinsics_mlp::sgd_step_b(*net, x, *label, kBenchLr);
      benchmark::DoNotOptimize(loss);
      benchmark::ClobberMemory();
    }
  });
}
#else
bool check_intrinsics(const Problem&) { return true; }
void register_intrinsics_benchmarks(const Problem&) {}
#endif

// Collects each benchmark's median (or its single run) and prints ctnn/eigen ratios at the end.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
      const double t = r.GetAdjustedCPUTime() * unit_ns(r.time_unit);
      if (median || (r.run_type == Run::RT_Iteration && r.repetitions <= 1)) times_[r.run_name.function_name] = t;
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "min") mins_[r.run_name.function_name] = t;
    }
  }
  void print_ratios() const {
    std::printf("\nratio ctnn / eigen (median CPU time of this process, same run; equal to real time on a quiet machine):\n");
    for (const char* w : {"A_forward", "A_forward_latency", "A_step", "B_forward", "B_step", "C_forward", "C_step"}) {
      auto e = times_.find(std::string(w) + "/eigen"), c = times_.find(std::string(w) + "/ctnn");
      if (e == times_.end() || c == times_.end()) continue;
      std::printf("  %-17s eigen %12.1f ns   ctnn %12.1f ns   ratio %.2f", w, e->second, c->second,
                  c->second / e->second);
      auto em = mins_.find(e->first), cm = mins_.find(c->first);
      if (em != mins_.end() && cm != mins_.end())
        std::printf("   (minima %.1f / %.1f ns: %.2f)", em->second, cm->second, cm->second / em->second);
      std::printf("\n");
    }
    for (const char* w : {"B_forward", "B_step"}) {
      auto e = times_.find(std::string(w) + "/eigen"), c = times_.find(std::string(w) + "/ctnn"),
           i = times_.find(std::string(w) + "/intrinsics");
      if (e == times_.end() || c == times_.end() || i == times_.end()) continue;
      std::printf("  %-17s hand-written AVX-512 intrinsics %.1f ns: %.2f of eigen's time; ctnn takes %.2f of its time\n", w,
                  i->second, i->second / e->second, c->second / i->second);
    }
  }

 private:
  static double unit_ns(benchmark::TimeUnit u) {
    switch (u) {
      case benchmark::kNanosecond: return 1;
      case benchmark::kMicrosecond: return 1e3;
      case benchmark::kMillisecond: return 1e6;
      default: return 1e9;
    }
  }
  std::map<std::string, double> times_, mins_;
};
// ================================================================================================

}  // namespace

int main(int argc, char** argv) {
  const Problem P = make_problem();

  std::printf("correctness vs double reference (tolerance 1e-5 rel + 1e-6 abs):\n");
  bool ok = check_eigen(P);
  ok &= check_ctnn(P);  // ctnn side
  ok &= check_intrinsics(P);
  if (!ok) {
    std::printf("correctness check FAILED; not benchmarking\n");
    return 1;
  }
  std::fflush(stdout);

  auto eigen_data = make_eigen_data(P);
  register_eigen_benchmarks(*eigen_data);
  register_ctnn_benchmarks(P);  // ctnn side
  register_intrinsics_benchmarks(P);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();
  benchmark::Shutdown();
  return 0;
}
