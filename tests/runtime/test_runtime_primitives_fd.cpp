// tests/runtime/test_runtime_primitives_fd.cpp: every node of the runtime tape against central
// differences (tests/support/gradcheck.hpp): f(θ) = Σ u ⊙ node(inputs) with a random weight u, the
// inputs' gradients from one reverse sweep. Shapes are chosen to exercise the SIMD tails (5, 9
// columns) and every broadcasting form; inputs keep away from kinks (0, clamp bounds) so that the
// finite differences are valid. Also a node used twice (adjoints summed), a two-layer net, the 0
// written for leaves the root does not reach, and the refusal of overlapping grad buffers.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/ad/tape_runtime.hpp"
#include "ctnn/nn/init.hpp"
#include "gradcheck.hpp"

namespace {

namespace rt = ctnn::ad::runtime;
using V = rt::Var<double>;
using Shape = std::pair<std::size_t, std::size_t>;
using Build = std::function<V(const std::vector<V>&)>;

enum class Domain { any, positive };

/// Random inputs in ±[0.1, 2] (or (0.2, 2.2] for positive), at least 0.05 away from `kink`.
std::vector<double> inputs(std::size_t n, Domain d, std::uint64_t seed, double kink = 0.0) {
  ctnn::Random rng(seed);
  std::vector<double> v(n);
  for (double& x : v) {
    do {
      x = d == Domain::positive ? 0.2 + 2 * rng.uniform() : (rng.uniform() < 0.5 ? -1 : 1) * (0.1 + 1.9 * rng.uniform());
    } while (std::abs(x - kink) < 0.05);
  }
  return v;
}

/// Records build(leaves) on a fresh tape, f = sum(node ⊙ u), and checks the leaves' gradients.
void check(const std::string& name, const std::vector<Shape>& shapes, const Build& build, Domain d = Domain::any,
           double kink = 0.0) {
  INFO("runtime node " << name);
  std::size_t n = 0;
  for (const auto& [r, c] : shapes) n += r * c;
  std::vector<double> theta = inputs(n, d, 17 + n, kink), grad(n, -7.0);
  std::vector<double> buf = theta;
  rt::Tape<double> tape;
  std::vector<V> leaves;
  std::size_t at = 0;
  for (const auto& [r, c] : shapes) {
    leaves.push_back(tape.leaf(r, c, buf.data() + at, grad.data() + at));
    at += r * c;
  }
  const V out = build(leaves);
  const std::vector<double> u = inputs(out.rows() * out.cols(), Domain::any, 99);
  const V weight = tape.leaf(out.rows(), out.cols(), u.data());
  const V f = rt::sum(out * weight);
  const double f0 = tape.backward(f);

  auto eval = [&](const double* th) {
    std::copy(th, th + n, buf.begin());
    tape.forward();
    return tape.value(f)[0];
  };
  CHECK(eval(theta.data()) == f0);  // re-running the graph reproduces the recorded value
  const auto r = ctnn::test::gradcheck(eval, theta.data(), grad.data(), n);
  CHECK_MESSAGE(r.max_rel_err < 1e-6, r.report);
}

template <class Op>
void check_unary(const std::string& name, Op op, Domain d = Domain::any, double kink = 0.0) {
  for (const Shape& s : {Shape{1, 1}, Shape{3, 5}, Shape{2, 9}})
    check(name + " " + std::to_string(s.first) + "x" + std::to_string(s.second), {s},
          [op](const std::vector<V>& x) { return rt::unary(x[0], op); }, d, kink);
}

}  // namespace

TEST_CASE("runtime tape: element-wise primitives (ad/ops) by central differences") {
  using namespace ctnn::ops;
  check_unary("exp", Exp{});
  check_unary("log", Log{}, Domain::positive);
  check_unary("sigmoid", Sigmoid{});
  check_unary("tanh", Tanh{});
  check_unary("relu", Relu{});
  check_unary("leaky_relu 0.1", LeakyRelu{0.1});
  check_unary("softplus", Softplus{});
  check_unary("silu", Silu{});
  check_unary("gelu", Gelu{});
  check_unary("square", Square{});
  check_unary("abs", Abs{});
  check_unary("sqrt", Sqrt{}, Domain::positive);
  check_unary("reciprocal 2", Reciprocal{2.0}, Domain::positive);
  check_unary("minimum 0.3", Minimum{0.3}, Domain::any, 0.3);
  check_unary("maximum 0.3", Maximum{0.3}, Domain::any, 0.3);
  check_unary("step", Step{});  // derivative 0 away from 0
}

TEST_CASE("runtime tape: + − ⊙ / with every broadcasting form, by central differences") {
  const std::vector<std::pair<Shape, Shape>> forms{
      {{3, 5}, {3, 5}}, {{3, 5}, {1, 5}}, {{3, 5}, {3, 1}}, {{3, 5}, {1, 1}},
      {{1, 5}, {3, 5}}, {{3, 1}, {3, 5}}, {{1, 1}, {3, 5}}, {{2, 9}, {1, 9}}};
  for (const auto& [sa, sb] : forms) {
    const std::string shapes = std::to_string(sa.first) + "x" + std::to_string(sa.second) + " with " +
                               std::to_string(sb.first) + "x" + std::to_string(sb.second);
    check("add " + shapes, {sa, sb}, [](const std::vector<V>& x) { return x[0] + x[1]; });
    check("sub " + shapes, {sa, sb}, [](const std::vector<V>& x) { return x[0] - x[1]; });
    check("mul " + shapes, {sa, sb}, [](const std::vector<V>& x) { return x[0] * x[1]; });
    check("div " + shapes, {sa, sb}, [](const std::vector<V>& x) { return x[0] / x[1]; }, Domain::positive);
  }
}

TEST_CASE("runtime tape: affine, matrix and row-wise nodes by central differences") {
  check("2.5 x - 1", {{3, 5}}, [](const std::vector<V>& x) { return 2.5 * x[0] - 1.0; });
  check("1 - x", {{2, 9}}, [](const std::vector<V>& x) { return 1.0 - x[0]; });
  check("x / 3", {{2, 9}}, [](const std::vector<V>& x) { return x[0] / 3.0; });
  check("-x", {{1, 5}}, [](const std::vector<V>& x) { return -x[0]; });
  check("matmul 3x6 6x5", {{3, 6}, {6, 5}}, [](const std::vector<V>& x) { return rt::matmul(x[0], x[1]); });
  check("matmul 1x9 9x2", {{1, 9}, {9, 2}}, [](const std::vector<V>& x) { return rt::matmul(x[0], x[1]); });
  check("matmul_nt 3x6 5x6", {{3, 6}, {5, 6}}, [](const std::vector<V>& x) { return rt::matmul_nt(x[0], x[1]); });
  check("matmul_nt 2x9 7x9", {{2, 9}, {7, 9}}, [](const std::vector<V>& x) { return rt::matmul_nt(x[0], x[1]); });
  check("transpose 3x5", {{3, 5}}, [](const std::vector<V>& x) { return rt::transpose(x[0]); });
  check("matmul(a, transpose(b))", {{3, 6}, {5, 6}},
        [](const std::vector<V>& x) { return rt::matmul(x[0], rt::transpose(x[1])); });
  check("sum 3x5", {{3, 5}}, [](const std::vector<V>& x) { return rt::sum(x[0]); });
  check("sum 5x9", {{5, 9}}, [](const std::vector<V>& x) { return rt::sum(x[0]); });
  check("mean 3x5", {{3, 5}}, [](const std::vector<V>& x) { return rt::mean(x[0]); });
  check("row_sum 3x5", {{3, 5}}, [](const std::vector<V>& x) { return rt::row_sum(x[0]); });
  check("softmax 3x5", {{3, 5}}, [](const std::vector<V>& x) { return rt::softmax(x[0]); });
  check("softmax 2x9", {{2, 9}}, [](const std::vector<V>& x) { return rt::softmax(x[0]); });
  check("logsumexp 3x5", {{3, 5}}, [](const std::vector<V>& x) { return rt::logsumexp(x[0]); });
  check("logsumexp 2x9", {{2, 9}}, [](const std::vector<V>& x) { return rt::logsumexp(x[0]); });
}

TEST_CASE("runtime tape: a node used twice receives the sum of its adjoints") {
  check("x * sigmoid(x)", {{3, 5}}, [](const std::vector<V>& x) { return x[0] * rt::sigmoid(x[0]); });
  check("x * x (one node, both operands)", {{2, 9}}, [](const std::vector<V>& x) { return x[0] * x[0]; });
  check("huber-like m (|r| - m/2), m = min(|r|, 1)", {{3, 5}, {3, 5}}, [](const std::vector<V>& x) {
    const V a = rt::abs(x[0] - x[1]);
    const V m = rt::minimum(a, 1.0);
    return m * (a - 0.5 * m);
  });
  check("two-layer net tanh(X W1ᵀ + b1) W2ᵀ + b2, softmax", {{4, 6}, {5, 6}, {1, 5}, {3, 5}, {1, 3}},
        [](const std::vector<V>& x) {
          const V h = rt::tanh(rt::matmul_nt(x[0], x[1]) + x[2]);
          return rt::softmax(rt::matmul_nt(h, x[3]) + x[4]);
        });
}

TEST_CASE("runtime tape: gradients are overwritten, constants get none, shapes are checked") {
  rt::Tape<double> tape;
  std::vector<double> a{1, 2, 3}, b{4, 5, 6}, ga(3, 99.0);
  const V x = tape.leaf(1, 3, a.data(), ga.data());
  const V c = tape.leaf(1, 3, b.data());  // a constant
  const V f = rt::sum(x * c);
  CHECK(tape.backward(f) == 32.0);
  CHECK(ga == b);  // overwritten, not added to the 99s
  CHECK(tape.backward(f) == 32.0);
  CHECK(ga == b);  // a second sweep writes again
  // Rebinding to new values: forward() recomputes, backward() follows.
  std::vector<double> a2{-1, 0, 1};
  tape.rebind(x, a2.data(), ga.data());
  tape.forward();
  CHECK(tape.value(f)[0] == 2.0);
  // Shape errors name both shapes.
  const V m = tape.leaf(3, 1, b.data());
  CHECK_THROWS_WITH_AS(tape.matmul(m, m), "ctnn runtime tape: matmul of 3 x 1 and 3 x 1", std::invalid_argument);
  std::vector<double> z(6);
  const V w = tape.leaf(2, 3, z.data());
  CHECK_THROWS_AS(static_cast<void>(w + m), std::invalid_argument);
  CHECK_THROWS_AS(tape.backward(x), std::invalid_argument);  // not 1 x 1
}

TEST_CASE("runtime tape: a leaf the root does not depend on gets gradient 0, as in the static tape") {
  rt::Tape<double> tape;
  std::vector<double> x{0.5, -1.0}, z{1.0, 2.0}, gx(2, 99.0), gz(2, 99.0), gs(2, 99.0), gl(2, 99.0);
  const V a = tape.leaf(1, 2, x.data(), gx.data());
  const V unused = tape.leaf(1, 2, z.data(), gz.data());  // on the tape, not below the root
  const V stepped = tape.leaf(1, 2, z.data(), gs.data());  // below the root, through a zero derivative
  const V f = rt::sum(rt::square(a)) + rt::sum(rt::step(stepped));
  const V late = tape.leaf(1, 2, z.data(), gl.data());  // recorded after the root
  const V f2 = rt::sum(late * late);  // a second root, above it
  CHECK(tape.backward(f) == doctest::Approx(0.25 + 1.0 + 2.0));
  CHECK(gx == std::vector<double>{2 * x[0], 2 * x[1]});  // d/dx Σx² = 2x
  CHECK(gz == std::vector<double>{0, 0});
  CHECK(gs == std::vector<double>{0, 0});
  CHECK(gl == std::vector<double>{0, 0});
  // A grad buffer given later (by rebind) is written too, with or without a re-planned sweep.
  std::vector<double> gz2(2, 99.0), gz3(2, 99.0);
  tape.rebind(unused, z.data(), gz2.data());
  tape.backward(f);
  CHECK(gz2 == std::vector<double>{0, 0});
  tape.rebind(unused, z.data());
  tape.backward(f);  // re-planned without it
  tape.rebind(unused, z.data(), gz3.data());
  tape.backward(f);  // and with it again
  CHECK(gz3 == std::vector<double>{0, 0});
  // The other root: its leaves receive their gradient, the first root's leaves 0.
  std::fill(gx.begin(), gx.end(), 99.0);
  tape.backward(f2);
  CHECK(gl == std::vector<double>{2 * z[0], 2 * z[1]});
  CHECK(gx == std::vector<double>{0, 0});
  // A 1 x 1 leaf as the root: 1 for itself, 0 for the rest.
  double s = 3.0, gsr = 99.0;
  const V r = tape.leaf(1, 1, &s, &gsr);
  std::fill(gl.begin(), gl.end(), 99.0);
  CHECK(tape.backward(r) == 3.0);
  CHECK(gsr == 1.0);
  CHECK(gl == std::vector<double>{0, 0});
}

TEST_CASE("runtime tape: leaves with overlapping grad buffers are refused; a weight used twice is one leaf") {
  rt::Tape<double> tape;
  std::vector<double> w{1.5, -2.0}, h(3, 99.0);
  const V a = tape.leaf(1, 2, w.data(), h.data());
  CHECK_THROWS_WITH_AS(tape.leaf(1, 2, w.data(), h.data()),
                       "ctnn runtime tape: the grad buffer of leaf 1 (1 x 2) overlaps that of leaf 0 (1 x 2), so one "
                       "would overwrite the other's gradient; for a weight used twice (tied weights) record one leaf "
                       "and use its variable twice: the tape adds both contributions",
                       std::invalid_argument);
  CHECK_THROWS_AS(tape.leaf(2, 1, w.data(), h.data() + 1), std::invalid_argument);  // a partial overlap
  CHECK(tape.size() == 1);                                                          // nothing recorded
  // Adjacent buffers do not overlap; one leaf used twice gets the sum of both uses.
  std::vector<double> c{3.0}, gc(1, 99.0);
  const V k = tape.leaf(1, 1, c.data(), h.data() + 2);
  const V f = rt::sum(a * a) + rt::sum(a) * k;
  CHECK(tape.backward(f) == doctest::Approx(1.5 * 1.5 + 4.0 + (1.5 - 2.0) * 3.0));
  CHECK(h == std::vector<double>{2 * 1.5 + 3.0, 2 * -2.0 + 3.0, 1.5 - 2.0});  // d/dw (Σw² + c Σw), d/dc = Σw
  // rebind() checks a new grad buffer against the other leaves' as well, and keeps the old one.
  CHECK_THROWS_AS(tape.rebind(k, c.data(), h.data() + 1), std::invalid_argument);
  tape.rebind(k, c.data(), gc.data());
  tape.backward(f);
  CHECK(gc[0] == doctest::Approx(-0.5));
  tape.rebind(a, w.data(), h.data());  // its own buffer again: no conflict with itself
}
