// The SIMD path of the element-wise and row-wise nodes against a scalar std:: reference (in
// double) at sizes 1, W-1, W, W+1, 2W+3 (W = ctnn::simd::width<T>: 8 floats / 4 doubles on
// AVX2), as a 1 x N leaf, so every partial-batch tail length is exercised. Besides the values and
// gradients, the buffers carry sentinels past N: nothing may be written (or read-modified) outside
// [0, N), and the inputs are not modified. Shared by the per-type translation units.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "ad_check.hpp"
#include "ctnn/ad/ad.hpp"
#include "unary_ops.hpp"

namespace ctnn::test::simdtail {

namespace ad = ctnn::ad;
using adcheck::Rng;

inline constexpr std::size_t kPad = 32;
template <class T>
inline constexpr T kSentinel = T(-12345.5);

template <class T>
inline constexpr double eps = std::numeric_limits<T>::epsilon();

// Element-wise op D on 1 x N.
template <class T, std::size_t N, class D>
void unary_at_size(Rng& rng) {
  CAPTURE(N);
  std::vector<T> x(N + kPad, kSentinel<T>), u(N + kPad, kSentinel<T>), y(N + kPad, kSentinel<T>),
      g(N + kPad, kSentinel<T>);
  for (std::size_t i = 0; i < N; ++i) {
    x[i] = static_cast<T>(rng.away_from(D::lo, D::hi, D::kinks, 1e-3));
    u[i] = static_cast<T>(rng.uniform(-1, 1));
  }
  const std::vector<T> x0 = x, u0 = u;
  auto xv = ad::variable<0, 1, N>(x.data(), g.data());
  auto uc = ad::constant<1, 1, N>(u.data());
  ad::evaluate(D::apply(xv), y.data());
  ad::value_and_gradient(ad::sum(D::apply(xv) * uc));
  std::size_t bad_v = 0, bad_g = 0, bad_pad = 0;
  for (std::size_t i = 0; i < N; ++i) {
    const double xi = x[i], fr = D::f(xi), gr = double(u[i]) * D::df(xi);
    // a few ulps of T; derivatives formed as 1 - y^2 or y (1 - y) carry ~eps absolute (times |u|)
    if (!(std::abs(double(y[i]) - fr) <= 8 * eps<T> * std::abs(fr))) {
      ++bad_v;
      MESSAGE("value [" << i << "] x = " << xi << ": " << double(y[i]) << " vs " << fr);
    }
    if (!(std::abs(double(g[i]) - gr) <= 8 * eps<T> * (std::abs(gr) + std::abs(double(u[i]))))) {
      ++bad_g;
      MESSAGE("grad [" << i << "] x = " << xi << ": " << double(g[i]) << " vs " << gr);
    }
  }
  for (std::size_t i = N; i < N + kPad; ++i)
    bad_pad += (y[i] != kSentinel<T>) + (g[i] != kSentinel<T>);
  CHECK(bad_v == 0);
  CHECK(bad_g == 0);
  CHECK(bad_pad == 0);  // nothing written past the end
  CHECK(x == x0);       // inputs untouched
  CHECK(u == u0);
}

// Sizes are a template list so that a translation unit can run a subset (see the float TU).
template <class T, class D, std::size_t... Ns>
void unary_sizes() {
  const std::string op_name = D::name;
  CAPTURE(op_name);
  Rng rng(777);
  (unary_at_size<T, Ns, D>(rng), ...);
}

// sum, mean, logsumexp, softmax of a 1 x N row and row_sum of an RS x N block, with sentinels.
template <class T, std::size_t N, std::size_t RS>
void reductions_at_size(Rng& rng) {
  CAPTURE(N);
  std::vector<T> x(RS * N + kPad, kSentinel<T>), u(RS * N + kPad, kSentinel<T>), g(RS * N + kPad, kSentinel<T>),
      y(N + kPad, kSentinel<T>);
  for (std::size_t i = 0; i < RS * N; ++i) {
    x[i] = static_cast<T>(rng.uniform(-3, 3));
    u[i] = static_cast<T>(rng.uniform(-1, 1));
  }
  auto pad_ok = [&](const std::vector<T>& v, std::size_t n) {
    for (std::size_t i = n; i < v.size(); ++i)
      if (v[i] != kSentinel<T>) return false;
    return true;
  };
  const double tol = 8 * eps<T>;
  double sabs = 0, s = 0;
  for (std::size_t i = 0; i < N; ++i) s += double(x[i]), sabs += std::abs(double(x[i]));
  // max and softmax reference on row 0
  double m = double(x[0]);
  for (std::size_t i = 1; i < N; ++i) m = std::max(m, double(x[i]));
  std::vector<double> p(N);
  double z = 0;
  for (std::size_t i = 0; i < N; ++i) z += p[i] = std::exp(double(x[i]) - m);
  for (auto& v : p) v /= z;
  const double lse = m + std::log(z);

  auto xv = ad::variable<0, 1, N>(x.data(), g.data());
  {  // sum
    T out = 0;
    ad::evaluate(ad::sum(xv), &out);
    CHECK(std::abs(double(out) - s) <= tol * (sabs + N));
    ad::value_and_gradient(ad::sum(xv) * T(3));
    bool ok = true;
    for (std::size_t i = 0; i < N; ++i) ok = ok && g[i] == T(3);
    CHECK(ok);
    CHECK(pad_ok(g, N));
  }
  {  // mean
    T out = 0;
    ad::evaluate(ad::mean(xv), &out);
    CHECK(std::abs(double(out) - s / N) <= tol * (sabs / N + 1));
    ad::value_and_gradient(ad::mean(xv));
    bool ok = true;
    for (std::size_t i = 0; i < N; ++i) ok = ok && std::abs(double(g[i]) - 1.0 / N) <= tol / N;
    CHECK(ok);
    CHECK(pad_ok(g, N));
  }
  {  // logsumexp: value and gradient = softmax
    T out = 0;
    ad::evaluate(ad::logsumexp(xv), &out);
    CHECK(std::abs(double(out) - lse) <= tol * (std::abs(lse) + 1));
    ad::value_and_gradient(ad::logsumexp(xv));
    bool ok = true;
    for (std::size_t i = 0; i < N; ++i) ok = ok && std::abs(double(g[i]) - p[i]) <= tol * (p[i] + 1e-3);
    CHECK(ok);
    CHECK(pad_ok(g, N));
  }
  {  // softmax: value and vjp p * (u - <u, p>)
    ad::evaluate(ad::softmax(xv), y.data());
    bool ok = true;
    for (std::size_t i = 0; i < N; ++i) ok = ok && std::abs(double(y[i]) - p[i]) <= tol * (p[i] + 1e-3);
    CHECK(ok);
    CHECK(pad_ok(y, N));
    auto uc = ad::constant<1, 1, N>(u.data());
    ad::value_and_gradient(ad::sum(ad::softmax(xv) * uc));
    double up = 0;
    for (std::size_t i = 0; i < N; ++i) up += double(u[i]) * p[i];
    ok = true;
    for (std::size_t i = 0; i < N; ++i) {
      const double r = p[i] * (double(u[i]) - up);
      ok = ok && std::abs(double(g[i]) - r) <= tol * (std::abs(r) + 1e-2);
    }
    CHECK(ok);
    CHECK(pad_ok(g, N));
  }
  {  // row_sum of an RS x N block, weighted by an RS x 1 upstream
    auto x2 = ad::variable<0, RS, N>(x.data(), g.data());
    T out[RS] = {};
    ad::evaluate(ad::row_sum(x2), out);
    for (std::size_t r = 0; r < RS; ++r) {
      double sr = 0, ar = 0;
      for (std::size_t i = 0; i < N; ++i) sr += double(x[r * N + i]), ar += std::abs(double(x[r * N + i]));
      CHECK(std::abs(double(out[r]) - sr) <= tol * (ar + N));
    }
    T w[RS];
    for (std::size_t r = 0; r < RS; ++r) w[r] = T(2) - T(r) * T(0.75);
    auto wc = ad::constant<1, RS, 1>(w);
    ad::value_and_gradient(ad::sum(ad::row_sum(x2) * wc));
    bool ok = true;
    for (std::size_t i = 0; i < RS * N; ++i) ok = ok && g[i] == w[i / N];
    CHECK(ok);
    CHECK(pad_ok(g, RS * N));
  }
}

// RS = rows of the row_sum block (its adjoint is an RS x 1 intermediate).
template <class T, std::size_t RS, std::size_t... Ns>
void reduction_sizes() {
  Rng rng(4242);
  (reductions_at_size<T, Ns, RS>(rng), ...);
}

}  // namespace ctnn::test::simdtail
