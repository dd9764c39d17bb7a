// examples/gradient_diagnostics.hpp: what examples/gradient_diagnostics.cpp measures on one network
// type, instantiated in one translation unit per net (gradient_diagnostics_{sigmoid,relu}.cpp) so
// that each compiles in reasonable time.
#pragma once
#include <algorithm>
#include <cstddef>
#include <functional>
#include <cstdint>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/nn/gradient_diagnostics.hpp"
#include "ctnn/optim/spectrum.hpp"

namespace gradient_diagnostics {

inline constexpr std::size_t kBatch = 64;         // samples of the gradient
inline constexpr std::size_t kFisherSamples = 32;  // samples of the true Fisher (x 10 classes = 320 rows)

/// A batch of digits in double: X (kBatch x 64, standardised), Y one-hot (kBatch x 10).
struct Batch {
  std::vector<double> X, Y;
};

struct Report {
  std::string name;
  std::vector<double> weight_norms, bias_norms;  // ‖∂J/∂W(l)‖_F, ‖∂J/∂b(l)‖ per layer
  double first_to_last = 0;                      // ‖∂J/∂W(1)‖ / ‖∂J/∂W(L)‖
  std::vector<double> sv_max, sv_min;            // layer Jacobian ∂a(l)/∂a(l−1) at sample 0
  ctnn::optim::Conditioning fisher;              // true Fisher over kFisherSamples samples
  std::vector<double> fisher_ev;                 // its eigenvalues, largest first
  std::size_t params = 0;
};

/// A 10-layer net (64 -> 32 x 9 -> 10) with activation Act after each hidden layer, logits out.
template <class Act>
using Deep = ctnn::Network<double, ctnn::Dense<64, 32>, Act, ctnn::Dense<32, 32>, Act, ctnn::Dense<32, 32>, Act,
                           ctnn::Dense<32, 32>, Act, ctnn::Dense<32, 32>, Act, ctnn::Dense<32, 32>, Act,
                           ctnn::Dense<32, 32>, Act, ctnn::Dense<32, 32>, Act, ctnn::Dense<32, 32>, Act,
                           ctnn::Dense<32, 10>, ctnn::Identity>;

/// Gradient norms, layer Jacobian singular values and the Fisher's conditioning of Net at its
/// initialisation (seed; Init::automatic: Xavier before a sigmoid, He before a ReLU).
template <class Net>
Report diagnose(const char* name, const Batch& b, std::uint64_t seed) {
  Report r;
  r.name = name;
  r.params = Net::num_params;
  Net net(seed, ctnn::Init::automatic);
  net.template gradient<kBatch>(ctnn::loss::softmax_cross_entropy, b.X.data(), b.Y.data());
  const auto g = ctnn::layer_gradient_norms(net);
  r.weight_norms.assign(g.weight.begin(), g.weight.end());
  r.bias_norms.assign(g.bias.begin(), g.bias.end());
  r.first_to_last = g.first_to_last();

  ctnn::LayerJacobians<Net> lj;
  for (std::size_t l = 0; l < lj.layers; ++l) {
    std::vector<double> J(lj.out(l) * lj.in(l));
    lj.jacobian(l, net, b.X.data(), J.data());
    const auto s = ctnn::optim::singular_values(J.data(), lj.out(l), lj.in(l));
    r.sv_max.push_back(s.front());
    r.sv_min.push_back(s.back());
  }

  ctnn::optim::FisherFactors<Net, ctnn::optim::likelihood::SoftmaxLogits> f(kFisherSamples,
                                                                            ctnn::optim::FisherKind::true_fisher);
  std::vector<double> grad(Net::num_params);
  f.compute(net, b.X.data(), b.Y.data(), kFisherSamples, grad);
  const auto ev = ctnn::optim::fisher_eigenvalues(f);
  r.fisher = ctnn::optim::conditioning(ev);
  r.fisher_ev = ev;
  std::sort(r.fisher_ev.begin(), r.fisher_ev.end(), std::greater<>());
  return r;
}

Report diagnose_sigmoid(const Batch& b, std::uint64_t seed);
Report diagnose_relu(const Batch& b, std::uint64_t seed);

}  // namespace gradient_diagnostics
