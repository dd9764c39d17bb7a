#include <ctnn/ctnn.hpp>
#include <cstdio>
using namespace ctnn;
int main() {
  Network<double, Dense<2, 4>, Tanh, Dense<4, 1>, Sigmoid> net(7);  // the topology is a type
  Matrix<double, 4, 2> x{{0, 0, 0, 1, 1, 0, 1, 1}};  Matrix<double, 4, 1> y{{0, 1, 1, 0}};  // XOR
  auto huber = [](auto p, auto t) { auto a = abs(p - t), m = minimum(a, 0.5); return mean(m * (a - 0.5 * m)); };
  for (int step = 0; step < 3000; ++step) {
    net.gradient(huber, x, y);  // the loss's gradient is derived, not written
    for (std::size_t i = 0; i < net.num_params; ++i) net.params()[i] -= 2.0 * net.grads()[i];
  }
  auto p = net.forward(x);
  for (int i = 0; i < 4; ++i) std::printf("%g xor %g -> %.3f\n", x(i, 0), x(i, 1), p[i]);
  return p[0] < 0.5 && p[1] > 0.5 && p[2] > 0.5 && p[3] < 0.5 ? 0 : 1;
}
