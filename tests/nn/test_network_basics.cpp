// tests/nn/test_network_basics.cpp: what a network type infers (sizes, parameter count, block
// layout: W row-major then b, layer by layer), seeded initialisation (reproducible; Xavier
// uniform bound; He normal variance), forward-pass properties (one sample = row 0 of a batch,
// float close to double, deterministic), and a large batch's gradient (heap workspace) as the
// mean of per-sample gradients.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "ctnn/ctnn.hpp"

namespace {

using Net = ctnn::Network<double, ctnn::Dense<3, 4>, ctnn::Tanh, ctnn::Dense<4, 2>, ctnn::Sigmoid>;
using NetF = Net::rebind<float>;
constexpr std::size_t B = 6;

std::vector<double> uniform_values(std::size_t n, std::uint64_t seed, double lo, double hi) {
  ctnn::Random rng(seed);
  std::vector<double> v(n);
  for (auto& e : v) e = rng.uniform(lo, hi);
  return v;
}

}  // namespace

TEST_CASE("shapes: inputs, outputs, widths, parameter count and block layout are inferred") {
  static_assert(Net::inputs == 3);
  static_assert(Net::outputs == 2);
  static_assert(Net::num_layers == 4);
  static_assert(Net::num_params == 3 * 4 + 4 + 4 * 2 + 2);
  static_assert(Net::num_blocks == 4);
  static_assert(Net::widths == std::array<std::size_t, 5>{3, 4, 4, 2, 2});
  static_assert(Net::block_offset == std::array<std::size_t, 5>{0, 12, 16, 24, 26});
  static_assert(Net::first_block(0) == 0 && Net::first_block(2) == 2);
  static_assert(Net::shapes_ok);
  static_assert(std::is_same_v<NetF::scalar, float>);
  static_assert(NetF::num_params == Net::num_params);

  using Deep = ctnn::Network<double, ctnn::Dense<6, 8>, ctnn::ReLU, ctnn::Dense<8, 8>, ctnn::Tanh, ctnn::Dense<8, 4>>;
  static_assert(Deep::inputs == 6 && Deep::outputs == 4);
  static_assert(Deep::num_params == 48 + 8 + 64 + 8 + 32 + 4);
  static_assert(Deep::block_offset == std::array<std::size_t, 7>{0, 48, 56, 120, 128, 160, 164});
  static_assert(Deep::first_block(4) == 4);

  // Sequential is the float network.
  static_assert(std::is_same_v<ctnn::Sequential<ctnn::Dense<3, 4>, ctnn::Tanh, ctnn::Dense<4, 2>, ctnn::Sigmoid>, NetF>);

  Net net(1);
  CHECK(net.params().size() == Net::num_params);
  CHECK(net.grads().size() == Net::num_params);
  CHECK(net.block<0>().data() == net.params().data());
  CHECK(net.block<0>().size() == 12);
  CHECK(net.block<1>().data() == net.params().data() + 12);
  CHECK(net.block<1>().size() == 4);
  CHECK(net.block<2>().data() == net.params().data() + 16);
  CHECK(net.block<2>().size() == 8);
  CHECK(net.block<3>().data() == net.params().data() + 24);
  CHECK(net.block<3>().size() == 2);
}

TEST_CASE("layout: the flat buffer is W_l row-major [out, in] then b_l, layer by layer") {
  using Lin = ctnn::Network<double, ctnn::Dense<3, 2>, ctnn::Identity, ctnn::Dense<2, 2>>;
  Lin net(0);
  auto p = net.params();
  // W1 = [[1, 2, 3], [4, 5, 6]], b1 = [0.5, -0.5], W2 = [[1, -1], [2, 0.25]], b2 = [10, 20]
  const std::array<double, 14> theta{1, 2, 3, 4, 5, 6, 0.5, -0.5, 1, -1, 2, 0.25, 10, 20};
  std::copy(theta.begin(), theta.end(), p.begin());
  const auto y = net.forward(std::array<double, 3>{1.0, 10.0, 100.0});
  // h = W1 x + b1 = [321.5, 653.5]; out = W2 h + b2 = [321.5 - 653.5 + 10, 643 + 163.375 + 20]
  CHECK(y[0] == 321.5 - 653.5 + 10);
  CHECK(y[1] == 2 * 321.5 + 0.25 * 653.5 + 20);

  // The gradient has the same layout: mse_half_sum with target 0 gives
  // dL/dW2[k][i] = out_k * h_i, dL/db2[k] = out_k (B = 1).
  const std::array<double, 3> x{1.0, 10.0, 100.0};
  const std::array<double, 2> t{0.0, 0.0};
  net.gradient<1>(ctnn::loss::mse_half_sum, x.data(), t.data());
  auto g = net.grads();
  const double h[2] = {321.5, 653.5};
  for (std::size_t k = 0; k < 2; ++k) {
    for (std::size_t i = 0; i < 2; ++i) CHECK(g[8 + k * 2 + i] == doctest::Approx(y[k] * h[i]).epsilon(1e-14));
    CHECK(g[12 + k] == doctest::Approx(y[k]).epsilon(1e-14));
  }
  // First layer: delta1 = W2^T out, dL/dW1[i][j] = delta1[i] x[j], dL/db1[i] = delta1[i].
  const double W2[2][2] = {{1, -1}, {2, 0.25}};
  for (std::size_t i = 0; i < 2; ++i) {
    const double d1 = W2[0][i] * y[0] + W2[1][i] * y[1];
    for (std::size_t j = 0; j < 3; ++j) CHECK(g[i * 3 + j] == doctest::Approx(d1 * x[j]).epsilon(1e-14));
    CHECK(g[6 + i] == doctest::Approx(d1).epsilon(1e-14));
  }
}

TEST_CASE("init: the same seed gives identical parameters, another seed different ones") {
  Net a(42), b(42), c(43);
  CHECK(std::equal(a.params().begin(), a.params().end(), b.params().begin()));
  CHECK(!std::equal(a.params().begin(), a.params().end(), c.params().begin()));
  // initialize() re-draws: the same seed again gives the same parameters.
  c.initialize(42);
  CHECK(std::equal(a.params().begin(), a.params().end(), c.params().begin()));
  // Every init method is reproducible, and the seed matters for the random ones.
  for (ctnn::Init how : {ctnn::Init::xavier_uniform, ctnn::Init::xavier_normal, ctnn::Init::he_normal,
                         ctnn::Init::he_uniform}) {
    Net u(7, how), v(7, how), w(8, how);
    CHECK(std::equal(u.params().begin(), u.params().end(), v.params().begin()));
    CHECK(!std::equal(u.params().begin(), u.params().end(), w.params().begin()));
  }
  // Biases start at zero; zeros gives all zeros.
  for (double v : a.block<1>()) CHECK(v == 0.0);
  for (double v : a.block<3>()) CHECK(v == 0.0);
  Net z(5, ctnn::Init::zeros);
  CHECK(std::all_of(z.params().begin(), z.params().end(), [](double v) { return v == 0.0; }));
  // Weights are not all equal (symmetry is broken).
  auto w1 = a.block<0>();
  CHECK(std::adjacent_find(w1.begin(), w1.end(), [](double l, double r) { return l != r; }) != w1.end());
}

TEST_CASE("init: Xavier uniform stays within sqrt(6/(in+out)) and fills it") {
  using Big = ctnn::Network<double, ctnn::Dense<256, 256>>;
  Big net(2024, ctnn::Init::xavier_uniform);
  const double bound = std::sqrt(6.0 / (256 + 256));
  auto w = net.block<0>();
  REQUIRE(w.size() == 256 * 256);
  double mx = 0, sum = 0, sq = 0;
  for (double v : w) {
    mx = std::max(mx, std::abs(v));
    sum += v;
    sq += v * v;
  }
  CHECK(mx <= bound);
  CHECK(mx > 0.99 * bound);
  const double n = static_cast<double>(w.size());
  const double mean = sum / n, var = sq / n - mean * mean;
  CHECK(std::abs(mean) < 0.01 * bound);
  CHECK(var == doctest::Approx(bound * bound / 3).epsilon(0.03));  // U(-a, a): a^2/3
  for (double v : net.block<1>()) CHECK(v == 0.0);

  // Xavier on a non-square layer uses in + out.
  using Rect = ctnn::Network<double, ctnn::Dense<100, 20>>;
  Rect r(3, ctnn::Init::xavier_uniform);
  const double rb = std::sqrt(6.0 / 120.0);
  double rmx = 0;
  for (double v : r.block<0>()) rmx = std::max(rmx, std::abs(v));
  CHECK(rmx <= rb);
  CHECK(rmx > 0.95 * rb);
}

TEST_CASE("init: He normal sample variance is near 2/in for a 256x256 layer") {
  using Big = ctnn::Network<double, ctnn::Dense<256, 256>>;
  auto stats = [](std::span<const double> w) {
    double sum = 0, sq = 0;
    for (double v : w) {
      sum += v;
      sq += v * v;
    }
    const double n = static_cast<double>(w.size());
    return std::array<double, 2>{sum / n, sq / n - (sum / n) * (sum / n)};
  };
  const double target = 2.0 / 256;
  Big net(77, ctnn::Init::he_normal);
  const auto [mean, var] = stats(net.block<0>());
  // n = 65536 samples: the variance's standard error is ~0.55 % of target; allow 5 %.
  CHECK(var == doctest::Approx(target).epsilon(0.05));
  CHECK(std::abs(mean) < 0.05 * std::sqrt(target));

  // Init::automatic picks He before a ReLU (same variance; not Xavier's bound) ...
  using BigRelu = ctnn::Network<double, ctnn::Dense<256, 256>, ctnn::ReLU>;
  BigRelu auto_net(77);
  const auto [m2, v2] = stats(auto_net.block<0>());
  CHECK(v2 == doctest::Approx(target).epsilon(0.05));
  double mx = 0;
  for (double v : auto_net.block<0>()) mx = std::max(mx, std::abs(v));
  CHECK(mx > std::sqrt(6.0 / 512));
  // ... and Xavier uniform otherwise.
  using BigTanh = ctnn::Network<double, ctnn::Dense<256, 256>, ctnn::Tanh>;
  BigTanh xav(77);
  BigTanh xav_explicit(77, ctnn::Init::xavier_uniform);
  CHECK(std::equal(xav.params().begin(), xav.params().end(), xav_explicit.params().begin()));
}

TEST_CASE("forward: one sample equals row 0 of the batch forward") {
  Net net(9);
  const auto xs = uniform_values(B * 3, 4, -2.0, 2.0);
  ctnn::Matrix<double, B, 3> X;
  std::copy(xs.begin(), xs.end(), X.begin());
  const auto Y = net.forward(X);
  for (std::size_t r = 0; r < B; ++r) {
    const auto y1 = net.forward(std::array<double, 3>{X(r, 0), X(r, 1), X(r, 2)});
    for (std::size_t k = 0; k < 2; ++k) {
      INFO("row " << r << " output " << k);
      CHECK(y1[k] == doctest::Approx(Y(r, k)).epsilon(1e-15));
    }
  }
  // The raw form writes the same values.
  std::array<double, B * 2> raw{};
  net.forward<B>(xs.data(), raw.data());
  for (std::size_t i = 0; i < B * 2; ++i) CHECK(raw[i] == Y[i]);
}

TEST_CASE("forward: any number of rows known at run time, in blocks of 64 and 8 and single rows") {
  Net net(9);
  // 64 + 2 x 8 + 5 rows: every kind of block, each row compared with its own one-row forward.
  for (const std::size_t rows : {std::size_t(0), std::size_t(1), std::size_t(7), std::size_t(85)}) {
    INFO("rows " << rows);
    const auto xs = uniform_values(rows * 3, 11, -2.0, 2.0);
    std::vector<double> ys(rows * 2, -1.0);
    net.forward(std::span<const double>(xs), std::span<double>(ys));
    for (std::size_t r = 0; r < rows; ++r) {
      const auto y1 = net.forward(std::array<double, 3>{xs[3 * r], xs[3 * r + 1], xs[3 * r + 2]});
      for (std::size_t k = 0; k < 2; ++k) CHECK(ys[2 * r + k] == doctest::Approx(y1[k]).epsilon(1e-15));
    }
  }
  std::vector<double> x(10), y(6, 7.0);
  CHECK_THROWS_WITH_AS(net.forward(std::span<const double>(x), std::span<double>(y)),
                       "ctnn::Network::forward: x holds 10 values, not a whole number of rows of 3 inputs",
                       std::invalid_argument);
  x.resize(9);
  y.resize(5);
  CHECK_THROWS_WITH_AS(net.forward(std::span<const double>(x), std::span<double>(y)),
                       "ctnn::Network::forward: y holds 5 values; 3 rows need 6 (2 outputs each)",
                       std::invalid_argument);
  CHECK(std::all_of(y.begin(), y.end(), [](double v) { return v == 7.0; }));  // nothing written
}

TEST_CASE_TEMPLATE("forward: a NaN input gives NaN outputs through ReLU, not a confident prediction", T, float,
                   double) {
  // relu(NaN) was 0 in SIMD batches (maxps returns its second operand on NaN): a row with a
  // missing value came out as a finite, wrong prediction. Every output of that row is NaN now; the
  // other rows are untouched.
  using R = ctnn::Network<T, ctnn::Dense<3, 20>, ctnn::ReLU, ctnn::Dense<20, 2>, ctnn::ReLU, ctnn::Dense<2, 2>>;
  R net(3);
  for (const std::size_t rows : {std::size_t(1), std::size_t(8), std::size_t(70)}) {
    INFO("rows " << rows);
    std::vector<T> x(rows * 3), y(rows * 2);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = T(0.1) * T(i % 7) - T(0.3);
    const std::size_t bad = rows / 2;
    x[bad * 3 + 1] = std::numeric_limits<T>::quiet_NaN();
    net.forward(std::span<const T>(x), std::span<T>(y));
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t k = 0; k < 2; ++k) CHECK(std::isnan(y[2 * r + k]) == (r == bad));
  }
}

TEST_CASE("forward: a float network is close to the double network with the same weights") {
  Net d(10);
  NetF f(0);
  auto pd = d.params();
  auto pf = f.params();
  for (std::size_t i = 0; i < pd.size(); ++i) pf[i] = static_cast<float>(pd[i]);
  for (std::size_t i = 0; i < pd.size(); ++i) pd[i] = static_cast<double>(pf[i]);  // identical weights
  const auto xs = uniform_values(B * 3, 5, -2.0, 2.0);
  ctnn::Matrix<double, B, 3> Xd;
  ctnn::Matrix<float, B, 3> Xf;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    Xf[i] = static_cast<float>(xs[i]);
    Xd[i] = static_cast<double>(Xf[i]);
  }
  const auto Yd = d.forward(Xd);
  const auto Yf = f.forward(Xf);
  for (std::size_t i = 0; i < B * 2; ++i) CHECK(static_cast<double>(Yf[i]) == doctest::Approx(Yd[i]).epsilon(1e-5));

  // The float gradient is close to the double one as well.
  ctnn::Matrix<double, B, 2> Td;
  ctnn::Matrix<float, B, 2> Tf;
  for (std::size_t i = 0; i < B * 2; ++i) Tf[i] = static_cast<float>(Td[i] = 0.25 * static_cast<double>(i % 3));
  const auto rd = d.gradient<B>(ctnn::loss::mse_half_sum, Xd, Td);
  const auto rf = f.gradient<B>(ctnn::loss::mse_half_sum, Xf, Tf);
  CHECK(static_cast<double>(rf.loss) == doctest::Approx(rd.loss).epsilon(1e-5));
  double gmax = 0;
  for (double g : rd.grad) gmax = std::max(gmax, std::abs(g));
  for (std::size_t i = 0; i < rd.grad.size(); ++i)
    CHECK(std::abs(static_cast<double>(rf.grad[i]) - rd.grad[i]) <= 1e-5 * gmax);
}

TEST_CASE("forward and gradient are deterministic") {
  Net net(11);
  const auto xs = uniform_values(B * 3, 6, -2.0, 2.0);
  const auto ts = uniform_values(B * 2, 7, 0.0, 1.0);
  std::array<double, B * 2> y1{}, y2{};
  net.forward<B>(xs.data(), y1.data());
  net.forward<B>(xs.data(), y2.data());
  CHECK(y1 == y2);
  std::array<double, B * 3> dx1{}, dx2{};
  const double l1 = net.gradient<B>(ctnn::loss::mse_mean, xs.data(), ts.data(), dx1.data());
  const std::vector<double> g1(net.grads().begin(), net.grads().end());
  const double l2 = net.gradient<B>(ctnn::loss::mse_mean, xs.data(), ts.data(), dx2.data());
  const std::vector<double> g2(net.grads().begin(), net.grads().end());
  CHECK(l1 == l2);
  CHECK(g1 == g2);  // overwritten, not accumulated
  CHECK(dx1 == dx2);
  // A copy of the network computes the same.
  Net copy(0);
  std::copy(net.params().begin(), net.params().end(), copy.params().begin());
  std::array<double, B * 2> y3{};
  copy.forward<B>(xs.data(), y3.data());
  CHECK(y3 == y1);
}

TEST_CASE("gradient: a large batch (heap workspace) is the mean of per-sample gradients") {
  // B = 64 samples of width 32 in the hidden layer: one slot alone is 16 KiB, over the stack
  // workspace limit, so this pass runs in the per-thread buffer; B = 1 runs on the stack.
  using Wide = ctnn::Network<double, ctnn::Dense<16, 32>, ctnn::Tanh, ctnn::Dense<32, 4>, ctnn::Sigmoid>;
  constexpr std::size_t N = 64;
  static_assert(N * 32 * sizeof(double) >= ctnn::stack_workspace_limit);
  Wide net(12);
  const auto xs = uniform_values(N * 16, 13, -1.0, 1.0);
  const auto ts = uniform_values(N * 4, 14, 0.0, 1.0);
  std::vector<double> dx(N * 16);
  const double loss = net.gradient<N>(ctnn::loss::mse_mean, xs.data(), ts.data(), dx.data());
  const std::vector<double> g(net.grads().begin(), net.grads().end());

  std::vector<double> gsum(Wide::num_params, 0.0);
  double lsum = 0;
  double gmax = 0, dxmax = 0;
  for (double v : g) gmax = std::max(gmax, std::abs(v));
  for (double v : dx) dxmax = std::max(dxmax, std::abs(v));
  for (std::size_t n = 0; n < N; ++n) {
    std::array<double, 16> dx1{};
    lsum += net.gradient<1>(ctnn::loss::mse_mean, xs.data() + n * 16, ts.data() + n * 4, dx1.data());
    for (std::size_t i = 0; i < Wide::num_params; ++i) gsum[i] += net.grads()[i];
    for (std::size_t j = 0; j < 16; ++j) {
      INFO("sample " << n << " input " << j);
      CHECK(std::abs(dx1[j] / N - dx[n * 16 + j]) <= 1e-13 * dxmax);
    }
  }
  CHECK(lsum / N == doctest::Approx(loss).epsilon(1e-13));
  for (std::size_t i = 0; i < Wide::num_params; ++i) {
    INFO("parameter " << i);
    CHECK(std::abs(gsum[i] / N - g[i]) <= 1e-12 * gmax);
  }

  // The per-thread buffer is reused: a second pass, and a pass on another thread, give the same.
  std::vector<double> dx2(N * 16);
  CHECK(net.gradient<N>(ctnn::loss::mse_mean, xs.data(), ts.data(), dx2.data()) == loss);
  CHECK(std::equal(g.begin(), g.end(), net.grads().begin()));
  CHECK(dx2 == dx);
  double loss_t = 0;
  std::vector<double> g_t, dx_t(N * 16);
  std::thread th([&] {
    Wide other(0);
    std::copy(net.params().begin(), net.params().end(), other.params().begin());
    loss_t = other.gradient<N>(ctnn::loss::mse_mean, xs.data(), ts.data(), dx_t.data());
    g_t.assign(other.grads().begin(), other.grads().end());
  });
  th.join();
  CHECK(loss_t == loss);
  CHECK(g_t == g);
  CHECK(dx_t == dx);
}
