// The structural nodes against central differences (tests/support/gradcheck.hpp, relative error
// < 1e-6) and against a naive scalar evaluation of the value: element-wise + - * / with every
// broadcast shape (R x C with 1 x C, R x 1, 1 x 1, on either side), number operands (affine
// nodes), row_sum, softmax / logsumexp on several rows, and long element-wise chains in which the
// tape fuses single-use nodes and lets + and - pass their adjoint through. The forward-only pass
// must agree with the gradient pass, and float with double (see expr_check.hpp).
#include "expr_check.hpp"

namespace ad = ctnn::ad;
using namespace ctnn::test::adcheck;
using ctnn::test::exprcheck::check_expression;
using ctnn::test::exprcheck::sig;

TEST_CASE("nodes: element-wise + - * / with every broadcast shape") {
  constexpr std::size_t R = 3, C = 5;
  Rng rng(21);
  // theta = [X (3x5), r (1x5), c (3x1), s (1x1)]; X, r, c away from 0 (they divide)
  std::vector<double> th(R * C + C + R + 1);
  for (auto& v : th) v = (rng.uniform(0, 1) < 0.5 ? -1 : 1) * rng.uniform(0.5, 2.0);
  constexpr std::size_t oX = 0, oR = R * C, oC = oR + C, oS = oC + R;
  auto build = [](const auto* t, auto* g) {
    auto X = ad::variable<0, R, C>(t + oX, g + oX);
    auto r = ad::variable<1, 1, C>(t + oR, g + oR);
    auto c = ad::variable<2, R, 1>(t + oC, g + oC);
    auto s = ad::variable<3, 1, 1>(t + oS, g + oS);
    return ad::sum(ad::sigmoid(X * r + c) - r / X + (c - X) * s) + ad::sum((X / c) * (r - s)) + ad::sum(s / r) +
           ad::sum(c * s + X / s) + ad::sum(ad::exp(c * r));  // c * r: R x 1 times 1 x C (outer)
  };
  double ref = 0;
  for (std::size_t i = 0; i < R; ++i)
    for (std::size_t j = 0; j < C; ++j) {
      const double X = th[oX + i * C + j], r = th[oR + j], c = th[oC + i], s = th[oS];
      ref += sig(X * r + c) - r / X + (c - X) * s + (X / c) * (r - s) + c * s + X / s;
    }
  for (std::size_t j = 0; j < C; ++j) ref += th[oS] / th[oR + j];
  for (std::size_t i = 0; i < R; ++i)
    for (std::size_t j = 0; j < C; ++j) ref += std::exp(th[oC + i] * th[oR + j]);
  check_expression("broadcast", build, th, ref);
}

TEST_CASE("nodes: operations with numbers (affine nodes) and negation") {
  constexpr std::size_t R = 2, C = 7;
  Rng rng(22);
  const auto th = rng.uniform(R * C, -2, 2);
  auto build = [](const auto* t, auto* g) {
    auto X = ad::variable<0, R, C>(t, g);
    // (each number operation wraps a different node type here; one type with different numbers
    // is the next case)
    return ad::mean(2.0 * X + 1.0) + ad::sum(ad::square(1.0 - ad::tanh(X)) / 3.0) -
           ad::sum(-(ad::sigmoid(X) * 0.5) + 0.25);
  };
  double m = 0, s = 0, t = 0;
  for (double x : th)
    m += (2 * x + 1) / (R * C), s += (1 - std::tanh(x)) * (1 - std::tanh(x)) / 3, t += -0.5 * sig(x) + 0.25;
  check_expression("affine", build, th, m + s - t);
}

TEST_CASE("nodes: one node type with different numbers (the tape keyed by path)") {
  constexpr std::size_t R = 2, C = 7;
  Rng rng(23);
  const auto th = rng.uniform(R * C, -2, 2);
  // pinball losses at three quantiles: relu(τ·d) + relu((τ − 1)·d) is one type for every τ; and
  // x − 0.5, x − 1.5 below one relu type, and a leaky ReLU's slope (an op with a member)
  auto build = [](const auto* t, auto* g) {
    auto X = ad::variable<0, R, C>(t, g);
    auto pin = [&](double tau) { return ad::sum(ad::relu(X * tau) + ad::relu(X * (tau - 1))); };
    return pin(0.1) + pin(0.5) + pin(0.9) + ad::sum(ad::relu(X - 0.5)) * ad::sum(ad::relu(X - 1.5)) +
           ad::sum(ad::leaky_relu(X, 0.2) * ad::leaky_relu(X, 0.3));
  };
  double pin = 0, a = 0, b = 0, l = 0;
  for (double x : th) {
    for (double tau : {0.1, 0.5, 0.9}) pin += std::max(tau * x, 0.0) + std::max((tau - 1) * x, 0.0);
    a += std::max(x - 0.5, 0.0), b += std::max(x - 1.5, 0.0);
    l += (x > 0 ? x : 0.2 * x) * (x > 0 ? x : 0.3 * x);
  }
  check_expression("different numbers", build, th, pin + a * b + l);
}

TEST_CASE("nodes: row_sum, and softmax / logsumexp on several rows") {
  constexpr std::size_t R = 4, C = 6;
  Rng rng(25);
  // theta = [Z (4x6), c (4x1)]
  const auto th = rng.uniform(R * C + R, -2, 2);
  auto build = [](const auto* t, auto* g) {
    auto Z = ad::variable<0, R, C>(t, g);
    auto c = ad::variable<1, R, 1>(t + R * C, g + R * C);
    return ad::sum(ad::row_sum(ad::square(Z)) * c) + ad::sum(ad::softmax(Z) * Z) - ad::mean(ad::logsumexp(Z) * c);
  };
  double ref = 0;
  for (std::size_t i = 0; i < R; ++i) {
    const double* z = th.data() + i * C;
    const double c = th[R * C + i];
    double sq = 0, m = z[0], e = 0;
    for (std::size_t j = 0; j < C; ++j) sq += z[j] * z[j], m = std::max(m, z[j]);
    for (std::size_t j = 0; j < C; ++j) e += std::exp(z[j] - m);
    double sz = 0;
    for (std::size_t j = 0; j < C; ++j) sz += std::exp(z[j] - m) / e * z[j];
    ref += sq * c + sz - (m + std::log(e)) * c / R;
  }
  check_expression("rowwise", build, th, ref);
}

TEST_CASE("nodes: long element-wise chains (fused) with shared nodes and pass-through adjoints") {
  constexpr std::size_t R = 3, C = 7;
  Rng rng(26);
  // theta = [X (3x7), b (1x7), c (3x1)]
  const auto th = rng.uniform(R * C + C + R, -1.5, 1.5);
  auto build = [](const auto* t, auto* g) {
    auto X = ad::variable<0, R, C>(t, g);
    auto b = ad::variable<1, 1, C>(t + R * C, g + R * C);
    auto c = ad::variable<2, R, 1>(t + R * C + C, g + R * C + C);
    auto h = ad::tanh(X * c + b);  // shared below
    auto chain = ad::exp(-ad::square(h - b) * 0.5) + ad::softplus(h * c) - ad::sigmoid(X) * h;
    return ad::sum(chain - (X * X + X) + h) + ad::sum((X + b) - (c - h)) * 0.25;
  };
  double ref = 0;
  for (std::size_t i = 0; i < R; ++i)
    for (std::size_t j = 0; j < C; ++j) {
      const double X = th[i * C + j], b = th[R * C + j], c = th[R * C + C + i];
      const double h = std::tanh(X * c + b);
      const double chain = std::exp(-0.5 * (h - b) * (h - b)) + std::log1p(std::exp(h * c)) - sig(X) * h;
      ref += chain - (X * X + X) + h + 0.25 * ((X + b) - (c - h));
    }
  check_expression("fused_chain", build, th, ref);
}
