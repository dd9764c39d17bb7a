// No allocation in a pass: after one warm-up call, forward() and gradient() never call operator
// new. Every global operator new/delete is replaced by a counting version (counting_new.hpp);
// only the calls under test are counted, and nothing inside a counted region uses doctest (its
// macros allocate): results go into locals, checked afterwards.
// The big net (784-128-10, batch 64) has a workspace above ctnn::stack_workspace_limit, so it runs
// in the per-thread buffer: on a new thread its first gradient() allocates that buffer (once),
// later calls nothing.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <new>
#include <thread>

#include "counting_new.hpp"
#include "ctnn/ctnn.hpp"

// ---- helpers -----------------------------------------------------------------------------------
namespace {

using ctnn::AlignedBuffer;
using ctnn::test::allocations_in;

/// Deterministic inputs in [-1, 1] and one-hot targets (or values in (0, 1) for one output).
template <class Net, std::size_t B>
struct Batch {
  AlignedBuffer<float> x{B * Net::inputs}, y{B * Net::outputs}, out{B * Net::outputs};
  Batch() {
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float((i * 37) % 101) / 50.0f - 1.0f;
    for (std::size_t r = 0; r < B; ++r) {
      if constexpr (Net::outputs == 1) y[r] = float(r % 3) / 3.0f + 0.1f;
      else y[r * Net::outputs + r % Net::outputs] = 1.0f;
    }
  }
};

struct Counts {
  long forward = -1, gradient = -1;
  bool finite = false;
};

/// One warm-up call of each, then `calls` counted calls of forward and of gradient.
template <std::size_t B, class Net, class Loss>
Counts count_passes(Net& net, const Loss& loss, Batch<Net, B>& data, int calls) {
  float acc = net.template gradient<B>(loss, data.x.data(), data.y.data());
  net.template forward<B>(data.x.data(), data.out.data());
  Counts c;
  c.forward = allocations_in([&] {
    for (int i = 0; i < calls; ++i) net.template forward<B>(data.x.data(), data.out.data());
  });
  c.gradient = allocations_in([&] {
    for (int i = 0; i < calls; ++i) acc += net.template gradient<B>(loss, data.x.data(), data.y.data());
  });
  c.finite = std::isfinite(acc) && std::isfinite(data.out[0]);
  return c;
}

using Tiny = ctnn::Sequential<ctnn::Dense<4, 5>, ctnn::Sigmoid, ctnn::Dense<5, 1>, ctnn::Sigmoid>;
using Medium = ctnn::Sequential<ctnn::Dense<64, 32>, ctnn::ReLU, ctnn::Dense<32, 10>>;
using Big = ctnn::Sequential<ctnn::Dense<784, 128>, ctnn::ReLU, ctnn::Dense<128, 10>>;
constexpr std::size_t tiny_batch = 8, medium_batch = 16, big_batch = 64;
// The big net's workspace (64 x 128 floats per hidden slot alone: 32 KiB) is far above
// ctnn::stack_workspace_limit (16 KiB), so its passes use the per-thread buffer.
static_assert(big_batch * 128 * sizeof(float) > ctnn::stack_workspace_limit);


}  // namespace

TEST_CASE("counting operator new sees allocations (self-test)") {
  int* p = nullptr;
  double* q = nullptr;
  char* r = nullptr;
  const long n = allocations_in([&] {
    p = new int(3);
    q = new (std::align_val_t{64}) double[4];
    r = new (std::nothrow) char[10];
  });
  const bool aligned = reinterpret_cast<std::uintptr_t>(q) % 64 == 0;
  delete p;
  ::operator delete[](q, std::align_val_t{64});
  delete[] r;
  CHECK(n == 3);
  CHECK(aligned);
}

TEST_CASE("tiny net 4-5-1 (sigmoid, MSE): no allocation in forward or gradient") {
  Tiny net(1);
  Batch<Tiny, tiny_batch> data;
  const Counts c = count_passes<tiny_batch>(net, ctnn::loss::mse_half_sum, data, 1000);
  CHECK(c.forward == 0);
  CHECK(c.gradient == 0);
  CHECK(c.finite);
}

TEST_CASE("64-32-10 ReLU net (softmax cross-entropy from logits): no allocation") {
  Medium net(2);
  Batch<Medium, medium_batch> data;
  const Counts c = count_passes<medium_batch>(net, ctnn::loss::softmax_cross_entropy, data, 1000);
  CHECK(c.forward == 0);
  CHECK(c.gradient == 0);
  CHECK(c.finite);
}

TEST_CASE("784-128-10, batch 64 (per-thread workspace): no allocation after the first call") {
  Big net(3);
  Batch<Big, big_batch> data;  // input and target buffers allocated before counting
  const Counts c = count_passes<big_batch>(net, ctnn::loss::softmax_cross_entropy, data, 100);
  CHECK(c.forward == 0);
  CHECK(c.gradient == 0);
  CHECK(c.finite);
}

TEST_CASE("784-128-10 on a new thread: the first gradient allocates at most once, later calls never") {
  Big net(4);
  Batch<Big, big_batch> data;
  long first = -1, later = -1;
  float acc = 0.0f;
  std::thread worker([&] {
    first = allocations_in(
        [&] { acc += net.gradient<big_batch>(ctnn::loss::softmax_cross_entropy, data.x.data(), data.y.data()); });
    later = allocations_in([&] {
      for (int i = 0; i < 20; ++i)
        acc += net.gradient<big_batch>(ctnn::loss::softmax_cross_entropy, data.x.data(), data.y.data());
    });
  });
  worker.join();
  INFO("allocations in the first gradient call on the new thread: " << first);
  WARN_MESSAGE(first == 1, "the per-thread workspace was not allocated: is the big net's workspace on the stack?");
  CHECK(first >= 0);
  CHECK(first <= 1);
  CHECK(later == 0);
  CHECK(std::isfinite(acc));
}
