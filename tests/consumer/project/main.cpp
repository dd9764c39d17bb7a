// A downstream program: a tiny network, one gradient step, and a number printed.
#include <cmath>
#include <cstdio>

#include "ctnn/ctnn.hpp"

int main() {
  using Net = ctnn::Sequential<ctnn::Dense<2, 3>, ctnn::Tanh, ctnn::Dense<3, 1>, ctnn::Sigmoid>;
  static_assert(Net::inputs == 2 && Net::outputs == 1 && Net::num_params == 2 * 3 + 3 + 3 + 1);
  Net net(7);

  // XOR, four samples.
  ctnn::Matrix<float, 4, 2> x{{0, 0, 0, 1, 1, 0, 1, 1}};
  ctnn::Matrix<float, 4, 1> y{{0, 1, 1, 0}};

  const float before = net.loss<4>(ctnn::loss::mse_half_sum, x.data(), y.data());
  const auto [loss, grad] = net.gradient<4>(ctnn::loss::mse_half_sum, x, y);
  auto params = net.params();
  for (std::size_t i = 0; i < params.size(); ++i) params[i] -= 0.5f * grad[i];
  const float after = net.loss<4>(ctnn::loss::mse_half_sum, x.data(), y.data());

  std::printf("consumer: loss before %.6f, after one step %.6f\n", static_cast<double>(loss),
              static_cast<double>(after));
  if (!std::isfinite(after) || std::fabs(before - loss) > 1e-6f || !(after < loss)) {
    std::fprintf(stderr, "consumer: a gradient step did not lower the loss\n");
    return 1;
  }
  return 0;
}
