// tests/nn/test_perceptron_forward.cpp: gradients.json perceptron[]: a Dense<2,1> + Step
// network's forward values (pre-activation z and output) with the H(0) = 0 convention
// (step(z) = 1 iff z > 0), and XOR (perceptron_xor_impossible) out of reach of any perceptron
// on a grid of weights.
#include <array>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "ctnn/ctnn.hpp"
#include "reference.hpp"

namespace {

namespace ref = ctnn::test::ref;

using Perceptron = ctnn::Network<double, ctnn::Dense<2, 1>, ctnn::Step>;
using Affine = ctnn::Network<double, ctnn::Dense<2, 1>>;  // the same weights, no activation: z
static_assert(Perceptron::inputs == 2 && Perceptron::outputs == 1 && Perceptron::num_params == 3);
static_assert(Affine::num_params == 3);

template <class Net>
void set_params(Net& net, double w0, double w1, double b) {
  auto p = net.params();
  p[0] = w0;
  p[1] = w1;
  p[2] = b;
}

void check_perceptron_case(const std::string& name) {
  INFO("case " << name);
  const auto& j = ref::gradient_case("perceptron", name);
  const ref::Mat W = ref::mat_at(j, "network.layers.0.W");
  const ref::Vec b = ref::vec_at(j, "network.layers.0.b");
  const ref::Mat X = ref::mat_at(j, "X");
  const ref::Vec z = ref::vec_at(j, "z");
  const ref::Vec out = ref::vec_at(j, "output");
  const ref::Vec out_h1 = ref::vec_at(j, "output_if_step_at_zero_is_1");
  REQUIRE(ref::str_at(j, "network.activations.0") == "step");
  REQUIRE(W.rows == 1);
  REQUIRE(W.cols == 2);
  REQUIRE(b.size() == 1);
  REQUIRE(X.rows == 4);
  REQUIRE(X.cols == 2);
  REQUIRE(z.size() == 4);
  REQUIRE(out.size() == 4);

  Perceptron net(1);
  Affine lin(1);
  set_params(net, W(0, 0), W(0, 1), b[0]);
  set_params(lin, W(0, 0), W(0, 1), b[0]);

  std::array<double, 4> zc{}, yc{};
  lin.forward<4>(X.data.data(), zc.data());
  net.forward<4>(X.data.data(), yc.data());
  for (std::size_t n = 0; n < 4; ++n) {
    INFO("sample " << n);
    CHECK(zc[n] == z[n]);    // small exact inputs: z is exact
    CHECK(yc[n] == out[n]);  // H(0) = 0
    // The step output is exactly 0 or 1 and follows z > 0.
    CHECK(yc[n] == (zc[n] > 0 ? 1.0 : 0.0));
    // One sample at a time gives the same.
    const auto y1 = net.forward(std::array<double, 2>{X(n, 0), X(n, 1)});
    CHECK(y1[0] == out[n]);
  }
  // Where z = 0 exactly the two conventions differ, and ctnn follows H(0) = 0.
  for (std::size_t n = 0; n < 4; ++n)
    if (z[n] == 0.0) {
      CHECK(out[n] == 0.0);
      CHECK(out_h1[n] == 1.0);
      CHECK(yc[n] == 0.0);
    }
}

}  // namespace

TEST_CASE("perceptron: AND") { check_perceptron_case("perceptron_and"); }
TEST_CASE("perceptron: OR") { check_perceptron_case("perceptron_or"); }
TEST_CASE("perceptron: z exactly zero uses H(0) = 0") {
  const auto& j = ref::gradient_case("perceptron", "perceptron_z_exactly_zero");
  const ref::Vec z = ref::vec_at(j, "z");
  int zeros = 0;
  for (double v : z) zeros += v == 0.0;
  REQUIRE(zeros == 2);  // the case really exercises the convention
  check_perceptron_case("perceptron_z_exactly_zero");
}

TEST_CASE("perceptron: step forward of a hand-set network, including z = 0 and negative zero") {
  Perceptron net(7);
  set_params(net, 1.0, -1.0, 0.0);
  const std::array<double, 8> x{2.0, 1.0, 1.0, 1.0, 1.0, 2.0, -0.0, 0.0};  // z = 1, 0, -1, -0
  std::array<double, 4> y{};
  net.forward<4>(x.data(), y.data());
  CHECK(y[0] == 1.0);
  CHECK(y[1] == 0.0);
  CHECK(y[2] == 0.0);
  CHECK(y[3] == 0.0);
}

TEST_CASE("perceptron: XOR targets are not produced by any perceptron on a weight grid") {
  const auto& j = ref::gradient_case("perceptron", "perceptron_xor_impossible");
  const ref::Mat X = ref::mat_at(j, "X");
  const ref::Vec Y = ref::vec_at(j, "Y");
  REQUIRE(X.rows == 4);
  REQUIRE(Y.size() == 4);
  Perceptron net(3);
  int matches = 0, and_like = 0;
  const std::array<double, 4> and_targets{0, 0, 0, 1};
  for (int a = -8; a <= 8; ++a)
    for (int c = -8; c <= 8; ++c)
      for (int d = -8; d <= 8; ++d) {
        set_params(net, 0.25 * a, 0.25 * c, 0.25 * d - 0.125);
        std::array<double, 4> y{};
        net.forward<4>(X.data.data(), y.data());
        bool xor_ok = true, and_ok = true;
        for (std::size_t n = 0; n < 4; ++n) {
          xor_ok = xor_ok && y[n] == Y[n];
          and_ok = and_ok && y[n] == and_targets[n];
        }
        matches += xor_ok;
        and_like += and_ok;
      }
  CHECK(matches == 0);
  CHECK(and_like > 0);  // the grid is rich enough to realise AND
}
