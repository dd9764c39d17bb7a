// The float logistic kernel (simd::sigmoid_float) against double: ulp error over a sweep of
// [-100, 100], the flush below -87.3, the special values, lanes of 4 and 8 and the one-float
// path; and, where the build has the AVX-512 form, that it equals the portable form bit for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "ctnn/ad/ops/sigmoid.hpp"
#include "ctnn/kernel/simd.hpp"

namespace simd = ctnn::simd;

namespace {
using V = simd::batch<float>;
constexpr std::size_t W = V::size;

std::uint32_t bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
double ulps(float got, double ref) {
  const float r = static_cast<float>(ref);
  const double ulp = double(std::nextafter(r, std::numeric_limits<float>::infinity())) - double(r);
  return std::abs(double(got) - ref) / ulp;
}
// x over [-100, 100] on a fine grid, plus points around the clamp and zero.
std::vector<float> sweep() {
  std::vector<float> xs;
  for (double x = -100.0; x <= 100.0; x += 7.31e-4) xs.push_back(static_cast<float>(x));
  for (float c : {-87.33654f, 0.0f, 17.0f, -17.0f})
    for (int k = -8; k <= 8; ++k) {
      float v = c;
      for (int s = 0; s < (k < 0 ? -k : k); ++s) v = std::nextafter(v, k < 0 ? -1e30f : 1e30f);
      xs.push_back(v);
    }
  while (xs.size() % W != 0) xs.push_back(0.25f);
  return xs;
}
template <class F>
std::vector<float> map_lanes(const std::vector<float>& xs, F f) {
  std::vector<float> ys(xs.size());
  for (std::size_t i = 0; i < xs.size(); i += W) f(V::load_unaligned(xs.data() + i)).store_unaligned(ys.data() + i);
  return ys;
}
}  // namespace

TEST_CASE("float sigmoid: within 4 ulp where unsaturated (|x| < 17), 6 ulp down to -87.3, 0 below") {
  const auto xs = sweep();
  const auto ys = map_lanes(xs, [](V v) { return simd::sigmoid_float(v); });
  double worst_mid = 0, worst = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    CAPTURE(xs[i]);
    const double ref = 1.0 / (1.0 + std::exp(-double(xs[i])));
    if (xs[i] < -87.33654f) {
      CHECK(ys[i] == 0.0f);  // flushed: σ < 1.2e-38 would be subnormal
      continue;
    }
    const double u = ulps(ys[i], ref);
    CHECK(u <= 6.0);
    if (std::abs(xs[i]) < 17.0f) worst_mid = std::max(worst_mid, u);
    worst = std::max(worst, u);
  }
  MESSAGE("max error " << worst << " ulp (" << worst_mid << " ulp for |x| < 17)");
  CHECK(worst_mid <= 4.0);
}

TEST_CASE("float sigmoid: special values, in every lane and as one float") {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const float xs[] = {nan, -nan, inf, -inf, 0.0f, -0.0f, 1e-45f, -1e-45f, 88.0f, -88.0f, 1e30f, -1e30f};
  const float want[] = {nan, nan, 1.0f, 0.0f, 0.5f, 0.5f, 0.5f, 0.5f, 1.0f, 0.0f, 1.0f, 0.0f};
  ctnn::ops::Sigmoid op;
  for (std::size_t k = 0; k < std::size(xs); ++k) {
    CAPTURE(xs[k]);
    const std::size_t j = k % 4;  // x's lane, among other values in the other lanes
    float lanes[W];
    for (std::size_t l = 0; l < W; ++l) lanes[l] = l == j ? xs[k] : float(l) - 3.0f;
    float out[W], out4[4];
    simd::sigmoid_float(V::load_unaligned(lanes)).store_unaligned(out);
    simd::sigmoid_float(simd::batch4f::load_unaligned(lanes)).store_unaligned(out4);
    for (float got : {out[j], out4[j], op.value(xs[k])}) {
      if (std::isnan(want[k])) CHECK(std::isnan(got));
      else CHECK(got == want[k]);
    }
    for (std::size_t l = 0; l < W; ++l)  // the other lanes are not disturbed by x
      if (l != j) CHECK(out[l] == doctest::Approx(1.0 / (1.0 + std::exp(3.0 - double(l)))).epsilon(1e-6));
  }
}

TEST_CASE("float sigmoid: the AVX-512 form equals the portable form bit for bit") {
  if constexpr (!simd::detail::has_sigmoid_avx512) {
    MESSAGE("this build has no AVX-512 form; nothing to compare");
  } else {
    std::vector<float> xs = sweep();
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    for (float v : {nan, inf, -inf, 0.0f, -0.0f, 1e-45f, -1e-45f, -87.4f, -1e30f}) xs.push_back(v);
    while (xs.size() % W != 0) xs.push_back(0.5f);
    const auto a = map_lanes(xs, [](V v) { return simd::sigmoid_float(v); });
    const auto b = map_lanes(xs, [](V v) { return simd::detail::sigmoid_portable(v); });
    std::size_t differ = 0;
    for (std::size_t i = 0; i < xs.size(); ++i)
      if (bits(a[i]) != bits(b[i]) && !(std::isnan(a[i]) && std::isnan(b[i]))) ++differ;
    CHECK(differ == 0);
  }
}
