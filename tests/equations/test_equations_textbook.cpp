// tests/equations: the printed equations of the textbook net — Dense/sigmoid, ½·MSE + λ/2‖W‖² —
// against the textbook forms written out here, in text and in LaTeX, and the raw reverse sweep
// against the tape's plan (one statement per adjoint edge, = / += / ≡ as the plan says).
#include <doctest/doctest.h>

#include <string>

#include <ctnn/ctnn.hpp>
#include <ctnn/nn/equations.hpp>

using namespace ctnn;
using Net = Network<double, Dense<2, 3>, Sigmoid, Dense<3, 1>, Sigmoid>;

TEST_CASE("sigmoid net with MSE and L2 prints the textbook backprop equations") {
  const Net net(1);
  const auto eq = nn::equations(net, loss::with_l2(loss::mse_half_sum, 0.01));
  // Column convention (one sample per column); δ carries the loss's 1/N, so the weight gradients
  // are sums over the batch (δ aᵀ, Σₙ δ) with no further factor.
  const std::string expected =
      "z(1) = W(1) x + b(1)\n"
      "a(1) = σ(z(1))\n"
      "z(2) = W(2) a(1) + b(2)\n"
      "ŷ = σ(z(2))\n"
      "J = 1/(2N) · Σ (ŷ − y)² + λ/2 · (‖W(1)‖² + ‖W(2)‖²)\n"
      "δ(2) = 1/N · (ŷ − y) ⊙ σ′(z(2))\n"
      "δ(1) = (W(2)ᵀ δ(2)) ⊙ σ′(z(1))\n"
      "∂J/∂W(1) = δ(1) xᵀ + λ W(1)\n"
      "∂J/∂b(1) = Σₙ δ(1)\n"
      "∂J/∂W(2) = δ(2) a(1)ᵀ + λ W(2)\n"
      "∂J/∂b(2) = Σₙ δ(2)\n";
  CHECK(eq.text() == expected);

  const std::string latex_forward =
      "z^{(1)} &= W^{(1)} x + b^{(1)} \\\\\n"
      "a^{(1)} &= \\sigma(z^{(1)}) \\\\\n"
      "z^{(2)} &= W^{(2)} a^{(1)} + b^{(2)} \\\\\n"
      "\\hat{y} &= \\sigma(z^{(2)}) \\\\\n"
      "J &= \\frac{1}{2N} \\sum {(\\hat{y} - y)}^2 + \\frac{\\lambda}{2} "
      "(\\lVert W^{(1)} \\rVert^2 + \\lVert W^{(2)} \\rVert^2)\n";
  const std::string latex_backward =
      "\\delta^{(2)} &= \\frac{1}{N} (\\hat{y} - y) \\odot \\sigma'(z^{(2)}) \\\\\n"
      "\\delta^{(1)} &= ({W^{(2)}}^{\\top} \\delta^{(2)}) \\odot \\sigma'(z^{(1)}) \\\\\n"
      "\\frac{\\partial J}{\\partial W^{(1)}} &= \\delta^{(1)} {x}^{\\top} + \\lambda W^{(1)} \\\\\n"
      "\\frac{\\partial J}{\\partial b^{(1)}} &= \\sum_{n} \\delta^{(1)} \\\\\n"
      "\\frac{\\partial J}{\\partial W^{(2)}} &= \\delta^{(2)} {a^{(1)}}^{\\top} + \\lambda W^{(2)} \\\\\n"
      "\\frac{\\partial J}{\\partial b^{(2)}} &= \\sum_{n} \\delta^{(2)}\n";
  CHECK(eq.latex_forward() == latex_forward);
  CHECK(eq.latex_backward() == latex_backward);
}

TEST_CASE("the factors the library uses are printed: MSE mean, no L2, a batch-independent scale") {
  const Net net(1);
  // PyTorch's MSELoss divides by N·K (K = 1 output here): 1/N · Σ, and twice the half-sum's δ.
  const auto mean = nn::equations(net, loss::mse_mean).text();
  CHECK(mean.find("J = 1/N · Σ (ŷ − y)²\n") != std::string::npos);
  CHECK(mean.find("δ(2) = 2/N · (ŷ − y) ⊙ σ′(z(2))\n") != std::string::npos);
  CHECK(mean.find("∂J/∂W(1) = δ(1) xᵀ\n") != std::string::npos);  // no L2 term
  // A loss summed over the batch (no 1/N) prints no 1/N: the factor is read from the expression.
  auto sum_sq = [](auto p, auto y) { return ad::sum(ad::square(p - y)) * 3.0; };
  const auto summed = nn::equations(net, sum_sq).text();
  CHECK(summed.find("δ(2) = 6 (ŷ − y) ⊙ σ′(z(2))\n") != std::string::npos);
  // λ prints as λ whatever its value, even one that is itself a small fraction
  const auto half = nn::equations(net, loss::with_l2(loss::mse_half_sum, 0.5)).text();
  CHECK(half.find("λ/2 · (‖W(1)‖² + ‖W(2)‖²)\n") != std::string::npos);
  CHECK(half.find("∂J/∂W(2) = δ(2) a(1)ᵀ + λ W(2)\n") != std::string::npos);
}

TEST_CASE("the raw sweep is the tape's plan: one statement per adjoint edge, = first, += after") {
  const Net net(1);
  const auto eq = nn::equations(net, loss::with_l2(loss::mse_half_sum, 0.01));
  // W(2) is reached twice: first by the L2 term (the penalty's nodes come later in the order, so
  // the reverse sweep meets them first), then by the Dense layer's matmul, which adds.
  const std::string sweep = eq.tape_text();
  const auto first = sweep.find("∂J/∂W(2) = 2 v̄18 ⊙ W(2)\n");
  const auto second = sweep.find("∂J/∂W(2) += v̄7 a(1)ᵀ\n");
  CHECK(first != std::string::npos);
  CHECK(second != std::string::npos);
  CHECK(first < second);
  // The bias add passes its adjoint through: the tape aliases the matmul's adjoint slot (≡).
  CHECK(sweep.find("v̄7 ≡ v̄9\n") != std::string::npos);
  // as many statements as the plan has adjoint edges (interior node with an adjoint -> operand with one)
  using Root = decltype(loss::with_l2(loss::mse_half_sum, 0.01)(
      net.output_expression<101, false, true, false, true>(nullptr, nullptr), ad::Slot<double, ad::TargetTag, 101, 1, false>{},
      net.params_view<true, false, true>()));
  using P = ad::Plan<ad::topological_order<Root>, true>;
  std::size_t planned = 0;
  for (std::size_t j = 0; j < P::n; ++j)
    if (!P::is_leaf[j] && P::needs_grad[j])
      for (std::size_t k = 0; k < P::arity[j]; ++k) planned += P::needs_grad[P::child[j][k]];
  CHECK(eq.sweep.size() == planned);
}
