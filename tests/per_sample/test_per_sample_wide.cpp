// tests/per_sample: per-sample gradients on the benchmark's 64-32-10 net (B = 32, blocked and
// unrolled kernels) against 32 single-sample net.gradient calls, in double and float, with a
// sigmoid/MSE twin; after the first pass (which may allocate the thread's workspace) a pass
// allocates nothing.
#include <cmath>
#include <cstddef>
#include <vector>

#include <doctest/doctest.h>

#include "counting_new.hpp"
#include "ctnn/ctnn.hpp"
#include "ctnn/nn/per_sample.hpp"

namespace {

template <class T>
using Relu = ctnn::Network<T, ctnn::Dense<64, 32>, ctnn::ReLU, ctnn::Dense<32, 10>, ctnn::Identity>;
using Sig = ctnn::Network<double, ctnn::Dense<64, 32>, ctnn::Sigmoid, ctnn::Dense<32, 10>, ctnn::Sigmoid>;

// Max |one pass − single passes| relative to max |single|; also checks the returned batch loss.
template <std::size_t B, class Net, class Loss>
double compare_with_single_passes(Net& net, const Loss& loss) {
  using T = typename Net::scalar;
  constexpr std::size_t P = Net::num_params;
  ctnn::Random rng(7);
  std::vector<T> x(B * Net::inputs), y(B * Net::outputs, T(0));
  for (T& v : x) v = static_cast<T>(rng.uniform(-1, 1));
  for (std::size_t n = 0; n < B; ++n) y[n * Net::outputs + n % Net::outputs] = T(1);
  std::vector<T> rows(B * P, T(-7));
  const T l = ctnn::per_sample_gradients<B>(net, loss, x.data(), y.data(), rows.data());
  CHECK(l == net.template loss<B>(loss, x.data(), y.data()));

  const long before = ctnn::test::allocations.load();
  ctnn::per_sample_gradients<B>(net, loss, x.data(), y.data(), rows.data());
  const long allocated = ctnn::test::allocations.load() - before;
  CHECK(allocated == 0);

  double worst = 0, scale = 0;
  for (std::size_t n = 0; n < B; ++n) {
    net.template gradient<1>(loss, x.data() + n * Net::inputs, y.data() + n * Net::outputs);
    for (std::size_t i = 0; i < P; ++i) {
      worst = std::max(worst, std::abs(double(rows[n * P + i]) - double(net.grads()[i])));
      scale = std::max(scale, std::abs(double(net.grads()[i])));
    }
  }
  REQUIRE(scale > 0);
  return worst / scale;
}

}  // namespace

TEST_CASE("per-sample gradients, 64-32-10 relu + softmax CE, B = 32: double") {
  Relu<double> net(2024);
  const double err = compare_with_single_passes<32>(net, ctnn::loss::softmax_cross_entropy);
  INFO("max |one pass - single passes| / max |g| = " << err);
  CHECK(err <= 1e-14);
}
TEST_CASE("per-sample gradients, 64-32-10 relu + softmax CE, B = 32: float") {
  Relu<float> net(2024);
  const double err = compare_with_single_passes<32>(net, ctnn::loss::softmax_cross_entropy);
  INFO("max |one pass - single passes| / max |g| = " << err);
  CHECK(err <= 1e-5);
}
TEST_CASE("per-sample gradients, 64-32-10 sigmoid + MSE, B = 5 (a batch that is not a multiple of 4)") {
  Sig net(11);
  const double err = compare_with_single_passes<5>(net, ctnn::loss::mse_half_sum);
  INFO("max |one pass - single passes| / max |g| = " << err);
  CHECK(err <= 1e-14);
}
