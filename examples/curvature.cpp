// examples/curvature.cpp: the second-order view of a gradient step on a real network, from
// Hessian-vector products (forward-over-reverse on dual numbers, nn/hvp.hpp; nn/curvature.hpp):
//   η* = gᵀg / gᵀHg  — the best step along −g if the loss were its second-order Taylor model;
//   L  = |λ|max(H)    — the gradient's local Lipschitz constant, by power iteration on HVPs,
//                       suggesting the learning rate 1/L.
// Network: 13-8-3 tanh MLP with softmax cross-entropy on standardised data/wine (full training
// set, 142 samples; the loss and its HVP are sums over batches of 8 and a tail of single samples).
// Claims checked (exit status): at the initial point and after training, the step θ − η* g lowers
// the loss, and by roughly the model's predicted decrease (within a factor 2); 100 gradient-descent
// steps at lr = 1/L lower the loss at every step; power iteration converges. Also printed: the cost
// of one HVP against one gradient on the same data.
//
// Run: build-test/examples/curvature [data folder]   (default: $CTNN_DATA, else ./data)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/io/csv.hpp"
#include "ctnn/nn/curvature.hpp"
#include "ctnn/nn/hvp.hpp"

namespace {

constexpr std::size_t K = 3, Chunk = 8;
using Net = ctnn::Network<double, ctnn::Dense<13, 8>, ctnn::Tanh, ctnn::Dense<8, K>, ctnn::Identity>;
constexpr std::size_t P = Net::num_params, In = Net::inputs;
const auto& loss = ctnn::loss::softmax_cross_entropy;

// The mean loss over n samples as a weighted sum of batch means (chunks of 8, then single samples).
struct FullData {
  std::size_t n = 0;
  std::vector<double> X, Y;
  ctnn::NetworkHvp<Net, Chunk> h8;
  ctnn::NetworkHvp<Net, 1> h1;
  std::vector<double> hv, g;
  FullData() : hv(P), g(P) {}

  template <class F1, class F8>
  double over_batches(F8&& f8, F1&& f1) const {
    double total = 0;
    std::size_t i = 0;
    for (; i + Chunk <= n; i += Chunk) total += f8(i) * (double(Chunk) / double(n));
    for (; i < n; ++i) total += f1(i) / double(n);
    return total;
  }
  double loss_at(const Net& net) const {
    return over_batches([&](std::size_t i) { return net.loss<Chunk>(loss, &X[i * In], &Y[i * K]); },
                        [&](std::size_t i) { return net.loss<1>(loss, &X[i * In], &Y[i * K]); });
  }
  double gradient(Net& net, double* grad) {
    std::fill(grad, grad + P, 0.0);
    auto add = [&](double w) {
      for (std::size_t j = 0; j < P; ++j) grad[j] += w * net.grads()[j];
    };
    return over_batches(
        [&](std::size_t i) { const double l = net.gradient<Chunk>(loss, &X[i * In], &Y[i * K]); add(double(Chunk) / double(n)); return l; },
        [&](std::size_t i) { const double l = net.gradient<1>(loss, &X[i * In], &Y[i * K]); add(1.0 / double(n)); return l; });
  }
  // The full-data HVP at net's parameters, as nn/curvature.hpp takes it: (v, Hv, g) -> loss.
  auto hvp_at(const Net& net) {
    return [this, &net](const double* v, double* Hv, double* gout) {
      std::fill(Hv, Hv + P, 0.0);
      if (gout) std::fill(gout, gout + P, 0.0);
      auto add = [&](double w) {
        for (std::size_t j = 0; j < P; ++j) Hv[j] += w * hv[j];
        if (gout)
          for (std::size_t j = 0; j < P; ++j) gout[j] += w * g[j];
      };
      return over_batches(
          [&](std::size_t i) { const double l = h8(net, loss, &X[i * In], &Y[i * K], v, hv.data(), g.data()); add(double(Chunk) / double(n)); return l; },
          [&](std::size_t i) { const double l = h1(net, loss, &X[i * In], &Y[i * K], v, hv.data(), g.data()); add(1.0 / double(n)); return l; });
    };
  }
};

bool report(const char* when, Net& net, FullData& d, ctnn::CurvatureProbe<double>& probe) {
  const auto s = probe.optimal_step(d.hvp_at(net));
  const auto L = probe.lipschitz(d.hvp_at(net));
  Net stepped = net;
  auto th = stepped.params();
  const auto g = probe.gradient();
  for (std::size_t j = 0; j < P; ++j) th[j] -= s.eta * g[j];
  const double after = d.loss_at(stepped);
  std::printf("%s: loss %.6f  |g|² %.3e  gᵀHg %.3e\n", when, s.loss, s.grad_sq, s.curvature);
  std::printf("  eta* = %.4f   L = %.4f (λ = %+.4f, %zu HVPs, residual %.1e)   1/L = %.4f\n", s.eta, L.L,
              L.eigenvalue, L.iterations, L.residual, L.lr);
  std::printf("  step of eta* along -g: loss %.6f -> %.6f (decrease %.3e, model predicted %.3e)\n", s.loss, after,
              s.loss - after, s.predicted_decrease);
  bool ok = true;
  if (!s.positive_curvature) { std::printf("  FAILED: gᵀHg <= 0\n"); ok = false; }
  if (!(after < s.loss)) { std::printf("  FAILED: the eta* step did not lower the loss\n"); ok = false; }
  const double ratio = (s.loss - after) / s.predicted_decrease;
  if (!(ratio > 0.5 && ratio < 2.0)) { std::printf("  FAILED: decrease / predicted = %.3f\n", ratio); ok = false; }
  if (!L.converged) { std::printf("  FAILED: power iteration did not converge\n"); ok = false; }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : (std::getenv("CTNN_DATA") ? std::getenv("CTNN_DATA") : "data");
  ctnn::io::Dataset wine;
  try {
    wine = ctnn::io::load_csv(dir + "/wine_train.csv");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "curvature: %s\n(give the data folder as the first argument or in CTNN_DATA)\n", e.what());
    return 2;
  }
  if (wine.cols != In || wine.num_classes() != K) {
    std::fprintf(stderr, "curvature: %s/wine_train.csv: expected %zu features and %zu classes, got %zu and %zu\n",
                 dir.c_str(), In, K, wine.cols, wine.num_classes());
    return 2;
  }
  ctnn::io::Standardizer::fit(wine).apply(wine);
  FullData d;
  d.n = wine.rows;
  d.X.assign(wine.features.begin(), wine.features.end());
  d.Y.assign(d.n * K, 0.0);
  for (std::size_t i = 0; i < d.n; ++i) d.Y[i * K + static_cast<std::size_t>(wine.labels[i])] = 1.0;

  Net net(42);
  ctnn::CurvatureProbe<double> probe(P);
  std::printf("13-8-3 tanh MLP, softmax cross-entropy, data/wine (%zu samples, %zu parameters)\n", d.n, P);
  bool ok = report("initial point", net, d, probe);

  // Gradient descent at the suggested rate 1/L: the loss falls at every step.
  const double lr = probe.lipschitz(d.hvp_at(net)).lr;
  std::vector<double> grad(P);
  double prev = d.gradient(net, grad.data());
  const double first = prev;
  std::size_t rises = 0;
  for (int t = 0; t < 100; ++t) {
    auto th = net.params();
    for (std::size_t j = 0; j < P; ++j) th[j] -= lr * grad[j];
    const double l = d.gradient(net, grad.data());
    if (!(l < prev)) ++rises;
    prev = l;
  }
  std::printf("100 steps of gradient descent at lr = 1/L = %.4f: loss %.6f -> %.6f, %zu rises\n", lr, first, prev, rises);
  if (rises != 0 || !(prev < first)) { std::printf("FAILED: gradient descent at 1/L did not descend monotonically\n"); ok = false; }
  ok = report("after 100 steps", net, d, probe) && ok;

  // Cost of one full-data HVP against one full-data gradient (same batches).
  std::vector<double> v(P, 0.01), Hv(P);
  auto hvp = d.hvp_at(net);
  const int reps = 200;
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) d.gradient(net, grad.data());
  const double tg = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
  t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) hvp(v.data(), Hv.data(), nullptr);
  const double th = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
  std::printf("one gradient %.1f us, one HVP (gradient + H v) %.1f us: %.1fx\n", tg * 1e6, th * 1e6, th / tg);
  std::printf(ok ? "OK\n" : "FAILED\n");
  return ok ? 0 : 1;
}
