// Resuming from a checkpoint gives bit-identical training: a small mini-batch SGD+momentum loop
// (lr schedule, batches drawn from a std::mt19937_64, momentum held in a vector as an optimiser's
// state) runs 40 steps straight; a second run stops at step 17, writes a checkpoint, and a fresh
// process-like state (other init, other seed, zero momentum) loads it and runs to 40. Parameters,
// momentum and counters must agree bit for bit. Two controls show the comparison can fail: resuming
// without the RNG or without the momentum gives other weights.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "ctnn/ctnn.hpp"
#include "ctnn/io/checkpoint.hpp"
#include "persist_check.hpp"

using namespace ctnn;
using persist::same_bits;

namespace {

constexpr std::size_t N = 64, B = 8, total_steps = 40, stop_at = 17;

template <class T>
struct Run {
  using Net = Network<T, Dense<4, 8>, Tanh, Dense<8, 3>>;
  Net net;
  std::vector<T> velocity = std::vector<T>(Net::num_params, T(0));
  std::mt19937_64 rng;
  std::uint64_t step = 0, schedule = 0, epoch = 0;
  std::vector<T> x = std::vector<T>(N * 4), y = std::vector<T>(N * 3, T(0));
  std::vector<T> xb = std::vector<T>(B * 4), yb = std::vector<T>(B * 3);

  Run(std::uint64_t init_seed, std::uint64_t rng_seed) : net(init_seed, Init::xavier_normal), rng(rng_seed) {
    std::mt19937_64 data(99);  // the same data set in every run
    for (std::size_t n = 0; n < N; ++n) {
      T s = 0;
      for (std::size_t j = 0; j < 4; ++j) {
        x[n * 4 + j] = T(int(data() % 2001) - 1000) / T(500);
        s += x[n * 4 + j] * T(j + 1);
      }
      y[n * 3 + (s < T(-1) ? 0 : s < T(1) ? 1 : 2)] = T(1);
    }
  }

  void train_step() {
    for (std::size_t k = 0; k < B; ++k) {  // draw the batch; a little input noise from the same RNG
      const std::size_t n = rng() % N;
      for (std::size_t j = 0; j < 4; ++j) xb[k * 4 + j] = x[n * 4 + j] + T(int(rng() % 101) - 50) / T(1000);
      for (std::size_t j = 0; j < 3; ++j) yb[k * 3 + j] = y[n * 3 + j];
    }
    net.template gradient<B>(loss::softmax_cross_entropy, xb.data(), yb.data());
    const T lr = T(0.2) * std::pow(T(0.98), T(schedule)), mu = T(0.9);
    const auto g = net.grads();
    auto p = net.params();
    for (std::size_t i = 0; i < p.size(); ++i) {
      velocity[i] = mu * velocity[i] + g[i];
      p[i] -= lr * velocity[i];
    }
    ++step;
    ++schedule;
    if (step % (N / B) == 0) ++epoch;
  }

  void save(const std::string& file) const {
    const std::vector<io::NamedBuffer<const T>> bufs{{"sgd.velocity", velocity}};
    io::save_checkpoint(file, net, bufs, io::CheckpointMeta{step, schedule, epoch, rng});
  }
  void load(const std::string& file, bool with_rng = true, bool with_velocity = true) {
    std::vector<T> v(velocity.size());
    const std::vector<io::NamedBuffer<T>> bufs{{"sgd.velocity", v}};
    const io::CheckpointMeta m = io::load_checkpoint(file, net, bufs);
    if (with_velocity) velocity = v;
    step = m.step;
    schedule = m.schedule_position;
    epoch = m.epoch;
    REQUIRE(m.rng.has_value());
    if (with_rng) rng = *m.rng;
  }
};

template <class T>
void resume_is_bit_identical() {
  persist::TempDir dir("resume");
  const std::string file = dir / "run.ckpt";
  Run<T> straight(1, 2024);
  for (std::size_t s = 0; s < total_steps; ++s) straight.train_step();

  {
    Run<T> first(1, 2024);
    for (std::size_t s = 0; s < stop_at; ++s) first.train_step();
    first.save(file);
  }  // the first run ends here ("the process dies")

  Run<T> resumed(7, 31337);  // other init, other RNG seed, zero momentum: all must come from the file
  resumed.load(file);
  CHECK(resumed.step == stop_at);
  while (resumed.step < total_steps) resumed.train_step();
  CHECK(same_bits<T>(straight.net.params(), resumed.net.params()));
  CHECK(same_bits<T>(straight.velocity, resumed.velocity));
  CHECK(straight.rng == resumed.rng);
  CHECK(straight.epoch == resumed.epoch);
  CHECK(straight.schedule == resumed.schedule);
  CHECK(straight.epoch == total_steps / (N / B));

  // Controls: the comparison above can fail.
  Run<T> no_rng(7, 31337), no_velocity(7, 31337);
  no_rng.load(file, false, true);
  no_velocity.load(file, true, false);
  while (no_rng.step < total_steps) no_rng.train_step();
  while (no_velocity.step < total_steps) no_velocity.train_step();
  CHECK(!same_bits<T>(straight.net.params(), no_rng.net.params()));
  CHECK(!same_bits<T>(straight.net.params(), no_velocity.net.params()));
}

}  // namespace

TEST_CASE("resuming from a checkpoint trains bit-identically to an uninterrupted run (float)") {
  resume_is_bit_identical<float>();
}
TEST_CASE("resuming from a checkpoint trains bit-identically to an uninterrupted run (double)") {
  resume_is_bit_identical<double>();
}
