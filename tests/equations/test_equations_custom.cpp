// tests/equations: what the library has never seen prints correctly, because the printout is
// derived from the expression and the tape, not from a table of layers: a custom activation
// (swish, defined here), a custom loss (Huber), a new primitive op (defined here, printed through
// its own symbol), and a hand-built expression with no network.
#include <doctest/doctest.h>

#include <string>

#include <ctnn/ctnn.hpp>
#include <ctnn/nn/equations.hpp>

using namespace ctnn;

struct Swish {  // x · σ(x): x is used twice, so its adjoint is the sum of two edges
  template <class X> static auto apply(X x) { return x * ad::sigmoid(x); }
};

namespace test_ops {
struct Softsign {  // x / (1 + |x|): a primitive the library does not have
  static constexpr const char* name = "softsign";
  static constexpr const char* symbol = "ssgn";
  static constexpr const char* latex = "\\operatorname{ssgn}";
  template <class V> V value(const V& x) const noexcept { return x / (V(1) + simd::abs(x)); }
  template <class V> V derivative(const V& x, const V&) const noexcept {
    const V d = V(1) + simd::abs(x);
    return V(1) / (d * d);
  }
  friend constexpr bool operator==(const Softsign&, const Softsign&) = default;
};
}  // namespace test_ops
struct SoftsignLayer {
  template <class X> static auto apply(X x) { return ad::unary<test_ops::Softsign>(x); }
};

TEST_CASE("a custom activation prints its derivative from its expression") {
  const Network<double, Dense<2, 3>, Swish, Dense<3, 1>, Sigmoid> net(1);
  const std::string t = nn::equations(net, loss::mse_half_sum).text();
  CHECK(t.find("a(1) = z(1) ⊙ σ(z(1))\n") != std::string::npos);
  // d/dz [z σ(z)] = z σ′(z) + σ(z): the two edges into z(1), factored through a(1)'s adjoint
  CHECK(t.find("g′(z(1)) = z(1) ⊙ σ′(z(1)) + σ(z(1))\n") != std::string::npos);
  CHECK(t.find("δ(1) = (W(2)ᵀ δ(2)) ⊙ g′(z(1))\n") != std::string::npos);
  CHECK(t.find("δ(2) = 1/N · (ŷ − y) ⊙ σ′(z(2))\n") != std::string::npos);
}

TEST_CASE("a new primitive op prints through its own symbol, with no printing code") {
  const Network<double, Dense<2, 3>, SoftsignLayer, Dense<3, 1>> net(1);
  const std::string t = nn::equations(net, loss::mse_half_sum).text();
  CHECK(t.find("a(1) = ssgn(z(1))\n") != std::string::npos);
  CHECK(t.find("δ(1) = (W(2)ᵀ δ(2)) ⊙ ssgn′(z(1))\n") != std::string::npos);
  CHECK(t.find("δ(2) = 1/N · (z(2) − y)\n") != std::string::npos);  // identity output: no σ′
}

TEST_CASE("a custom loss (Huber) prints its derived adjoint") {
  const Network<double, Dense<2, 3>, Tanh, Dense<3, 1>> net(1);
  auto huber = [](auto p, auto t) {
    auto a = ad::abs(p - t), m = ad::minimum(a, 0.5);
    return ad::mean(m * (a - 0.5 * m));
  };
  const std::string t = nn::equations(net, huber).text();
  // |r| and min(|r|, δ) are used twice: named v12, v13 (their tape positions) instead of repeated
  CHECK(t.find("v12 = abs(z(2) − y)\n") != std::string::npos);
  CHECK(t.find("v13 = min(v12, 0.5)\n") != std::string::npos);
  CHECK(t.find("J = 1/N · Σ (v13 ⊙ (v12 − 1/2 · v13))\n") != std::string::npos);
  // ∂/∂m [m (a − m/2)] = a − m, through min's indicator; ∂/∂a = m; then through abs's sign
  CHECK(t.find("δ(2) = ((−1/(2N) · v13 + 1/N · (v12 − 1/2 · v13)) ⊙ 𝟙[v12 < 0.5] + 1/N · v13) ⊙ sign(z(2) − y)\n") !=
        std::string::npos);
}

TEST_CASE("one node type with different numbers: each occurrence is its own node, as in the pass") {
  double w[3] = {1, 2, 3}, g[3] = {};
  auto wv = ad::variable<0, 1, 3>(w, g);
  // relu(w − 1/2) and relu(w − 3/2) are one type, as are 2w and 3w (names by the plain order)
  auto e = ad::sum(ad::relu(wv - 0.5)) + ad::sum(ad::relu(wv - 1.5)) + ad::sum(wv * 2.0 + wv * 3.0);
  using Order = ad::topological_order<decltype(e)>;
  static_assert(ad::StaticTape<decltype(e)>::payload_repeated);
  ad::eq::Names names(Order::size);
  names.value[meta::index_of_v<Order, decltype(wv)>] = ad::eq::Symbol{"w", "w"};
  const auto eq = ad::eq::derive(e, names, {});
  CHECK(eq.text() ==
        "J = Σ relu(−1/2 + w) + Σ relu(−3/2 + w) + Σ (2 w + 3 w)\n"
        "∂J/∂w = relu′(−1/2 + w) + relu′(−3/2 + w) + 2 + 3\n");
  // with equal numbers the two relu terms are one node (the plain order), used twice
  auto same = ad::sum(ad::relu(wv - 0.5)) + ad::sum(ad::relu(wv - 0.5));
  using Same = ad::topological_order<decltype(same)>;
  ad::eq::Names sn(Same::size);
  sn.value[meta::index_of_v<Same, decltype(wv)>] = ad::eq::Symbol{"w", "w"};
  CHECK(ad::eq::derive(same, sn, {}).tape_text().find("v4 = v3 + v3\n") != std::string::npos);
}

TEST_CASE("a pinball loss at two quantiles on a leaky-ReLU net: the keyed pass's nodes, numbered") {
  // relu(τ·d) is one type for τ = 0.1 and 0.9, and the leaky slope sits below the output, so the
  // pass keys everything from a(1) up by path: the net above z(1) runs once per relu term
  Network<double, Dense<3, 4>, LeakyReLU, Dense<4, 2>> net(1);
  const auto pinball = [](auto out, auto y) {
    auto d = y - out;
    return sum(ad::relu(d * 0.1) + ad::relu(d * -0.9)) + sum(ad::relu(d * 0.9) + ad::relu(d * -0.1));
  };
  const std::string t = nn::equations(net, pinball).text();
  CAPTURE(t);
  CHECK(t.find("z(1) = W(1) x + b(1)\n") != std::string::npos);
  CHECK(t.find("a(1)⟨1⟩ = lrelu(z(1))\n") != std::string::npos);
  CHECK(t.find("z(2)⟨4⟩ = W(2) a(1)⟨4⟩ + b(2)\n") != std::string::npos);
  CHECK(t.find("δ(2)⟨2⟩ = 9/(10) · relu′(−9/(10) · (y − z(2)⟨2⟩))\n") != std::string::npos);
  CHECK(t.find("δ(1) = ā(1)⟨1⟩ ⊙ lrelu′(z(1)) + ā(1)⟨2⟩ ⊙ lrelu′(z(1)) + ā(1)⟨3⟩ ⊙ lrelu′(z(1)) + ā(1)⟨4⟩ ⊙ lrelu′(z(1))\n") !=
        std::string::npos);
  CHECK(t.find("ŷ") == std::string::npos);  // z(2) has no single name here
  // a ReLU net keeps one z(2) (no numbers below the output): ŷ = z(2), δ(2) once
  Network<double, Dense<3, 4>, ReLU, Dense<4, 2>> plain(1);
  const std::string p = nn::equations(plain, pinball).text();
  CAPTURE(p);
  CHECK(p.find("ŷ = z(2)\n") != std::string::npos);
  CHECK(p.find("⟨") == std::string::npos);
}

TEST_CASE("unnamed leaves: ad::variable<Id> prints θId, ad::constant<Id> cId, the class weights w") {
  double w[3] = {1, 2, 3}, g[3] = {}, c[3] = {1, 1, 1};
  auto e = ad::sum(ad::square(ad::variable<0, 1, 3>(w, g) - ad::constant<4, 1, 3>(c)));
  CHECK(ad::eq::derive(e, ad::eq::Names{}, {}).text() == "J = Σ (θ0 − c4)²\n∂J/∂θ0 = 2 (θ0 − c4)\n");
  // a number over an expression: the reciprocal primitive, its derivative from its output
  CHECK(ad::eq::derive(ad::sum(2.0 / ad::variable<0, 1, 3>(w, g)), ad::eq::Names{}, {}).text() ==
        "J = Σ (2 / θ0)\n∂J/∂θ0 = −(2 / θ0) / θ0\n");
  Network<double, Dense<3, 4>, ReLU, Dense<4, 3>> net(1);
  const double cw[3] = {1, 2, 0.5};
  const std::string t = nn::equations(net, loss::weighted_softmax_cross_entropy<3>(cw)).text();
  CAPTURE(t);
  CHECK(t.find("Σₖ (y ⊙ w)") != std::string::npos);
}

TEST_CASE("a hand-built expression: the generic adjoint form, names given by the caller") {
  double w[3] = {1, 2, 3}, g[3] = {};
  double c[3] = {0.5, 0.5, 0.5};
  auto wv = ad::variable<0, 1, 3>(w, g);
  auto cv = ad::constant<1, 1, 3>(c);
  auto e = ad::sum(ad::exp(wv) * cv) + ad::sum(ad::square(wv));
  using Order = ad::topological_order<decltype(e)>;
  ad::eq::Names names(Order::size);
  names.value[meta::index_of_v<Order, decltype(wv)>] = ad::eq::Symbol{"w", "w"};
  names.value[meta::index_of_v<Order, decltype(cv)>] = ad::eq::Symbol{"c", "c"};
  const auto eq = ad::eq::derive(e, names, {});
  CHECK(eq.text() ==
        "J = Σ (exp(w) ⊙ c) + ‖w‖²\n"
        "∂J/∂w = c ⊙ exp(w) + 2 w\n");
}
