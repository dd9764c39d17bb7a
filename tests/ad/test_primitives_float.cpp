// Element-wise primitives: float agrees with double to float precision (values and gradients)
// on the same inputs (rounded to float), on a 3 x 5 block (a full and a partial batch in both types).
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "ad_check.hpp"
#include "ctnn/ad/ad.hpp"
#include "unary_ops.hpp"

namespace ad = ctnn::ad;
using namespace ctnn::test::adcheck;

namespace {
constexpr std::size_t Rf = 3, Cf = 5, Nf = Rf * Cf;
}  // namespace

TEST_CASE_TEMPLATE("unary primitive: float agrees with double to float precision", D, CTNN_UNARY_OPS) {
  const std::string op_name = D::name;
  CAPTURE(op_name);
  constexpr double epsf = std::numeric_limits<float>::epsilon();
  Rng rng(99);
  std::array<float, Nf> xf{}, uf{}, yf{}, gf{};
  std::array<double, Nf> xd{}, ud{}, yd{}, gd{};
  for (std::size_t i = 0; i < Nf; ++i) {
    xf[i] = static_cast<float>(rng.away_from(D::lo, D::hi, D::kinks, 1e-3));
    uf[i] = static_cast<float>(rng.uniform(-1, 1));
    xd[i] = xf[i];  // the same inputs in both precisions
    ud[i] = uf[i];
  }
  {
    auto x = ad::variable<0, Rf, Cf>(xf.data(), gf.data());
    auto u = ad::constant<1, Rf, Cf>(uf.data());
    ad::evaluate(D::apply(x), yf.data());
    ad::value_and_gradient(ad::sum(D::apply(x) * u));
  }
  {
    auto x = ad::variable<0, Rf, Cf>(xd.data(), gd.data());
    auto u = ad::constant<1, Rf, Cf>(ud.data());
    ad::evaluate(D::apply(x), yd.data());
    ad::value_and_gradient(ad::sum(D::apply(x) * u));
  }
  for (std::size_t i = 0; i < Nf; ++i) {
    CAPTURE(i);
    CAPTURE(xd[i]);
    CHECK(std::isfinite(yf[i]));
    CHECK(std::isfinite(gf[i]));
    // a few float ulps; derivatives formed as 1 - y^2 or y (1 - y) also carry ~eps_f absolute
    CHECK(std::abs(double(yf[i]) - yd[i]) <= 4 * epsf * std::abs(yd[i]));
    CHECK(std::abs(double(gf[i]) - gd[i]) <= 4 * epsf * (std::abs(gd[i]) + std::abs(ud[i])));
  }
}
