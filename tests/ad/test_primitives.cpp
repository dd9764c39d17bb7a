// Primitives against the reference figures (gradients.json "primitives"): for every case the
// value and the vector-Jacobian product u^T dOut/dIn computed by ctnn in double, compared with
// `value_exact` / `vjp_exact` when present (else PyTorch's `value` / `vjp`) with the rule of
// tests/data/REFERENCE.md:  values |a - e| <= 1e-12 |e|,  vjps |a - e| <= 1e-12 |e| + 4.4e-16 |u|.
// The vjp is the gradient of the scalar sum(op(x) * U) with U a constant leaf holding u (or
// op(x) * u for scalar outputs), so it also runs the product's reverse rule.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "ad_check.hpp"
#include "ctnn/ctnn.hpp"
#include "reference.hpp"

namespace ad = ctnn::ad;
namespace ref = ctnn::test::ref;
using namespace ctnn::test::adcheck;

namespace {

std::set<std::string>& covered() {
  static std::set<std::string> s;
  return s;
}

std::vector<double> expected_value(const nlohmann::json& c) {
  return ref::vec_at(c, ref::has(c, "value_exact") ? "value_exact" : "value");
}
std::vector<double> expected_vjp(const nlohmann::json& c, const char* input) {
  const std::string key = ref::has(c, "vjp_exact") ? "vjp_exact." : "vjp.";
  return ref::vec_at(c, key + input);
}

// Element-wise op applied to a 1 x N row.
template <std::size_t N, class Op>
void check_elementwise(const char* name, Op op) {
  covered().insert(name);
  const std::string case_name = name;
  CAPTURE(case_name);
  const auto& c = ref::gradient_case("primitives", name);
  const auto x = ref::vec_at(c, "inputs.x");
  const auto u = ref::vec_at(c, "upstream");
  REQUIRE(x.size() == N);
  REQUIRE(u.size() == N);
  std::array<double, N> y{};
  auto gx = nan_buffer(N);
  auto xv = ad::variable<0, 1, N>(x.data(), gx.data());
  auto uc = ad::constant<1, 1, N>(u.data());
  ad::evaluate(op(xv), y.data());
  const double s = ad::value_and_gradient(ad::sum(op(xv) * uc));

  std::string why;
  const auto ev = expected_value(c);
  CHECK_MESSAGE(close_value(y.data(), ev, &why), "value: ", why);
  const auto eg = expected_vjp(c, "x");
  CHECK_MESSAGE(close_vjp(gx.data(), eg, abs_of(u), &why), "vjp: ", why);
  // The scalar that was differentiated is sum(u * op(x)).
  double s_ref = 0, s_abs = 0;
  for (std::size_t i = 0; i < N; ++i) {
    s_ref += u[i] * ev[i];
    s_abs += std::abs(u[i] * ev[i]);
  }
  CHECK(std::isfinite(s));
  CHECK(std::abs(s - s_ref) <= 1e-12 * s_abs + kTiny);
}

}  // namespace

TEST_CASE("primitives: element-wise ops, random and edge inputs, value and vjp") {
  auto exp_ = [](auto x) { return ad::exp(x); };
  auto log_ = [](auto x) { return ad::log(x); };
  auto sig_ = [](auto x) { return ad::sigmoid(x); };
  auto tanh_ = [](auto x) { return ad::tanh(x); };
  auto relu_ = [](auto x) { return ad::relu(x); };
  auto softplus_ = [](auto x) { return ad::softplus(x); };
  auto square_ = [](auto x) { return ad::square(x); };
  check_elementwise<5>("exp_random", exp_);
  check_elementwise<8>("exp_edge", exp_);
  check_elementwise<5>("log_random", log_);
  check_elementwise<7>("log_edge", log_);
  check_elementwise<5>("sigmoid_random", sig_);
  check_elementwise<9>("sigmoid_edge", sig_);
  check_elementwise<5>("tanh_random", tanh_);
  check_elementwise<8>("tanh_edge", tanh_);
  check_elementwise<5>("relu_random", relu_);
  check_elementwise<5>("relu_edge", relu_);
  check_elementwise<5>("softplus_random", softplus_);
  check_elementwise<11>("softplus_edge", softplus_);
  check_elementwise<5>("square_random", square_);
  check_elementwise<5>("square_edge", square_);
  for (const char* name : {"leaky_relu_random", "leaky_relu_edge"}) {
    const double slope = ref::num_at(ref::gradient_case("primitives", name), "params.negative_slope");
    CHECK(slope == 0.01);
    check_elementwise<5>(name, [slope](auto x) { return ad::leaky_relu(x, slope); });
  }
}

TEST_CASE("primitives: kink conventions at exactly 0 (relu'(0) = 0, leaky_relu'(0) = slope)") {
  const double x[3] = {0.0, -0.0, 1e-300};
  double g[3];
  auto xv = ad::variable<0, 1, 3>(x, g);
  ad::value_and_gradient(ad::sum(ad::relu(xv)));
  CHECK(g[0] == 0.0);
  CHECK(g[1] == 0.0);
  CHECK(g[2] == 1.0);
  ad::value_and_gradient(ad::sum(ad::leaky_relu(xv, 0.01)));
  CHECK(g[0] == 0.01);
  CHECK(g[1] == 0.01);
  CHECK(g[2] == 1.0);
  ad::value_and_gradient(ad::sum(ad::abs(xv)));
  CHECK(g[0] == 0.0);
  CHECK(g[1] == 0.0);
  CHECK(g[2] == 1.0);
  ad::value_and_gradient(ad::sum(ad::step(xv)));
  CHECK(g[0] == 0.0);
  CHECK(g[2] == 0.0);
  double y[3];
  ad::evaluate(ad::step(xv), y);  // H(0) = 0: the w.x + b > 0 convention
  CHECK(y[0] == 0.0);
  CHECK(y[1] == 0.0);
  CHECK(y[2] == 1.0);
}

TEST_CASE("primitives: mul_random (a * b)") {
  const char* name = "mul_random";
  covered().insert(name);
  const auto& c = ref::gradient_case("primitives", name);
  const auto a = ref::vec_at(c, "inputs.a"), b = ref::vec_at(c, "inputs.b"), u = ref::vec_at(c, "upstream");
  REQUIRE(a.size() == 5);
  REQUIRE(b.size() == 5);
  auto ga = nan_buffer(5), gb = nan_buffer(5);
  auto av = ad::variable<0, 1, 5>(a.data(), ga.data());
  auto bv = ad::variable<1, 1, 5>(b.data(), gb.data());
  auto uc = ad::constant<2, 1, 5>(u.data());
  std::array<double, 5> y{};
  ad::evaluate(av * bv, y.data());
  ad::value_and_gradient(ad::sum(av * bv * uc));
  std::string why;
  CHECK_MESSAGE(close_value(y.data(), expected_value(c), &why), why);
  // |u| scaled by the Jacobian entry (vjp_a = u b, vjp_b = u a).
  std::vector<double> sa(5), sb(5);
  for (int i = 0; i < 5; ++i) sa[i] = std::abs(u[i] * b[i]), sb[i] = std::abs(u[i] * a[i]);
  CHECK_MESSAGE(close_vjp(ga.data(), expected_vjp(c, "a"), sa, &why), "a: ", why);
  CHECK_MESSAGE(close_vjp(gb.data(), expected_vjp(c, "b"), sb, &why), "b: ", why);
}

TEST_CASE("primitives: mul_shared_operand (x * x with one node: the adjoints add up)") {
  const char* name = "mul_shared_operand";
  covered().insert(name);
  const auto& c = ref::gradient_case("primitives", name);
  CHECK(ref::str_at(c, "inputs.b") == "same node as a");
  const auto x = ref::vec_at(c, "inputs.a"), u = ref::vec_at(c, "upstream");
  REQUIRE(x.size() == 5);
  auto gx = nan_buffer(5);
  auto xv = ad::variable<0, 1, 5>(x.data(), gx.data());
  auto uc = ad::constant<1, 1, 5>(u.data());
  using E = decltype(ad::sum(xv * xv * uc));
  // One leaf for x (not two): leaf x, x*x, u, (x*x)*u, sum.
  static_assert(ad::topological_order<E>::size == 5);
  static_assert(ad::StaticTape<E>::has_duplicates);
  std::array<double, 5> y{};
  ad::evaluate(xv * xv, y.data());
  ad::value_and_gradient(ad::sum(xv * xv * uc));
  std::string why;
  CHECK_MESSAGE(close_value(y.data(), expected_value(c), &why), why);
  std::vector<double> s(5);
  for (int i = 0; i < 5; ++i) s[i] = std::abs(2 * u[i] * x[i]);
  CHECK_MESSAGE(close_vjp(gx.data(), expected_vjp(c, "a"), s, &why), why);
  for (int i = 0; i < 5; ++i) CHECK(gx[i] == 2 * (u[i] * x[i]));  // u x + u x, exactly
}

TEST_CASE("primitives: matvec_random (y = W x, x a column)") {
  const char* name = "matvec_random";
  covered().insert(name);
  const auto& c = ref::gradient_case("primitives", name);
  const auto W = ref::mat_at(c, "inputs.W");
  const auto x = ref::vec_at(c, "inputs.x"), u = ref::vec_at(c, "upstream");
  REQUIRE(W.rows == 3);
  REQUIRE(W.cols == 4);
  REQUIRE(x.size() == 4);
  REQUIRE(u.size() == 3);
  auto gW = nan_buffer(12), gx = nan_buffer(4);
  auto Wv = ad::variable<0, 3, 4>(W.data.data(), gW.data());
  auto xv = ad::variable<1, 4, 1>(x.data(), gx.data());
  auto uc = ad::constant<2, 3, 1>(u.data());
  std::array<double, 3> y{};
  ad::evaluate(ad::matmul(Wv, xv), y.data());
  ad::value_and_gradient(ad::sum(ad::matmul(Wv, xv) * uc));
  std::string why;
  CHECK_MESSAGE(close_value(y.data(), expected_value(c), &why), why);
  // |u| scaled by the Jacobian: vjp_W[i][j] = u_i x_j;  vjp_x[j] = sum_i u_i W_ij (rounding ~ sum |u_i W_ij|).
  std::vector<double> sW(12), sx(4, 0.0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) {
      sW[i * 4 + j] = std::abs(u[i] * x[j]);
      sx[j] += std::abs(u[i] * W(i, j));
    }
  CHECK_MESSAGE(close_vjp(gW.data(), expected_vjp(c, "W"), sW, &why), "W: ", why);
  CHECK_MESSAGE(close_vjp(gx.data(), expected_vjp(c, "x"), sx, &why), "x: ", why);
}

namespace {
// Scalar-output op on a 1 x N row: the differentiated scalar is op(x) * u, u a 1 x 1 constant.
template <std::size_t N, class Op>
void check_scalar_output(const char* name, Op op) {
  covered().insert(name);
  const std::string case_name = name;
  CAPTURE(case_name);
  const auto& c = ref::gradient_case("primitives", name);
  const auto x = ref::vec_at(c, "inputs.x");
  const double u = ref::num_at(c, "upstream");
  REQUIRE(x.size() == N);
  auto gx = nan_buffer(N);
  auto xv = ad::variable<0, 1, N>(x.data(), gx.data());
  auto uc = ad::constant<1, 1, 1>(&u);
  double y = 0;
  ad::evaluate(op(xv), &y);
  const double s = ad::value_and_gradient(op(xv) * uc);
  std::string why;
  const auto ev = expected_value(c);
  REQUIRE(ev.size() == 1);
  CHECK_MESSAGE(close_value(&y, ev, &why), "value: ", why);
  CHECK_MESSAGE(close_vjp(gx.data(), expected_vjp(c, "x"), std::vector<double>(N, std::abs(u)), &why), "vjp: ",
                why);
  CHECK(std::abs(s - u * ev[0]) <= 1e-12 * std::abs(u * ev[0]) + kTiny);
}

// Row-wise softmax of a 1 x N row: sum(softmax(x) * U).
template <std::size_t N>
void check_softmax(const char* name) {
  covered().insert(name);
  const std::string case_name = name;
  CAPTURE(case_name);
  const auto& c = ref::gradient_case("primitives", name);
  const auto x = ref::vec_at(c, "inputs.x"), u = ref::vec_at(c, "upstream");
  REQUIRE(x.size() == N);
  REQUIRE(u.size() == N);
  auto gx = nan_buffer(N);
  auto xv = ad::variable<0, 1, N>(x.data(), gx.data());
  auto uc = ad::constant<1, 1, N>(u.data());
  std::array<double, N> y{};
  ad::evaluate(ad::softmax(xv), y.data());
  ad::value_and_gradient(ad::sum(ad::softmax(xv) * uc));
  std::string why;
  CHECK_MESSAGE(close_value(y.data(), expected_value(c), &why), "value: ", why);
  // vector -> vector: |u| is max_j |u_j| for every component.
  double umax = 0;
  for (double v : u) umax = std::max(umax, std::abs(v));
  CHECK_MESSAGE(close_vjp(gx.data(), expected_vjp(c, "x"), std::vector<double>(N, umax), &why), "vjp: ", why);
}
}  // namespace

TEST_CASE("primitives: sum and mean (to 1 x 1)") {
  check_scalar_output<5>("sum_random", [](auto x) { return ad::sum(x); });
  check_scalar_output<5>("mean_random", [](auto x) { return ad::mean(x); });
}

TEST_CASE("primitives: logsumexp on a row, random and edge inputs") {
  auto lse = [](auto x) { return ad::logsumexp(x); };
  check_scalar_output<5>("logsumexp_random", lse);
  check_scalar_output<3>("logsumexp_edge_equal_large", lse);
  check_scalar_output<3>("logsumexp_edge_all_very_negative", lse);
  check_scalar_output<3>("logsumexp_edge_spread", lse);
  check_scalar_output<4>("logsumexp_edge_moderate", lse);
}

TEST_CASE("primitives: softmax on a row, random and edge inputs") {
  check_softmax<5>("softmax_random");
  check_softmax<3>("softmax_edge_equal_large");
  check_softmax<3>("softmax_edge_all_very_negative");
  check_softmax<3>("softmax_edge_spread");
  check_softmax<4>("softmax_edge_moderate");
}

// doctest runs test cases in file order by default (--order-by=file); this one comes last so
// that the cases above have registered what they covered. Run alone it checks nothing useful,
// so it re-runs nothing and only compares when the other cases ran.
TEST_CASE("primitives: every reference case is covered") {
  const auto names = ref::case_names("primitives");
  CHECK(names.size() == 31);
  if (covered().empty()) return;  // filtered run: the other cases did not run
  for (const auto& n : names) {
    CAPTURE(n);
    CHECK(covered().count(n) == 1);
  }
  CHECK(covered().size() == names.size());
}
