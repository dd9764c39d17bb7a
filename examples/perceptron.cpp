// examples/perceptron.cpp: Rosenblatt's perceptron learns AND and OR, fails on XOR (not linearly
// separable), and a 2-3-1 sigmoid network trained by batch gradient descent learns XOR.
#include <cstdio>

#include "ctnn/ctnn.hpp"
#include "ctnn/train/gradient_descent.hpp"
#include "ctnn/train/perceptron.hpp"

using Perceptron = ctnn::Network<double, ctnn::Dense<2, 1>, ctnn::Step>;

static const double X[4 * 2] = {0, 0, 0, 1, 1, 0, 1, 1};

static void learn(const char* name, const double (&t)[4]) {
  Perceptron net(0, ctnn::Init::zeros);
  const auto r = ctnn::train_perceptron(net, X, t, 4, 0.1, 100);
  const auto p = net.params();
  std::printf("%-4s converged=%s: 100%% correct in epoch %zu; w = (%.2f, %.2f), b = %.2f\n", name,
              r.converged ? "yes" : "no", r.epochs, p[0], p[1], p[2]);
  std::printf("     errors per epoch:");
  for (std::size_t e : r.errors) std::printf(" %zu", e);
  std::printf("\n     outputs:");
  for (int n = 0; n < 4; ++n) {
    double o;
    net.forward<1>(X + 2 * n, &o);
    std::printf(" %g%g->%g", X[2 * n], X[2 * n + 1], o);
  }
  std::printf("\n");
}

int main() {
  std::printf("== Perceptron rule (eta 0.1, zero initial weights, H(z) = 1 if z > 0) ==\n");
  learn("AND", {0, 0, 0, 1});
  learn("OR", {0, 1, 1, 1});

  const double xor_t[4] = {0, 1, 1, 0};
  Perceptron net(0, ctnn::Init::zeros);
  const auto r = ctnn::train_perceptron(net, X, xor_t, 4, 0.1, 1000);
  std::size_t fewest = 4;
  for (std::size_t e : r.errors) fewest = e < fewest ? e : fewest;
  std::printf("XOR  converged=%s after %zu epochs; fewest errors in any epoch: %zu of 4\n", r.converged ? "yes" : "no",
              r.epochs, fewest);
  std::printf(
      "     why: a single step neuron would need H(w1+b)=1, H(w2+b)=1, H(b)=0, H(w1+w2+b)=0, i.e.\n"
      "     w1+b > 0, w2+b > 0, b <= 0, w1+w2+b <= 0. Adding the first two: w1+w2+2b > 0, so\n"
      "     w1+w2+b > -b >= 0, contradicting w1+w2+b <= 0. XOR is not linearly separable, and\n"
      "     the perceptron rule cycles forever.\n\n");

  std::printf("== 2-3-1 sigmoid network, bce_prob, batch gradient descent ==\n");
  using Mlp = ctnn::Network<double, ctnn::Dense<2, 3>, ctnn::Sigmoid, ctnn::Dense<3, 1>, ctnn::Sigmoid>;
  Mlp mlp(0);  // Xavier-uniform weights from seed 0
  ctnn::GDOptions opt{ctnn::Descent::batch, 2.0, 10000, 1e-3, 0};
  const auto g = ctnn::gradient_descent<4>(mlp, ctnn::loss::bce_prob, X, xor_t, 4, opt);
  std::printf("stopped by %s after %zu iterations: loss %.5f, |grad| %.2e\n",
              g.stopped_by == ctnn::StopReason::gradient_norm ? "gradient norm" : "max iterations", g.iterations, g.loss,
              g.grad_norm);
  bool ok = true;
  for (int n = 0; n < 4; ++n) {
    double o;
    mlp.forward<1>(X + 2 * n, &o);
    ok = ok && ((o > 0.5) == (xor_t[n] > 0.5));
    std::printf("  %g xor %g = %g: output %.4f\n", X[2 * n], X[2 * n + 1], xor_t[n], o);
  }
  std::printf("all four outputs on the right side of 0.5: %s\n", ok ? "yes" : "no");
  return ok ? 0 : 1;
}
