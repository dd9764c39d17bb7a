// Composite expressions with shared subexpressions (gradients.json "composites"): each written
// by hand in C++ from its `expression` text, value and gradients checked with REFERENCE.md's rule
// for composites (|a - r| <= 1e-10 |r| + 1e-12 max|r| per array). Then the sharing itself: a
// sub-expression object used twice is one node of the static tape (one entry in
// ad::topological_order), is evaluated once and differentiated once, and its leaf gets the sum
// of the adjoints of both paths.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "ad_check.hpp"
#include "ctnn/ctnn.hpp"
#include "gradcheck.hpp"
#include "reference.hpp"

namespace ad = ctnn::ad;
namespace ref = ctnn::test::ref;
using ctnn::test::adcheck::nan_buffer;

namespace {
bool close(const double* a, const ref::Vec& e, std::string& why) { return ref::close_array(a, e, 1e-10, 1e-12, &why); }
bool close(const double* a, const ref::Mat& e, std::string& why) {
  return ref::close_array(a, e, 1e-10, 1e-12, &why);
}
bool close(double a, double e, std::string& why) { return ref::close_array(&a, ref::Vec{e}, 1e-10, 1e-12, &why); }
}  // namespace

TEST_CASE("composites: every reference case is written below") {
  CHECK(ref::case_names("composites") ==
        std::vector<std::string>{"shared_square", "reuse_across_depth", "shared_affine_node", "diamond"});
}

TEST_CASE("composites: shared_square  sum(x * x)") {
  const auto& c = ref::gradient_case("composites", "shared_square");
  REQUIRE(ref::str_at(c, "expression") == "sum(x * x)");
  const auto x = ref::vec_at(c, "inputs.x");
  REQUIRE(x.size() == 5);
  auto gx = nan_buffer(5);
  auto xv = ad::variable<0, 1, 5>(x.data(), gx.data());
  const double v = ad::value_and_gradient(ad::sum(xv * xv));
  std::string why;
  CHECK_MESSAGE(close(v, ref::num_at(c, "value"), why), why);
  CHECK_MESSAGE(close(gx.data(), ref::vec_at(c, "grad.x"), why), why);
}

TEST_CASE("composites: reuse_across_depth  sum(sigmoid(a * b + c) * a)") {
  const auto& c = ref::gradient_case("composites", "reuse_across_depth");
  REQUIRE(ref::str_at(c, "expression") == "sum(sigmoid(a * b + c) * a)");
  const auto a = ref::vec_at(c, "inputs.a"), b = ref::vec_at(c, "inputs.b"), cc = ref::vec_at(c, "inputs.c");
  REQUIRE(a.size() == 5);
  auto ga = nan_buffer(5), gb = nan_buffer(5), gc = nan_buffer(5);
  auto av = ad::variable<0, 1, 5>(a.data(), ga.data());
  auto bv = ad::variable<1, 1, 5>(b.data(), gb.data());
  auto cv = ad::variable<2, 1, 5>(cc.data(), gc.data());
  const double v = ad::value_and_gradient(ad::sum(ad::sigmoid(av * bv + cv) * av));
  std::string why;
  CHECK_MESSAGE(close(v, ref::num_at(c, "value"), why), why);
  CHECK_MESSAGE(close(ga.data(), ref::vec_at(c, "grad.a"), why), "a: ", why);
  CHECK_MESSAGE(close(gb.data(), ref::vec_at(c, "grad.b"), why), "b: ", why);
  CHECK_MESSAGE(close(gc.data(), ref::vec_at(c, "grad.c"), why), "c: ", why);
}

TEST_CASE("composites: shared_affine_node  z = W x + b;  sum(softplus(z) * z)") {
  const auto& c = ref::gradient_case("composites", "shared_affine_node");
  REQUIRE(ref::str_at(c, "expression") == "z = W x + b;  sum(softplus(z) * z)");
  const auto W = ref::mat_at(c, "inputs.W");
  const auto x = ref::vec_at(c, "inputs.x"), b = ref::vec_at(c, "inputs.b");
  REQUIRE(W.rows == 3);
  REQUIRE(W.cols == 4);
  auto gW = nan_buffer(12), gx = nan_buffer(4), gb = nan_buffer(3);
  auto Wv = ad::variable<0, 3, 4>(W.data.data(), gW.data());
  auto xv = ad::variable<1, 4, 1>(x.data(), gx.data());  // x and b as columns
  auto bv = ad::variable<2, 3, 1>(b.data(), gb.data());
  auto z = ad::matmul(Wv, xv) + bv;
  const double v = ad::value_and_gradient(ad::sum(ad::softplus(z) * z));
  std::string why;
  CHECK_MESSAGE(close(v, ref::num_at(c, "value"), why), why);
  CHECK_MESSAGE(close(gW.data(), ref::mat_at(c, "grad.W"), why), "W: ", why);
  CHECK_MESSAGE(close(gx.data(), ref::vec_at(c, "grad.x"), why), "x: ", why);
  CHECK_MESSAGE(close(gb.data(), ref::vec_at(c, "grad.b"), why), "b: ", why);
  // z is one node: W, x, b, W x, z, softplus(z), product, sum
  static_assert(ad::topological_order<decltype(ad::sum(ad::softplus(z) * z))>::size == 8);
}

TEST_CASE("composites: diamond  t = tanh(x);  sum(t * t * t + exp(t)) / 4 + logsumexp(t)") {
  const auto& c = ref::gradient_case("composites", "diamond");
  REQUIRE(ref::str_at(c, "expression") == "t = tanh(x);  sum(t * t * t + exp(t)) / 4 + logsumexp(t)");
  const auto x = ref::vec_at(c, "inputs.x");
  REQUIRE(x.size() == 4);
  auto gx = nan_buffer(4);
  auto xv = ad::variable<0, 1, 4>(x.data(), gx.data());
  auto t = ad::tanh(xv);
  auto e = ad::sum(t * t * t + ad::exp(t)) / 4.0 + ad::logsumexp(t);
  const double v = ad::value_and_gradient(e);
  std::string why;
  CHECK_MESSAGE(close(v, ref::num_at(c, "value"), why), why);
  CHECK_MESSAGE(close(gx.data(), ref::vec_at(c, "grad.x"), why), why);
  // t has four consumers but is one node, evaluated once
  using Order = ad::topological_order<decltype(e)>;
  static_assert(ctnn::meta::index_of_v<Order, decltype(t)> != ctnn::meta::npos);
  static_assert(ad::StaticTape<decltype(e)>::has_duplicates);
}

// ---- sharing --------------------------------------------------------------------------------

namespace {
// x -> x^2 with call counters: value() and derivative() run once per SIMD batch, so on a 1 x 1
// leaf each call is one evaluation of the node.
struct CountingSquare {
  static constexpr const char* name = "counting_square";
  static constexpr const char* symbol = "csq";
  static constexpr const char* latex = "\\operatorname{csq}";
  static constexpr bool uses_x = true, uses_y = false;
  static inline int values = 0, derivatives = 0;
  template <class V> V value(const V& x) const noexcept {
    ++values;
    return x * x;
  }
  template <class V> V derivative(const V& x, const V&) const noexcept {
    ++derivatives;
    return x + x;
  }
  friend constexpr bool operator==(const CountingSquare&, const CountingSquare&) = default;
};
}  // namespace

TEST_CASE("sharing: a sub-expression object used twice is one tape node and gets the sum of both adjoints") {
  const std::array<double, 5> x{-1.3, -0.2, 0.4, 1.1, 2.5};
  auto gx = nan_buffer(5);
  auto xv = ad::variable<0, 1, 5>(x.data(), gx.data());
  auto s = ad::sigmoid(xv);
  auto e = ad::sum(s * s + s);  // s used three times (twice in one product)
  using E = decltype(e);
  using Order = ad::topological_order<E>;
  // leaf, sigmoid, product, sum of the two, total: one entry for s (a tree walk would see 4 copies)
  static_assert(Order::size == 5);
  static_assert(ctnn::meta::index_of_v<Order, decltype(s)> == 1);
  static_assert(ad::StaticTape<E>::has_duplicates);
  const double v = ad::value_and_gradient(e);
  double v_ref = 0;
  for (int i = 0; i < 5; ++i) {
    const double si = 1 / (1 + std::exp(-x[i]));
    v_ref += si * si + si;
    // d/dx (s^2 + s) = (2 s + 1) s (1 - s): the sum of the three paths through s
    CHECK(gx[i] == doctest::Approx((2 * si + 1) * si * (1 - si)).epsilon(1e-14));
  }
  CHECK(v == doctest::Approx(v_ref).epsilon(1e-14));
  // and the gradient matches central differences
  auto f = [](const double* t) {
    double g[5];
    auto tv = ad::variable<0, 1, 5>(t, g);
    auto st = ad::sigmoid(tv);
    return ad::value_and_gradient(ad::sum(st * st + st));
  };
  const auto r = ctnn::test::gradcheck(f, x, gx);
  CHECK_MESSAGE(r.max_rel_err < 1e-6, r.report);
}

TEST_CASE("sharing: a shared node is evaluated once and differentiated once per pass") {
  const double x = 1.5, u = 0.5;
  double gx = NAN;
  auto xv = ad::variable<0, 1, 1>(&x, &gx);
  auto uc = ad::constant<1, 1, 1>(&u);
  auto q = ad::unary<CountingSquare>(xv);
  // q four times: q*q + q*u + exp(q); its adjoint has three contributions
  auto e = ad::sum(q * q + q * uc + ad::exp(q));
  CountingSquare::values = CountingSquare::derivatives = 0;
  const double v = ad::value_and_gradient(e);
  CHECK(CountingSquare::values == 1);
  CHECK(CountingSquare::derivatives == 1);
  const double q0 = x * x;
  CHECK(v == doctest::Approx(q0 * q0 + q0 * u + std::exp(q0)).epsilon(1e-15));
  CHECK(gx == doctest::Approx((2 * q0 + u + std::exp(q0)) * 2 * x).epsilon(1e-15));
  CountingSquare::values = CountingSquare::derivatives = 0;
  double out = 0;
  ad::evaluate(e, &out);  // forward only: one evaluation, no derivative
  CHECK(CountingSquare::values == 1);
  CHECK(CountingSquare::derivatives == 0);
  CHECK(out == v);
}

TEST_CASE("sharing: the gradient buffer is overwritten, not accumulated, across passes") {
  const std::array<double, 3> x{0.5, -1.0, 2.0};
  std::array<double, 3> gx{100, 200, 300};
  auto xv = ad::variable<0, 1, 3>(x.data(), gx.data());
  ad::value_and_gradient(ad::sum(xv * xv));
  ad::value_and_gradient(ad::sum(xv * xv));
  for (int i = 0; i < 3; ++i) CHECK(gx[i] == 2 * x[i]);
}

TEST_CASE("sharing: one node type with different numbers is one tape node per occurrence") {
  const std::array<double, 3> x{0.2, 1.0, 2.2};
  std::array<double, 3> gx{};
  auto xv = ad::variable<0, 1, 3>(x.data(), gx.data());
  // x*2 and x*3 are one node type (Affine1<Leaf>) with different numbers: the pass sees that and
  // runs the order keyed by path, in which they are two nodes
  using E = decltype(ad::sum(xv * 2.0 + xv * 3.0));
  static_assert(ad::StaticTape<E>::payload_repeated);
  static_assert(ad::topological_order<E>::size == 4 && ad::keyed_order<E>::size == 5);
  CHECK(ad::value_and_gradient(ad::sum(xv * 2.0 + xv * 3.0)) == doctest::Approx(5 * (0.2 + 1.0 + 2.2)));
  for (double g : gx) CHECK(g == 5);
  // a node above the numbers (relu of x − c) is keyed too: relu(x − 0.5) and relu(x − 1.5)
  CHECK(ad::value_and_gradient(ad::sum(ad::relu(xv - 0.5)) + ad::sum(ad::relu(xv - 1.5))) ==
        doctest::Approx(0.5 + 1.7 + 0.7));
  CHECK(gx[0] == 0);
  CHECK(gx[1] == 1);
  CHECK(gx[2] == 2);
  double y = 0;
  ad::evaluate(ad::sum(ad::relu(xv - 0.5)) - ad::sum(ad::relu(xv - 1.5)), &y);
  CHECK(y == doctest::Approx(0.5 + 1.7 - 0.7));
  // equal numbers keep one node (the plain order), evaluated once
  CountingSquare::values = CountingSquare::derivatives = 0;
  auto one = ad::variable<0, 1, 1>(x.data(), gx.data());
  auto q = ad::unary<CountingSquare>(one * 2.0);
  CHECK(ad::value_and_gradient(q + ad::unary<CountingSquare>(one * 2.0)) == doctest::Approx(2 * 0.16));
  CHECK(CountingSquare::values == 1);
  CHECK(gx[0] == doctest::Approx(2 * 2 * 2 * 0.4));
  CountingSquare::values = 0;
  CHECK(ad::value_and_gradient(q + ad::unary<CountingSquare>(one * 3.0)) == doctest::Approx(0.16 + 0.36));
  CHECK(CountingSquare::values == 2);
  CHECK(gx[0] == doctest::Approx(2 * 2 * 0.4 + 2 * 3 * 0.6));
}

TEST_CASE("sharing: two variables over one gradient buffer (tied weights) are refused; one variable used twice adds") {
  const std::array<double, 2> w{1.5, -2.0};
  std::array<double, 4> g{9, 9, 9, 9};
  auto a = ad::variable<0, 1, 2>(w.data(), g.data());
  auto b = ad::variable<1, 1, 2>(w.data(), g.data());
  // each leaf's first edge writes its gradient (=): the second would erase the first's
  CHECK_THROWS_WITH_AS(ad::value_and_gradient(ad::sum(a * b)),
                       doctest::Contains("ad::variable<0, ...> and ad::variable<1, ...> write overlapping gradient buffers"),
                       std::invalid_argument);
  auto b_shifted = ad::variable<1, 1, 2>(w.data(), g.data() + 1);  // overlapping by one element
  CHECK_THROWS_AS(ad::value_and_gradient(ad::sum(a * b_shifted)), std::invalid_argument);
  CHECK(g[0] == 9);  // refused before anything was written
  CHECK(ad::value_and_gradient(ad::sum(a * a)) == doctest::Approx(1.5 * 1.5 + 4));
  CHECK(g[0] == 3);
  CHECK(g[1] == -4);
  auto b_apart = ad::variable<1, 1, 2>(w.data(), g.data() + 2);  // same values, own gradient: fine
  ad::value_and_gradient(ad::sum(a * b_apart));
  CHECK(g[0] == -2 * 0 + 1.5);
  CHECK(g[3] == -2);
}

TEST_CASE("constants of another scalar type take the differentiated expression's (double constants in float)") {
  const std::array<float, 3> x{0.5f, -1.25f, 2.0f};
  std::array<float, 3> gx{};
  const std::array<double, 3> c{0.1, 0.2, 0.3};
  const double k = 3.0;
  auto xv = ad::variable<0, 1, 3>(x.data(), gx.data());
  auto cv = ad::constant<1, 1, 3>(c.data());
  auto kv = ad::constant<2, 1, 1>(&k);
  // the constant first: the node's scalar is still the variable's
  auto e = ad::sum(kv * ad::square(cv - xv));
  static_assert(std::is_same_v<decltype(e)::scalar, float>);
  const float v = ad::value_and_gradient(e);
  float ref = 0;
  for (int i = 0; i < 3; ++i) {
    const float d = static_cast<float>(c[i]) - x[i];
    ref += 3.0f * d * d;
    CHECK(gx[i] == doctest::Approx(-6.0f * d).epsilon(1e-6));
  }
  CHECK(v == doctest::Approx(ref).epsilon(1e-6));
  // a constant-only operand pair keeps its own scalar
  static_assert(std::is_same_v<decltype(cv * kv)::scalar, double>);
}

TEST_CASE("sharing: one leaf tag over two buffers is rejected, distinct Ids are fine") {
  const std::array<double, 2> x{0.5, -1.0};
  std::array<double, 2> gx{};
  auto xv = ad::variable<0, 1, 2>(x.data(), gx.data());
  // two leaves of one Id on different buffers
  const std::array<double, 2> c1{1, 2}, c2{3, 4};
  CHECK_THROWS_AS(ad::value_and_gradient(ad::sum(xv * ad::constant<1, 1, 2>(c1.data()) +
                                                 xv * ad::constant<1, 1, 2>(c2.data()))),
                  std::invalid_argument);
  // with distinct Ids it works
  const double v = ad::value_and_gradient(ad::sum(xv * ad::constant<1, 1, 2>(c1.data()) +
                                                  xv * ad::constant<2, 1, 2>(c2.data())));
  CHECK(v == doctest::Approx(0.5 * 4 - 1.0 * 6));
  CHECK(gx[0] == 4);
  CHECK(gx[1] == 6);
}
