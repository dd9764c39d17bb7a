// Re-entrancy of a pass: forward() on one shared const network, called from 8 std::threads at once,
// many iterations each on different inputs, gives every result bit for bit equal to the
// single-threaded one; gradient() on per-thread copies of the network, concurrently, likewise.
// Two sizes: a small net whose workspace is on the stack, and one whose workspace (> 16 KiB,
// ctnn::stack_workspace_limit) is the per-thread buffer of ad/tape_static.hpp.
// A RuntimeNetwork shared by 8 threads likewise, its threads changing batch size between calls
// (each pass runs a recorded graph of its own, taken from the network's pool).
// Run under ThreadSanitizer to see races, not only wrong numbers.
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <thread>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/nn/runtime_network.hpp"

namespace {
constexpr int kThreads = 8;
constexpr int kInputs = 16;      // distinct input batches; thread t starts at batch t
constexpr int kIterations = 2000;  // forward passes per thread (a quarter as many gradients)

std::vector<double> inputs(std::size_t n, int which) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::sin(0.37 * static_cast<double>(i) + 1.3 * which) * 1.5;
  return v;
}

bool same_bits(const double* a, const double* b, std::size_t n) { return std::memcmp(a, b, n * sizeof(double)) == 0; }

template <class Net, std::size_t B>
struct Case {
  static constexpr std::size_t in = B * Net::inputs, out = B * Net::outputs;
  std::vector<std::vector<double>> x, y, expected_out, expected_grad;
  std::vector<double> expected_loss;

  template <class Loss>
  Case(const Net& net, const Loss& loss) {
    for (int k = 0; k < kInputs; ++k) {
      x.push_back(inputs(in, k));
      y.push_back(inputs(out, 100 + k));
      std::vector<double> o(out);
      net.template forward<B>(x.back().data(), o.data());
      expected_out.push_back(o);
      Net copy = net;
      expected_loss.push_back(copy.template gradient<B>(loss, x.back().data(), y.back().data()));
      expected_grad.emplace_back(copy.grads().begin(), copy.grads().end());
    }
  }

  // 8 threads, each kIterations forward passes on the shared const net; returns the mismatches.
  long forward_mismatches(const Net& net) const {
    std::atomic<long> bad{0};
    std::atomic<int> ready{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < kThreads; ++t)
      pool.emplace_back([&, t] {
        std::vector<double> o(out);
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();  // start together
        for (int it = 0; it < kIterations; ++it) {
          const int k = (t + it) % kInputs;
          net.template forward<B>(x[k].data(), o.data());
          if (!same_bits(o.data(), expected_out[k].data(), out)) bad.fetch_add(1);
        }
      });
    for (auto& th : pool) th.join();
    return bad.load();
  }

  // 8 threads, each with its own copy of the net, kIterations gradient passes; returns mismatches.
  template <class Loss>
  long gradient_mismatches(const Net& net, const Loss& loss) const {
    std::atomic<long> bad{0};
    std::atomic<int> ready{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < kThreads; ++t)
      pool.emplace_back([&, t] {
        Net mine = net;
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        for (int it = 0; it < kIterations / 4; ++it) {
          const int k = (3 * t + it) % kInputs;
          const double l = mine.template gradient<B>(loss, x[k].data(), y[k].data());
          if (!same_bits(&l, &expected_loss[k], 1) ||
              !same_bits(mine.grads().data(), expected_grad[k].data(), Net::num_params))
            bad.fetch_add(1);
        }
      });
    for (auto& th : pool) th.join();
    return bad.load();
  }
};
}  // namespace

TEST_CASE("small net (stack workspace): concurrent forward and gradient are bit-identical") {
  using Net = ctnn::Network<double, ctnn::Dense<4, 16>, ctnn::Tanh, ctnn::Dense<16, 3>, ctnn::Sigmoid>;
  const Net net(5);
  const Case<Net, 8> c(net, ctnn::loss::mse_mean);
  CHECK(c.forward_mismatches(net) == 0);
  CHECK(c.gradient_mismatches(net, ctnn::loss::mse_mean) == 0);
}

TEST_CASE("larger net (per-thread workspace above 16 KiB): concurrent forward and gradient are bit-identical") {
  using Net = ctnn::Network<double, ctnn::Dense<32, 96>, ctnn::ReLU, ctnn::Dense<96, 10>>;
  constexpr std::size_t B = 32;  // the hidden layer alone is 32 x 96 doubles = 24 KiB
  static_assert(B * 96 * sizeof(double) > ctnn::stack_workspace_limit);
  const Net net(9);
  const Case<Net, B> c(net, ctnn::loss::softmax_cross_entropy);
  CHECK(c.forward_mismatches(net) == 0);
  CHECK(c.gradient_mismatches(net, ctnn::loss::softmax_cross_entropy) == 0);
}

TEST_CASE("runtime network: concurrent forward on one network, batch sizes changing, is bit-identical") {
  const ctnn::RuntimeNetwork<double> net({12, 24, 5}, {"tanh", "softmax"}, 0.01, 3);
  constexpr std::size_t sizes[] = {1, 5, 8, 3};
  constexpr std::size_t max_b = 8;
  std::vector<std::vector<double>> x, expected;  // per input k and batch size index s: k * 4 + s
  for (int k = 0; k < kInputs; ++k) {
    x.push_back(inputs(max_b * 12, k));
    for (std::size_t b : sizes) {
      const ctnn::RuntimeNetwork<double> alone = net;  // a copy: its own graphs, one thread
      std::vector<double> o(b * 5);
      alone.forward(b, x.back().data(), o.data());
      expected.push_back(o);
    }
  }
  std::atomic<long> bad{0}, calls{0};
  std::atomic<int> ready{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t)
    pool.emplace_back([&, t] {
      std::vector<double> o(max_b * 5);
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      for (int it = 0; it < kIterations; ++it) {
        const int k = (t + it) % kInputs;
        const std::size_t s = static_cast<std::size_t>(t + it / 3) % 4;  // runs of 3 calls per size
        net.forward(sizes[s], x[k].data(), o.data());
        if (!same_bits(o.data(), expected[static_cast<std::size_t>(k) * 4 + s].data(), sizes[s] * 5))
          bad.fetch_add(1);
        calls.fetch_add(1);
      }
    });
  for (auto& th : pool) th.join();
  CHECK(calls.load() == long{kThreads} * kIterations);
  CHECK(bad.load() == 0);
}
