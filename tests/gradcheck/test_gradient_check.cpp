// ctnn::check_gradient (the public checker): it passes the reverse mode's gradient of a network
// loss (per block: layer k's W and b) and the hand-derived gradient of a user function, and it
// fails, naming the right block and index, when one element of the gradient is wrong.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/nn/gradient_check.hpp"

namespace {
constexpr std::size_t B = 4;
using Net = ctnn::Network<double, ctnn::Dense<3, 5>, ctnn::Tanh, ctnn::Dense<5, 2>, ctnn::Sigmoid>;

std::vector<double> values(std::size_t n, double scale, double shift) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = scale * std::sin(1.7 * static_cast<double>(i) + shift);
  return v;
}

// Rosenbrock-like user function of 4 variables with its gradient written by hand.
double user_f(const std::vector<double>& t) {
  double s = 0;
  for (std::size_t i = 0; i + 1 < t.size(); ++i)
    s += 100 * (t[i + 1] - t[i] * t[i]) * (t[i + 1] - t[i] * t[i]) + (1 - t[i]) * (1 - t[i]);
  return s;
}
std::vector<double> user_grad(const std::vector<double>& t) {
  std::vector<double> g(t.size(), 0.0);
  for (std::size_t i = 0; i + 1 < t.size(); ++i) {
    const double d = t[i + 1] - t[i] * t[i];
    g[i] += -400 * t[i] * d - 2 * (1 - t[i]);
    g[i + 1] += 200 * d;
  }
  return g;
}
}  // namespace

TEST_CASE("check_gradient: a network loss's reverse-mode gradient passes, per block") {
  Net net(7);
  const auto x = values(B * 3, 1.2, 0.3);
  const auto y = values(B * 2, 0.4, 1.1);
  const auto loss = ctnn::loss::mse_mean;
  const auto before = std::vector<double>(net.params().begin(), net.params().end());
  const auto r = ctnn::check_gradient([&] { return net.loss<B>(loss, x.data(), y.data()); }, net, [&] {
    net.gradient<B>(loss, x.data(), y.data());
    return net.grads();
  });
  INFO(r.report());
  CHECK(r.passed);
  CHECK(static_cast<bool>(r));
  CHECK(r.max_rel_err < 1e-8);
  REQUIRE(r.blocks.size() == Net::num_blocks);
  const char* names[] = {"layer 0 W", "layer 0 b", "layer 2 W", "layer 2 b"};
  for (std::size_t k = 0; k < Net::num_blocks; ++k) {
    CHECK(r.blocks[k].name == names[k]);
    CHECK(r.blocks[k].begin == Net::block_offset[k]);
    CHECK(r.blocks[k].end == Net::block_offset[k + 1]);
    CHECK(r.blocks[k].passed);
    CHECK(r.blocks[k].max_abs_err < 1e-9);
  }
  CHECK(r.loss == net.loss<B>(loss, x.data(), y.data()));
  // the parameters are restored bit for bit
  for (std::size_t i = 0; i < before.size(); ++i) CHECK(net.params()[i] == before[i]);
  // printable
  std::ostringstream os;
  os << r;
  CHECK(os.str().find("PASS") != std::string::npos);
  CHECK(os.str().find("layer 2 b") != std::string::npos);
}

TEST_CASE("check_gradient: one wrong element of a network gradient fails its block at its index") {
  Net net(11);
  const auto x = values(B * 3, 1.0, 0.9);
  const auto y = values(B * 2, 0.5, 2.0);
  const auto loss = ctnn::loss::mse_mean;
  net.gradient<B>(loss, x.data(), y.data());
  std::vector<double> g(net.grads().begin(), net.grads().end());
  // layer 2's W, row 1, column 3: flat index block_offset[2] + 1 * 5 + 3
  const std::size_t bad = Net::block_offset[2] + 8;
  g[bad] *= 1.0 + 1e-4;
  const auto r = ctnn::check_gradient([&] { return net.loss<B>(loss, x.data(), y.data()); }, net, g);
  INFO(r.report());
  CHECK_FALSE(r.passed);
  CHECK_FALSE(static_cast<bool>(r));
  CHECK(r.worst == bad);
  CHECK(r.worst_block == 2);
  CHECK(r.max_rel_err > 5e-5);
  CHECK(r.max_rel_err < 2e-4);
  for (std::size_t k = 0; k < Net::num_blocks; ++k) CHECK(r.blocks[k].passed == (k != 2));
  CHECK(r.blocks[2].failing == 1);
  CHECK(r.blocks[2].worst == bad);
  const std::string text = r.report();
  CHECK(text.find("FAIL") != std::string::npos);
  CHECK(text.find("layer 2 W [" + std::to_string(bad) + "]") != std::string::npos);
  CHECK(text.find("a kink of relu") != std::string::npos);  // the other possible cause, said on a failure
  g[bad] = net.grads()[bad];  // the right gradient: no such note
  CHECK(ctnn::check_gradient([&] { return net.loss<B>(loss, x.data(), y.data()); }, net, g).report().find("kink") ==
        std::string::npos);
}

TEST_CASE("check_gradient: a user function, right and wrong, with a callable or a range gradient") {
  std::vector<double> t{-0.7, 1.3, 0.4, 2.1};
  const auto f = [&] { return user_f(t); };
  auto r = ctnn::check_gradient(f, t, user_grad(t));
  INFO(r.report());
  CHECK(r.passed);
  REQUIRE(r.blocks.size() == 1);
  CHECK(r.blocks[0].name == "params");
  CHECK(r.max_rel_err < 1e-9);
  // the callable form, and user-chosen blocks
  r = ctnn::check_gradient(f, t, [&] { return user_grad(t); }, {}, ctnn::ParameterBlocks{{0, 2, 4}, {"a", "b"}});
  CHECK(r.passed);
  REQUIRE(r.blocks.size() == 2);
  CHECK(r.blocks[1].name == "b");
  // a sign error in element 2 fails block "b" at index 2; block "a" still passes
  auto g = user_grad(t);
  g[2] = -g[2];
  r = ctnn::check_gradient(f, t, g, {}, ctnn::ParameterBlocks{{0, 2, 4}, {"a", "b"}});
  CHECK_FALSE(r.passed);
  CHECK(r.blocks[0].passed);
  CHECK_FALSE(r.blocks[1].passed);
  CHECK(r.worst == 2);
  CHECK(r.worst_block == 1);
  CHECK(r.blocks[1].max_abs_err == doctest::Approx(2 * std::abs(g[2])).epsilon(1e-6));
  // a NaN is an infinite error, not a pass
  g = user_grad(t);
  g[0] = std::nan("");
  r = ctnn::check_gradient(f, t, g);
  CHECK_FALSE(r.passed);
  CHECK(std::isinf(r.max_rel_err));
  CHECK(r.worst == 0);
}

TEST_CASE("check_gradient: float parameters use float defaults; bad sizes are rejected") {
  std::array<float, 3> t{0.5f, -1.5f, 2.0f};
  const auto f = [&] { return t[0] * t[0] * t[1] + std::exp(t[2]) / 10; };
  std::array<float, 3> g{2 * t[0] * t[1], t[0] * t[0], std::exp(t[2]) / 10};
  auto r = ctnn::check_gradient(f, t, g);
  INFO(r.report());
  CHECK(r.passed);
  CHECK(r.rel_tol == 1e-2);
  g[1] *= 1.1f;
  r = ctnn::check_gradient(f, t, g);
  CHECK_FALSE(r.passed);
  CHECK(r.worst == 1);
  std::vector<double> v{1.0, 2.0};
  CHECK_THROWS_AS(ctnn::check_gradient([&] { return v[0]; }, v, std::vector<double>{1.0}), std::invalid_argument);
  CHECK_THROWS_AS(ctnn::check_gradient([&] { return v[0]; }, v, std::vector<double>{1.0, 0.0}, {},
                                       ctnn::ParameterBlocks{{0, 3}, {}}),
                  std::invalid_argument);
}
