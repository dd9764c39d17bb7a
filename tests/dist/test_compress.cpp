// ctnn/dist/compress.hpp (no MPI): top-k selection, the exact bookkeeping of error feedback
// (what is sent plus what is kept equals what came in), and its argument checks.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "ctnn/dist/compress.hpp"

using ctnn::dist::TopK;

TEST_CASE("top_k_count: round(ratio * n), clamped to [1, n]; a ratio outside (0, 1] is refused") {
  CHECK(ctnn::dist::top_k_count(0.01, 1000) == 10);
  CHECK(ctnn::dist::top_k_count(0.0001, 1000) == 1);
  CHECK(ctnn::dist::top_k_count(1.0, 7) == 7);
  CHECK(ctnn::dist::top_k_count(0.5, 5) == 3);  // llround(2.5) = 3
  CHECK_THROWS_WITH_AS(ctnn::dist::top_k_count(0.0, 10), "ctnn::dist: the top-k ratio must be in (0, 1], got 0.000000",
                       std::invalid_argument);
  CHECK_THROWS_AS(ctnn::dist::top_k_count(1.5, 10), std::invalid_argument);
  CHECK_THROWS_AS(ctnn::dist::top_k_count(std::nan(""), 10), std::invalid_argument);
}

TEST_CASE("TopK: the k entries of largest magnitude, in index order; ties go to the lower index") {
  TopK<double> t(6, 3);
  const std::vector<double> g{0.5, -3.0, 2.0, -2.0, 0.1, 3.0};
  std::vector<std::uint32_t> idx(3);
  std::vector<double> val(3);
  t.compress(g, idx, val);
  // |g| = 0.5 3 2 2 0.1 3: the two 3s, then the tie between 2.0 (index 2) and -2.0 (index 3) goes to 2.
  CHECK(idx == std::vector<std::uint32_t>{1, 2, 5});
  CHECK(val == std::vector<double>{-3.0, 2.0, 3.0});
  CHECK(std::vector<double>(t.residual().begin(), t.residual().end()) ==
        std::vector<double>{0.5, 0.0, 0.0, -2.0, 0.1, 0.0});
  // Next step: the residual is added first, so -2.0 + -1.5 = -3.5 now leads.
  t.compress(std::vector<double>{0, 0, 0, -1.5, 0, 0}, idx, val);
  CHECK(idx == std::vector<std::uint32_t>{0, 3, 4});
  CHECK(val == std::vector<double>{0.5, -3.5, 0.1});
}

TEST_CASE_TEMPLATE("TopK with error feedback: sent + kept == kept before + gradient, exactly, every step", T, float,
                   double) {
  const std::size_t n = 1000, k = 13;
  TopK<T> t(n, k);
  std::mt19937 rng(5);
  std::normal_distribution<T> nd(0, 1);
  std::vector<T> g(n), before(n), total_in(n, T(0)), total_sent(n, T(0)), val(k);
  std::vector<std::uint32_t> idx(k);
  for (int step = 0; step < 200; ++step) {
    for (auto& v : g) v = nd(rng);
    before.assign(t.residual().begin(), t.residual().end());
    t.compress(g, idx, val);
    std::vector<T> sent(n, T(0));
    for (std::size_t j = 0; j < k; ++j) {
      if (j) REQUIRE(idx[j - 1] < idx[j]);
      sent[idx[j]] = val[j];
    }
    // The selection: nothing kept is larger than the smallest sent.
    T smallest_sent = std::abs(val[0]);
    for (auto v : val) smallest_sent = std::min(smallest_sent, std::abs(v));
    for (std::size_t i = 0; i < n; ++i) {
      REQUIRE(std::abs(t.residual()[i]) <= smallest_sent);
      REQUIRE(sent[i] + t.residual()[i] == before[i] + g[i]);  // one of the two is exactly 0
      if (sent[i] != T(0)) REQUIRE(t.residual()[i] == T(0));
    }
  }
}

TEST_CASE("TopK with error feedback sends every entry eventually; without it, small entries are never sent") {
  // A constant gradient with one large entry and 99 small ones, 1 entry sent per step.
  const std::size_t n = 100;
  std::vector<double> g(n, 0.01);
  g[0] = 1.0;
  std::vector<std::uint32_t> idx(1);
  std::vector<double> val(1);
  for (bool feedback : {true, false}) {
    TopK<double> t(n, 1, feedback);
    std::vector<double> sent(n, 0.0);
    const int steps = 2000;
    for (int s = 0; s < steps; ++s) {
      t.compress(g, idx, val);
      sent[idx[0]] += val[0];
    }
    if (feedback) {
      // What was sent plus what is still kept is everything that came in.
      for (std::size_t i = 0; i < n; ++i)
        CHECK(sent[i] + t.residual()[i] == doctest::Approx(steps * g[i]).epsilon(1e-12));
      for (std::size_t i = 1; i < n; ++i) CHECK(sent[i] > 0.0);
    } else {
      CHECK(sent[0] == doctest::Approx(steps * 1.0));
      for (std::size_t i = 1; i < n; ++i) CHECK(sent[i] == 0.0);
      for (auto r : t.residual()) CHECK(r == 0.0);
    }
  }
}

TEST_CASE("TopK: wrong sizes are refused with the sizes named") {
  CHECK_THROWS_WITH_AS(TopK<float>(10, 11), "ctnn::dist::TopK: need 0 < k <= n, got k = 11, n = 10",
                       std::invalid_argument);
  CHECK_THROWS_AS(TopK<float>(0, 0), std::invalid_argument);
  TopK<float> t(4, 2);
  std::vector<float> g(5), val(2);
  std::vector<std::uint32_t> idx(2);
  CHECK_THROWS_WITH_AS(t.compress(g, idx, val), "ctnn::dist::TopK::compress: sizes 5, 2, 2; expected 4, 2, 2",
                       std::invalid_argument);
}

TEST_CASE("TopK: a non-finite entry is refused, naming it, and the residual is left as it was") {
  TopK<double> t(4, 2);
  std::vector<std::uint32_t> idx(2);
  std::vector<double> val(2);
  t.compress(std::vector<double>{1, 2, 3, 4}, idx, val);  // keeps 1 and 2
  CHECK_THROWS_WITH_AS(t.compress(std::vector<double>{0, 0, std::nan(""), 0}, idx, val),
                       "ctnn::dist::TopK::compress: entry 2 is not finite (gradient plus residual)",
                       std::invalid_argument);
  CHECK(std::vector<double>(t.residual().begin(), t.residual().end()) == std::vector<double>{1, 2, 0, 0});
}

TEST_CASE("TopK: ties at the k-th magnitude go to the lowest indices, whatever their number") {
  // Seven entries of magnitude 2 (mixed signs) around two larger ones; k = 5 takes both larger and
  // the three lowest-indexed 2s.
  TopK<float> t(10, 5);
  const std::vector<float> g{2, -2, 1, 2, 5, -2, 2, -7, 2, -2};
  std::vector<std::uint32_t> idx(5);
  std::vector<float> val(5);
  t.compress(g, idx, val);
  CHECK(idx == std::vector<std::uint32_t>{0, 1, 3, 4, 7});
  CHECK(val == std::vector<float>{2, -2, 2, 5, -7});
}

TEST_CASE_TEMPLATE("TopK picks what a full sort picks (magnitude, then the lower index), on vectors with ties, zeros, "
                   "denormals and wide ranges", T, float, double) {
  std::mt19937 rng(11);
  // Small n (one selection over all) and n past the histogram's threshold (16384 floats, 262144
  // doubles), with k from 1 to n - 1.
  const std::size_t large = std::is_same_v<T, float> ? 40000 : 300000;
  for (int trial = 0; trial < 312; ++trial) {
    const std::size_t n = trial < 300 ? 1 + rng() % 300 : large + rng() % 1000;
    const std::size_t ks[] = {1, 37, n / 100, n / 3, n - 1};
    const std::size_t k = trial < 300 ? 1 + rng() % n : ks[trial % 5];
    CAPTURE(trial);
    CAPTURE(n);
    CAPTURE(k);
    std::vector<T> g(n);
    for (auto& v : g) {
      switch (rng() % 5) {
        case 0: v = T(0); break;
        case 1: v = T(int(rng() % 5) - 2); break;  // many exact ties
        case 2: v = std::numeric_limits<T>::denorm_min() * T(1 + rng() % 3); break;
        case 3: v = std::ldexp(T(1), int(rng() % 120) - 60) * (rng() % 2 ? 1 : -1); break;
        default: v = std::normal_distribution<T>(0, 1)(rng); break;
      }
    }
    TopK<T> t(n, k, false);
    std::vector<std::uint32_t> idx(k);
    std::vector<T> val(k);
    t.compress(g, idx, val);
    std::vector<std::uint32_t> order(n);
    for (std::uint32_t i = 0; i < n; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      const T ma = std::abs(g[a]), mb = std::abs(g[b]);
      return ma > mb || (ma == mb && a < b);
    });
    order.resize(k);
    std::sort(order.begin(), order.end());
    REQUIRE(idx == order);
    for (std::size_t j = 0; j < k; ++j) REQUIRE(val[j] == g[idx[j]]);
  }
}

TEST_CASE("Sign: one bit per entry (set for >= 0) and the mean magnitude; the residual keeps the difference") {
  using ctnn::dist::Sign;
  Sign<double> s(70);  // two words, the second partly used
  std::vector<double> g(70);
  for (std::size_t i = 0; i < 70; ++i) g[i] = (i % 3 == 0 ? -1.0 : 1.0) * double(i + 1) / 10;
  g[5] = 0.0;  // zero counts as non-negative
  std::vector<std::uint64_t> bits(s.words());
  REQUIRE(bits.size() == 2);
  const double scale = s.compress(g, bits);
  double l1 = 0;
  for (double v : g) l1 += std::abs(v);
  CHECK(scale == doctest::Approx(l1 / 70).epsilon(1e-15));
  for (std::size_t i = 0; i < 70; ++i) {
    CAPTURE(i);
    const bool up = g[i] >= 0;
    CHECK(((bits[i / 64] >> (i % 64)) & 1u) == (up ? 1u : 0u));
    CHECK(Sign<double>::value(bits, scale, i) == (up ? scale : -scale));
    CHECK(s.residual()[i] == g[i] - (up ? scale : -scale));
  }
  CHECK((bits[1] >> 6) == 0);  // no bits past entry 69
}

TEST_CASE_TEMPLATE("Sign with error feedback: what was sent plus what is kept is what came in", T, float, double) {
  using ctnn::dist::Sign;
  const std::size_t n = 333;
  std::mt19937 rng(3);
  std::normal_distribution<T> nd(0, 1);
  for (bool feedback : {true, false}) {
    Sign<T> s(n, feedback);
    std::vector<T> g(n), val(n);
    std::vector<double> in(n, 0.0), sent(n, 0.0);
    std::vector<std::uint64_t> bits(s.words());
    for (int step = 0; step < 300; ++step) {
      for (auto& v : g) v = nd(rng) * T(1 + step % 7);
      const T scale = s.compress(g, bits);
      for (std::size_t i = 0; i < n; ++i) {
        in[i] += double(g[i]);
        sent[i] += double(Sign<T>::value(bits, scale, i));
      }
    }
    const double tol = std::is_same_v<T, float> ? 1e-3 : 1e-10;
    for (std::size_t i = 0; i < n; ++i) {
      if (feedback) {
        REQUIRE(sent[i] + double(s.residual()[i]) == doctest::Approx(in[i]).epsilon(tol).scale(10));
        REQUIRE(std::abs(double(s.residual()[i])) < 40.0);  // bounded: every entry is sent, in sign, eventually
      } else {
        REQUIRE(s.residual()[i] == T(0));
      }
    }
  }
}

TEST_CASE("Sign: a non-finite entry is refused before the residual changes; wrong sizes are named") {
  using ctnn::dist::Sign;
  Sign<float> s(3);
  std::vector<std::uint64_t> bits(1);
  s.compress(std::vector<float>{1, -2, 4}, bits);
  const std::vector<float> kept(s.residual().begin(), s.residual().end());
  CHECK_THROWS_WITH_AS(s.compress(std::vector<float>{0, std::numeric_limits<float>::infinity(), 0}, bits),
                       "ctnn::dist::Sign::compress: entry 1 is not finite (gradient plus residual)",
                       std::invalid_argument);
  CHECK(std::vector<float>(s.residual().begin(), s.residual().end()) == kept);
  std::vector<std::uint64_t> two(2);
  CHECK_THROWS_WITH_AS(s.compress(std::vector<float>{1, 2, 3}, two),
                       "ctnn::dist::Sign::compress: sizes 3, 2; expected 3, 1", std::invalid_argument);
  CHECK_THROWS_AS(Sign<float>(0), std::invalid_argument);
}

TEST_CASE_TEMPLATE("TopK past the histogram's threshold: the k-th largest the last of its bucket, or inside it", T, float,
                   double) {
  const std::size_t n = std::is_same_v<T, float> ? 20000 : 270000;
  std::vector<T> g(n, T(1));
  for (std::size_t i = 0; i < 100; ++i) g[(i * 7919) % n] = T(-4);  // 100 entries in the top bucket
  for (std::size_t k : {std::size_t(100), std::size_t(50), std::size_t(101)}) {
    CAPTURE(k);
    TopK<T> t(n, k, false);
    std::vector<std::uint32_t> idx(k);
    std::vector<T> val(k);
    t.compress(g, idx, val);
    std::size_t fours = 0;
    for (std::size_t j = 0; j < k; ++j) fours += val[j] == T(-4);
    CHECK(fours == std::min<std::size_t>(k, 100));
    if (k == 101) {  // the one entry of 1 taken is the lowest-indexed 1
      const auto first_one = std::uint32_t(std::find(g.begin(), g.end(), T(1)) - g.begin());
      for (std::size_t j = 0; j < k; ++j)
        if (val[j] == T(1)) CHECK(idx[j] == first_one);
    }
  }
}
