// tests/nn/test_derived_activation.cpp: an activation defined here only by its forward
// expression (swish, x·σ(x)) gets a correct backward pass derived by the reverse mode: every
// parameter's and input's gradient passes a central-difference check, and the expression's
// topological order holds the shared input node once (x is used twice in x·σ(x)). (The
// built-in activations' check is in test_activation_gradcheck.cpp.)
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "ctnn/ctnn.hpp"
#include "nn_fd_check.hpp"

namespace {

/// The user's activation: only its forward expression.
struct Swish {
  static constexpr const char* name = "swish";
  template <class X>
  static auto apply(X x) {
    return x * ctnn::sigmoid(x);
  }
};

template <class L, class T>
struct count_in;
template <class... Ts, class T>
struct count_in<ctnn::meta::TypeList<Ts...>, T> {
  static constexpr std::size_t value = (std::size_t{0} + ... + std::size_t(std::is_same_v<Ts, T>));
};

std::vector<double> uniform_values(std::size_t n, std::uint64_t seed, double lo, double hi) {
  ctnn::Random rng(seed);
  std::vector<double> v(n);
  for (auto& e : v) e = rng.uniform(lo, hi);
  return v;
}

constexpr std::size_t B = 5;

}  // namespace

TEST_CASE("swish: the expression's tape has the shared input node once") {
  std::array<double, 6> xv{-2.0, -0.5, 0.0, 0.25, 1.0, 3.0};
  std::array<double, 6> gx{};
  auto x = ctnn::ad::variable<0, 2, 3>(xv.data(), gx.data());
  auto e = Swish::apply(x);
  using X = decltype(x);
  using E = decltype(e);
  using Order = ctnn::ad::topological_order<E>;
  static_assert(E::rows == 2 && E::cols == 3);
  static_assert(Order::size == 3, "x, sigmoid(x), x * sigmoid(x)");
  static_assert(count_in<Order, X>::value == 1);
  static_assert(ctnn::meta::index_of_v<Order, X> == 0);  // the input comes first
  static_assert(std::is_same_v<ctnn::meta::at_t<2, Order>, E>);  // the root comes last
  static_assert(ctnn::ad::StaticTape<E>::has_duplicates, "the tree has 4 nodes, the tape 3");

  // Its gradient through sum(): d/dx [x σ(x)] = σ + x σ (1 − σ) — both adjoints of x summed.
  const double v = ctnn::ad::value_and_gradient(ctnn::sum(e));
  double expect_v = 0;
  for (std::size_t i = 0; i < 6; ++i) {
    const double s = 1.0 / (1.0 + std::exp(-xv[i]));
    expect_v += xv[i] * s;
    const double d = s + xv[i] * s * (1.0 - s);
    INFO("i = " << i);
    CHECK(gx[i] == doctest::Approx(d).epsilon(1e-14));
  }
  CHECK(v == doctest::Approx(expect_v).epsilon(1e-14));
}

TEST_CASE("swish in a network: shared pre-activation node once in the loss tape") {
  using Net = ctnn::Network<double, ctnn::Dense<3, 4>, Swish, ctnn::Dense<4, 2>>;
  using First = ctnn::Network<double, ctnn::Dense<3, 4>>;  // the same first layer: its Z node type
  Net net(3);
  First first(3);
  std::array<double, B * 3> x{};
  std::array<double, B * 3> dx{};
  std::array<double, B * 2> y{};
  auto out = net.output_expression<B, true, true>(x.data(), dx.data());
  auto z = first.output_expression<B, true, true>(x.data(), dx.data());
  auto target = ctnn::ad::Leaf<double, ctnn::ad::TargetTag, B, 2, false>{{}, y.data(), nullptr};
  auto loss = ctnn::loss::mse_mean(out, target);
  using Order = ctnn::ad::topological_order<decltype(loss)>;
  using Z = decltype(z);
  using S = decltype(ctnn::sigmoid(z));
  static_assert(count_in<Order, Z>::value == 1);
  static_assert(count_in<Order, S>::value == 1);
  static_assert(count_in<Order, decltype(Swish::apply(z))>::value == 1);
  static_assert(ctnn::meta::index_of_v<Order, Z> < ctnn::meta::index_of_v<Order, S>);
  static_assert(ctnn::ad::StaticTape<decltype(loss)>::has_duplicates);
  CHECK(Order::size > 0);
}

TEST_CASE("swish network: dLoss/dθ and dLoss/dx pass a central-difference check (mse_mean)") {
  using Net = ctnn::Network<double, ctnn::Dense<3, 4>, Swish, ctnn::Dense<4, 2>>;
  static_assert(Net::inputs == 3 && Net::outputs == 2 && Net::num_params == 3 * 4 + 4 + 4 * 2 + 2);
  Net net(2024);
  // Non-zero biases so their gradients mean something.
  auto p = net.params();
  const auto bias = uniform_values(p.size(), 99, -0.5, 0.5);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] += 0.2 * bias[i];
  const auto x = uniform_values(B * 3, 11, -1.5, 1.5);
  const auto y = uniform_values(B * 2, 12, -1.0, 1.0);
  const auto r = nn_fd::fd_check_network<B>(net, ctnn::loss::mse_mean, x, y);
  CHECK(r.checked == Net::num_params + B * 3);
  nn_fd::require_pass(r);

  // Swish's backward is really used: the gradient differs from a sigmoid-only net's.
  using SigNet = ctnn::Network<double, ctnn::Dense<3, 4>, ctnn::Sigmoid, ctnn::Dense<4, 2>>;
  SigNet sn(2024);
  std::copy(p.begin(), p.end(), sn.params().begin());
  std::vector<double> dx(B * 3);
  net.gradient<B>(ctnn::loss::mse_mean, x.data(), y.data(), dx.data());
  sn.gradient<B>(ctnn::loss::mse_mean, x.data(), y.data(), dx.data());
  CHECK(!std::equal(net.grads().begin(), net.grads().end(), sn.grads().begin()));
}

TEST_CASE("swish network: the forward output is x·σ(x) of the first layer, then the second layer") {
  using Net = ctnn::Network<double, ctnn::Dense<3, 4>, Swish, ctnn::Dense<4, 2>>;
  Net net(5);
  const auto x = uniform_values(3, 6, -1.0, 1.0);
  const auto out = net.forward(std::array<double, 3>{x[0], x[1], x[2]});
  auto W1 = net.block<0>(), b1 = net.block<1>(), W2 = net.block<2>(), b2 = net.block<3>();
  std::array<double, 4> h{};
  for (std::size_t i = 0; i < 4; ++i) {
    double z = b1[i];
    for (std::size_t j = 0; j < 3; ++j) z += W1[i * 3 + j] * x[j];
    h[i] = z / (1.0 + std::exp(-z));
  }
  for (std::size_t k = 0; k < 2; ++k) {
    double o = b2[k];
    for (std::size_t i = 0; i < 4; ++i) o += W2[k * 4 + i] * h[i];
    CHECK(out[k] == doctest::Approx(o).epsilon(1e-13));
  }
}
