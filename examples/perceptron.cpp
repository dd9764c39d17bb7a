// examples/perceptron.cpp: Rosenblatt's perceptron learns AND and OR, fails on XOR (not linearly
// separable), and a 2-3-1 sigmoid network trained by batch gradient descent learns XOR.
// Exit status 0 only if all hold: the perceptron converges on AND and OR (an error-free epoch
// within 100, its outputs then equal the targets); on XOR it makes at least one error in every one
// of 1000 epochs AND its weights return exactly to an earlier epoch's (the rule is deterministic,
// so from there it repeats the same error-making epochs forever: a finite proof that it never
// converges); the 2-3-1 network puts all four XOR outputs on the right side of 0.5.
#include <array>
#include <cstdio>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/train/gradient_descent.hpp"
#include "ctnn/train/perceptron.hpp"

using Perceptron = ctnn::Network<double, ctnn::Dense<2, 1>, ctnn::Step>;

static const double X[4 * 2] = {0, 0, 0, 1, 1, 0, 1, 1};

// True if the perceptron converged and now classifies all four inputs as t says.
static bool learn(const char* name, const double (&t)[4]) {
  Perceptron net(0, ctnn::Init::zeros);
  const auto r = ctnn::train_perceptron(net, X, t, 4, 0.1, 100);
  const auto p = net.params();
  std::printf("%-4s converged=%s: 100%% correct in epoch %zu; w = (%.2f, %.2f), b = %.2f\n", name,
              r.converged ? "yes" : "no", r.epochs, p[0], p[1], p[2]);
  std::printf("     errors per epoch:");
  for (std::size_t e : r.errors) std::printf(" %zu", e);
  std::printf("\n     outputs:");
  bool right = true;
  for (int n = 0; n < 4; ++n) {
    double o;
    net.forward<1>(X + 2 * n, &o);
    right = right && o == t[n];
    std::printf(" %g%g->%g", X[2 * n], X[2 * n + 1], o);
  }
  std::printf("\n");
  return r.converged && right;
}

int main() {
  std::printf("== Perceptron rule (eta 0.1, zero initial weights, H(z) = 1 if z > 0) ==\n");
  const bool and_ok = learn("AND", {0, 0, 0, 1});
  const bool or_ok = learn("OR", {0, 1, 1, 1});

  // XOR, one epoch at a time, keeping the weights (w1, w2, b) after each epoch to find a cycle.
  const double xor_t[4] = {0, 1, 1, 0};
  Perceptron net(0, ctnn::Init::zeros);
  std::vector<std::array<double, 3>> seen{{0, 0, 0}};
  std::size_t epochs = 0, fewest = 4, cycle_from = 0, cycle_len = 0;
  bool converged = false;
  while (epochs < 1000 && !converged) {
    const auto r = ctnn::train_perceptron(net, X, xor_t, 4, 0.1, 1);
    ++epochs;
    converged = r.converged;
    fewest = r.errors[0] < fewest ? r.errors[0] : fewest;
    const auto p = net.params();
    const std::array<double, 3> w{p[0], p[1], p[2]};
    for (std::size_t e = 0; e < seen.size() && cycle_len == 0; ++e)
      if (seen[e] == w) cycle_from = e, cycle_len = epochs - e;
    seen.push_back(w);
  }
  const bool xor_ok = !converged && fewest > 0 && cycle_len > 0;
  std::printf("XOR  converged=%s after %zu epochs; fewest errors in any epoch: %zu of 4\n", converged ? "yes" : "no",
              epochs, fewest);
  if (cycle_len > 0)
    std::printf("     the weights after epoch %zu equal those after epoch %zu (w = (%.2f, %.2f), b = %.2f):\n"
                "     a cycle of %zu epoch(s), each with an error, so the rule never converges\n",
                cycle_from + cycle_len, cycle_from, seen[cycle_from][0], seen[cycle_from][1], seen[cycle_from][2],
                cycle_len);
  else
    std::printf("     no exact repeat of the weights found in %zu epochs\n", epochs);
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
  std::printf("stopped by %s after %zu iterations: loss %.5f, |grad| %.2e\n", ctnn::to_string(g.stopped_by),
              g.iterations, g.loss, g.grad_norm);
  bool ok = true;
  for (int n = 0; n < 4; ++n) {
    double o;
    mlp.forward<1>(X + 2 * n, &o);
    ok = ok && ((o > 0.5) == (xor_t[n] > 0.5));
    std::printf("  %g xor %g = %g: output %.4f\n", X[2 * n], X[2 * n + 1], xor_t[n], o);
  }
  std::printf("all four outputs on the right side of 0.5: %s\n\n", ok ? "yes" : "no");
  std::printf("perceptron learns AND: %s; learns OR: %s; never converges on XOR (cycle found): %s;\n"
              "2-3-1 network learns XOR: %s\n",
              and_ok ? "yes" : "NO", or_ok ? "yes" : "NO", xor_ok ? "yes" : "NO", ok ? "yes" : "NO");
  return and_ok && or_ok && xor_ok && ok ? 0 : 1;
}
