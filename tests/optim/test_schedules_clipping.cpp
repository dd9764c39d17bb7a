// tests/optim/test_schedules_clipping.cpp: every schedule of optimizers.json (StepLR,
// ExponentialLR, CosineAnnealingLR unclamped past T_max, CosineAnnealingWarmRestarts) at 1e-10,
// linear warm-up composed with them, and gradient clipping by global norm (PyTorch's +1e-6 and the
// exact rescale, above and below the threshold) and by value, and clip_grad's order (norm, then value).
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "ctnn/optim/clip.hpp"
#include "ctnn/optim/schedule.hpp"
#include "reference.hpp"

namespace ref = ctnn::test::ref;
namespace optim = ctnn::optim;

namespace {
template <class S>
void check_schedule(const nlohmann::json& c, const S& s) {
  const ref::Vec lr = ref::vec_at(c, "lr");
  REQUIRE(static_cast<long long>(lr.size()) == ref::int_at(c, "steps"));
  std::vector<double> mine(lr.size());
  for (std::size_t t = 0; t < lr.size(); ++t) mine[t] = s(t);
  std::string why;
  CHECK_MESSAGE(ref::close_array(mine, lr, 1e-10, 1e-12, &why), ref::str_at(c, "name") << ": " << why);
}
// A list of tensors (W1, b1, W2, b2) as one flat buffer, in order.
ref::Vec flat(const nlohmann::json& c, const char* key) {
  ref::Vec v;
  for (const ref::Mat& m : ref::mats_at(c, key)) v.insert(v.end(), m.data.begin(), m.data.end());
  return v;
}
std::size_t size_param(const nlohmann::json& c, const char* key) {
  return static_cast<std::size_t>(ref::int_at(c, std::string("params.") + key));
}
}  // namespace

TEST_CASE("every reference schedule, lr[t] for t = 0..19") {
  const auto& list = ref::at(ref::optimizers(), "schedules.schedules");
  REQUIRE(ref::length(list) == 4);
  for (std::size_t i = 0; i < ref::length(list); ++i) {
    const auto& c = ref::element(list, i);
    const std::string name = ref::str_at(c, "name");
    const double base = ref::num_at(c, "base_lr");
    CAPTURE(name);
    if (name == "StepLR") {
      check_schedule(c, optim::StepDecay{base, size_param(c, "step_size"), ref::num_at(c, "params.gamma")});
    } else if (name == "ExponentialLR") {
      check_schedule(c, optim::ExponentialDecay{base, ref::num_at(c, "params.gamma")});
    } else if (name == "CosineAnnealingLR") {
      check_schedule(c, optim::CosineAnnealing{base, size_param(c, "T_max"), ref::num_at(c, "params.eta_min")});
    } else if (name == "CosineAnnealingWarmRestarts") {
      check_schedule(c, optim::CosineWarmRestarts{base, size_param(c, "T_0"), size_param(c, "T_mult"),
                                                  ref::num_at(c, "params.eta_min")});
    } else {
      FAIL("no ctnn schedule for " << name);
    }
  }
}

TEST_CASE("CosineWarmRestarts with T_mult = 2: periods 3, 6, 12") {
  const optim::CosineWarmRestarts s{1.0, 3, 2, 0.0};
  for (std::size_t t : {0u, 3u, 9u, 21u}) CHECK(s(t) == 1.0);
  CHECK(s(6) == doctest::Approx(0.5));   // half of the 6-step period
  CHECK(s(15) == doctest::Approx(0.5));  // half of the 12-step period
}

TEST_CASE("linear warm-up composes with another schedule") {
  const optim::CosineAnnealing cos{0.1, 10, 0.0};
  const auto w = optim::warm_up(cos, 4, 0.25);
  CHECK(w(0) == doctest::Approx(0.025));
  CHECK(w(2) == doctest::Approx(0.0625));
  for (std::size_t t = 4; t < 20; ++t) CHECK(w(t) == cos(t - 4));
  const auto s = optim::warm_up(optim::StepDecay{0.2, 5, 0.5}, 2);
  CHECK(s(0) == 0.0);
  CHECK(s(1) == doctest::Approx(0.1));
  CHECK(s(7) == doctest::Approx(0.1));
}

TEST_CASE("clipping: global norm (PyTorch and exact rescale) and value, every reference case") {
  const auto& cl = ref::at(ref::optimizers(), "clipping");
  const auto& cases = ref::at(cl, "cases");
  REQUIRE(ref::length(cases) == 3);
  for (std::size_t i = 0; i < ref::length(cases); ++i) {
    const auto& c = ref::element(cases, i);
    const std::string name = ref::str_at(c, "name");
    CAPTURE(name);
    // The tensors W1, b1, W2, b2 as one flat gradient buffer (the network's layout).
    ref::Vec g = flat(c, "before");
    REQUIRE(g.size() == 31);
    ref::Vec exact = g;
    std::string why;
    if (name.starts_with("clip_grad_norm")) {
      const double max_norm = ref::num_at(c, "max_norm");
      const double norm = optim::clip_grad_norm(std::span<double>(g), max_norm);
      const double r = ref::num_at(c, "total_norm_before");
      CHECK(std::abs(norm - r) <= 1e-10 * r);
      CHECK_MESSAGE(ref::close_array(g, flat(c, "after"), 1e-10, 1e-12, &why), why);
      CHECK(std::abs(optim::global_norm(std::span<const double>(g)) - ref::num_at(c, "total_norm_after")) <=
            1e-10 * ref::num_at(c, "total_norm_after"));
      optim::clip_grad_norm(std::span<double>(exact), max_norm, optim::Rescale::exact);
      CHECK_MESSAGE(ref::close_array(exact, flat(c, "after_exact_rescale"), 1e-10, 1e-12, &why), why);
    } else {
      REQUIRE(name == "clip_grad_value");
      optim::clip_grad_value(std::span<double>(g), ref::num_at(c, "clip_value"));
      CHECK_MESSAGE(ref::close_array(g, flat(c, "after"), 1e-10, 1e-12, &why), why);
    }
  }
}

TEST_CASE("clip_grad: the norm first, then the values; 0 turns either off") {
  // g = (3, 4, 0.5): norm √25.25 ≈ 5.025.
  const std::vector<double> g0{3, 4, 0.5};
  auto clipped = [&](double max_norm, double value) {
    std::vector<double> g = g0;
    optim::clip_grad(std::span<double>(g), max_norm, value, optim::Rescale::exact);
    return g;
  };
  CHECK(clipped(0, 0) == g0);
  const double c = 1 / std::sqrt(25.25);  // to norm 1
  const std::vector<double> n = clipped(1, 0);
  for (std::size_t i = 0; i < 3; ++i) CHECK(n[i] == doctest::Approx(g0[i] * c).epsilon(1e-15));
  CHECK(clipped(0, 2) == std::vector<double>{2, 2, 0.5});
  // Norm then value: (0.597, 0.796, 0.0995) → 0.7 clamps only the second. Value first would give
  // (0.7, 0.7, 0.5)/‖·‖ = (0.628, 0.628, 0.449): a different vector.
  const std::vector<double> both = clipped(1, 0.7);
  CHECK(both[0] == doctest::Approx(3 * c).epsilon(1e-15));
  CHECK(both[1] == 0.7);
  CHECK(both[2] == doctest::Approx(0.5 * c).epsilon(1e-15));
}
