// tests/equations: classifiers. Softmax cross-entropy from logits is not a fused node in ctnn — it
// is logsumexp(z) − Σₖ y ⊙ z — yet the log-sum-exp rule's adjoint is softmax(z), so the printed
// δ(L) comes out as the fused textbook form (softmax(z) − y)/N. A Softmax output layer with
// cross-entropy on probabilities is not simplified: it prints the chain through the softmax rule.
#include <doctest/doctest.h>

#include <string>

#include <ctnn/ctnn.hpp>
#include <ctnn/nn/equations.hpp>

using namespace ctnn;

TEST_CASE("tanh net with softmax cross-entropy on logits: δ(L) = (softmax(z(L)) − y)/N") {
  const Network<double, Dense<4, 5>, Tanh, Dense<5, 3>> net(1);
  const std::string expected =
      "z(1) = W(1) x + b(1)\n"
      "a(1) = tanh(z(1))\n"
      "z(2) = W(2) a(1) + b(2)\n"
      "ŷ = z(2)\n"
      "J = 1/N · Σ (lse(z(2)) − Σₖ (y ⊙ z(2)))\n"
      "δ(2) = 1/N · (softmax(z(2)) − y)\n"
      "δ(1) = (W(2)ᵀ δ(2)) ⊙ tanh′(z(1))\n"
      "∂J/∂W(1) = δ(1) xᵀ\n"
      "∂J/∂b(1) = Σₙ δ(1)\n"
      "∂J/∂W(2) = δ(2) a(1)ᵀ\n"
      "∂J/∂b(2) = Σₙ δ(2)\n";
  CHECK(nn::equations(net, loss::softmax_cross_entropy).text() == expected);
}

TEST_CASE("ReLU net, Softmax layer, cross-entropy on probabilities: the chain through softmax") {
  const Network<double, Dense<4, 5>, ReLU, Dense<5, 3>, Softmax> net(1);
  const std::string expected =
      "z(1) = W(1) x + b(1)\n"
      "a(1) = relu(z(1))\n"
      "z(2) = W(2) a(1) + b(2)\n"
      "ŷ = softmax(z(2))\n"
      "J = −1/N · Σ log(max(Σₖ (y ⊙ ŷ), 3.72008e-44))\n"
      "∂J/∂ŷ = −1/N · (𝟙[Σₖ (y ⊙ ŷ) > 3.72008e-44] / max(Σₖ (y ⊙ ŷ), 3.72008e-44)) ⊙ y\n"
      "δ(2) = ŷ ⊙ (∂J/∂ŷ − Σₖ (∂J/∂ŷ ⊙ ŷ))\n"
      "δ(1) = (W(2)ᵀ δ(2)) ⊙ relu′(z(1))\n"
      "∂J/∂W(1) = δ(1) xᵀ\n"
      "∂J/∂b(1) = Σₙ δ(1)\n"
      "∂J/∂W(2) = δ(2) a(1)ᵀ\n"
      "∂J/∂b(2) = Σₙ δ(2)\n";
  CHECK(nn::equations(net, loss::cross_entropy).text() == expected);
}

TEST_CASE("three layers: the hidden recursion repeats with each layer's own activation") {
  const Network<double, Dense<2, 4>, ReLU, Dense<4, 4>, Tanh, Dense<4, 2>> net(1);
  const std::string t = nn::equations(net, loss::softmax_cross_entropy).text();
  CHECK(t.find("δ(3) = 1/N · (softmax(z(3)) − y)\n") != std::string::npos);
  CHECK(t.find("δ(2) = (W(3)ᵀ δ(3)) ⊙ tanh′(z(2))\n") != std::string::npos);
  CHECK(t.find("δ(1) = (W(2)ᵀ δ(2)) ⊙ relu′(z(1))\n") != std::string::npos);
  CHECK(t.find("∂J/∂W(2) = δ(2) a(1)ᵀ\n") != std::string::npos);
}
