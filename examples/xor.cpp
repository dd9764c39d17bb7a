// examples/xor.cpp: a 2-2-1 sigmoid network learns XOR with plain gradient descent in its three
// forms: batch (exact full-set gradient), stochastic (one sample per update) and mini-batch (2).
//
// 2-2-1 is the smallest sigmoid MLP that can represent XOR, and its loss surface has local minima
// and plateaus: not every start learns XOR. A survey over seeds 0..99 (Xavier-uniform starts,
// batch descent lr 2, 10000 updates) counts how many do and prints how the others fail. Measured:
// 74 of 100 learn it; 25 stop with two corners right and two at output 0.5 (loss -> ln2/2 = 0.3466),
// one with three corners at 2/3 (loss 0.477). These are not minima at finite weights but flat
// valleys whose bottom lies at infinity (for squared error Hamey, 1998, proved 2-2-1 XOR has no
// finite local minimum): from seed 0, 460000 more updates only grow max|w| from 11.7 to 16.4 while
// the loss creeps from 0.34684 to 0.34658 and |grad| falls from 1e-4 to 2e-6. Gradient descent
// does not leave them, which is what matters in practice.
// The claims checked (exit status): the documented seed 2 learns XOR in all three forms, and at
// least kRequiredShare (60%) of the surveyed seeds put all four outputs on the right side of 0.5.
//
// Run: build-test/examples/xor
#include <cstdint>
#include <cstdio>

#include "ctnn/ctnn.hpp"
#include "ctnn/train/gradient_descent.hpp"

using Net = ctnn::Network<double, ctnn::Dense<2, 2>, ctnn::Sigmoid, ctnn::Dense<2, 1>, ctnn::Sigmoid>;

static const double X[4 * 2] = {0, 0, 0, 1, 1, 0, 1, 1};
static const double Y[4] = {0, 1, 1, 0};

static const char* name(ctnn::Descent d) {
  switch (d) {
    case ctnn::Descent::batch: return "batch";
    case ctnn::Descent::stochastic: return "stochastic";
    case ctnn::Descent::mini_batch: return "mini-batch (B=2)";
  }
  return "?";
}

static bool run(ctnn::Descent mode, double lr, std::size_t max_iterations) {
  Net net(2);  // seed 2: the same Xavier-uniform start for every mode
  // Tolerance 1e-4: with 1e-3 the stochastic and mini-batch runs stop early on the plateau at
  // loss ln 2 = 0.693 (all outputs 0.5), where the full-batch gradient is nearly zero: a small
  // gradient norm marks a stationary region, not necessarily a minimum.
  const ctnn::GDOptions opt{mode, lr, max_iterations, 1e-4, 42};
  const auto r = ctnn::gradient_descent<2>(net, ctnn::loss::bce_prob, X, Y, 4, opt);
  std::printf("%-17s lr %.1f: stopped by %s after %zu updates (%zu epochs), loss %.4f -> %.4f, |grad| %.1e\n",
              name(mode), lr, ctnn::to_string(r.stopped_by), r.iterations, r.loss_history.size() - 1, r.loss_history.front(), r.loss, r.grad_norm);
  bool ok = true;
  std::printf("                  outputs:");
  for (int n = 0; n < 4; ++n) {
    double o;
    net.forward<1>(X + 2 * n, &o);
    ok = ok && ((o > 0.5) == (Y[n] > 0.5));
    std::printf("  %g^%g=%.3f", X[2 * n], X[2 * n + 1], o);
  }
  std::printf("  -> %s\n", ok ? "XOR learned" : "not learned");
  return ok;
}

constexpr std::uint64_t kSeeds = 100;
constexpr double kRequiredShare = 0.6;

// Batch descent from each seed; returns the number of seeds whose four outputs are all on the
// right side of 0.5, and prints the failures.
static std::size_t survey() {
  std::size_t learned = 0;
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    Net net(seed);
    const ctnn::GDOptions opt{ctnn::Descent::batch, 2.0, 10000, 0, 0};
    const auto r = ctnn::gradient_descent<4>(net, ctnn::loss::bce_prob, X, Y, 4, opt);
    double o[4];
    bool ok = true;
    for (int n = 0; n < 4; ++n) {
      net.forward<1>(X + 2 * n, o + n);
      ok = ok && ((o[n] > 0.5) == (Y[n] > 0.5));
    }
    learned += ok;
    if (!ok)
      std::printf("  seed %3llu: not learned, loss %.4f, outputs %.3f %.3f %.3f %.3f (|grad| %.1e)\n",
                  static_cast<unsigned long long>(seed), r.loss, o[0], o[1], o[2], o[3], r.grad_norm);
  }
  return learned;
}

int main() {
  std::printf("2-2-1 sigmoid network, binary cross-entropy, XOR, seed 2\n");
  bool ok = run(ctnn::Descent::batch, 2.0, 10000);
  ok = run(ctnn::Descent::stochastic, 0.5, 40000) && ok;
  ok = run(ctnn::Descent::mini_batch, 1.0, 20000) && ok;
  std::printf("\nsurvey: batch descent lr 2.0, 10000 updates, seeds 0..%llu\n", static_cast<unsigned long long>(kSeeds - 1));
  const std::size_t learned = survey();
  const double share = static_cast<double>(learned) / static_cast<double>(kSeeds);
  std::printf("survey: %zu of %llu seeds learn XOR (%.0f%%; required %.0f%%)\n", learned,
              static_cast<unsigned long long>(kSeeds), 100 * share, 100 * kRequiredShare);
  std::printf("claim: seed 2 learns XOR in all three forms: %s; most seeds learn it: %s\n", ok ? "yes" : "NO",
              share >= kRequiredShare ? "yes" : "NO");
  return ok && share >= kRequiredShare ? 0 : 1;
}
