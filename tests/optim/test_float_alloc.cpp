// tests/optim/test_float_alloc.cpp: every optimiser instantiated for float (its trajectory on the
// mlp problem follows the double one to float precision), and step() allocates nothing: the global
// operator new is replaced by a counting version (counting_new.hpp); only the steps are counted
// (doctest's macros allocate, so results are checked afterwards).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "ctnn/optim/optim.hpp"

#include "counting_new.hpp"

namespace optim = ctnn::optim;
using ctnn::test::allocations_in;

namespace {
// A smooth test function of n parameters with a non-trivial gradient: f = sum (a_i x_i^2/2 + sin x_i).
template <class T>
void gradient(const std::vector<T>& x, std::vector<T>& g) {
  for (std::size_t i = 0; i < x.size(); ++i) g[i] = static_cast<T>((1 + i % 7) * x[i] + std::cos(x[i]));
}

template <template <class> class Opt, class O>
void float_follows_double(const O& options, const optim::DecayMask& mask) {
  constexpr std::size_t n = 37;  // not a multiple of any SIMD width: the scalar tail runs too
  std::vector<double> xd(n), gd(n);
  std::vector<float> xf(n), gf(n);
  for (std::size_t i = 0; i < n; ++i) xd[i] = xf[i] = static_cast<float>(0.1 * static_cast<double>(i) - 1.7);
  Opt<double> od(n, options, mask);
  Opt<float> of(n, options, mask);
  for (int t = 0; t < 20; ++t) {
    gradient(xd, gd);
    gradient(xf, gf);
    od.step(std::span<double>(xd), std::span<const double>(gd), 0.01);
    of.step(std::span<float>(xf), std::span<const float>(gf), 0.01);
  }
  double moved = 0;
  for (std::size_t i = 0; i < n; ++i) {
    CHECK(std::abs(xf[i] - xd[i]) <= 1e-5 * (1 + std::abs(xd[i])));
    moved = std::max(moved, std::abs(xd[i] - (0.1 * static_cast<double>(i) - 1.7)));
  }
  CHECK(moved > 1e-3);  // the steps did something
  CHECK(of.step_count() == 20);
}

template <class Opt>
long allocations_of_steps(Opt& opt, std::vector<float>& x, std::vector<float>& g) {
  opt.step(std::span<float>(x), std::span<const float>(g), 0.01);  // warm-up, outside the count
  return allocations_in([&] {
    for (int t = 0; t < 50; ++t) opt.step(std::span<float>(x), std::span<const float>(g), 0.01);
  });
}
}  // namespace

TEST_CASE("float instantiations follow the double trajectories") {
  const optim::DecayMask some({{3, 20}, {25, 30}});
  optim::SGDOptions sgd;
  sgd.momentum = 0.9;
  sgd.weight_decay = 0.01;
  float_follows_double<optim::SGD>(sgd, some);
  sgd.nesterov = true;
  sgd.convention = optim::Momentum::textbook;
  float_follows_double<optim::SGD>(sgd, {});
  float_follows_double<optim::AdaGrad>(optim::AdaGradOptions{}, some);
  float_follows_double<optim::RMSProp>(optim::RMSPropOptions{}, {});
  optim::RMSPropOptions rc;
  rc.centered = true;
  rc.momentum = 0.5;
  float_follows_double<optim::RMSProp>(rc, some);
  float_follows_double<optim::Adam>(optim::adamw_options(), some);
  optim::AdamOptions l2;
  l2.weight_decay = 0.1;
  l2.amsgrad = true;
  float_follows_double<optim::Adam>(l2, {});
}

TEST_CASE("step() allocates nothing (every optimiser, float, a weights-only mask)") {
  constexpr std::size_t n = 1000;
  std::vector<float> x(n, 0.5f), g(n, 0.1f);
  const optim::DecayMask mask({{0, 400}, {500, 900}});
  optim::SGDOptions m;
  m.momentum = 0.9;
  m.weight_decay = 1e-4;
  optim::SGD<float> a(n, {}, mask), b(n, m, mask);
  optim::AdaGrad<float> c(n, {}, mask);
  optim::RMSProp<float> d(n, {}, mask);
  optim::Adam<float> e(n, optim::adamw_options(), mask);
  std::vector<float> gc = g;
  long clip = 0;
  {
    optim::clip_grad_norm(std::span<float>(gc), 0.5);
    clip = allocations_in([&] {
      optim::clip_grad_norm(std::span<float>(gc), 0.5);
      optim::clip_grad_value(std::span<float>(gc), 0.01);
    });
  }
  const long counts[] = {allocations_of_steps(a, x, g), allocations_of_steps(b, x, g), allocations_of_steps(c, x, g),
                         allocations_of_steps(d, x, g), allocations_of_steps(e, x, g), clip};
  for (long k : counts) CHECK(k == 0);
  // The counter works: a vector allocation inside a counted region is seen.
  CHECK(allocations_in([] {
          std::vector<float> tmp(10);
          (void)tmp;
        }) >= 1);
}
