// Atomic checkpoint writes under SIGKILL: a forked writer process saves checkpoints in a loop
// (1.6 MB each, two file names in turn, so most saves replace an existing file); the test kills it
// with SIGKILL after a random delay, 100 times. After each kill every file in the folder is either
// a temporary (recognised by is_temporary_file, never read as data) or a checkpoint that loads and
// whose contents are one consistent save (every value matches the pattern of its step).
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "ctnn/io/atomic_file.hpp"
#include "ctnn/io/checkpoint.hpp"
#include "persist_check.hpp"

using namespace ctnn;

namespace {

constexpr std::size_t n_params = 200'000, n_state = 200'000;
constexpr const char* topology = "float32 sigkill-test";

float param_value(std::uint64_t step, std::size_t i) { return float((step + i) % 4096); }
float state_value(std::uint64_t step, std::size_t i) { return float((3 * step + i) % 4093) * 0.5f; }

[[noreturn]] void writer(const persist::TempDir& dir, std::uint64_t first_step) {
  try {
    std::vector<float> p(n_params), s(n_state);
    std::mt19937_64 rng(first_step);
    for (std::uint64_t step = first_step;; ++step) {
      for (std::size_t i = 0; i < n_params; ++i) p[i] = param_value(step, i);
      for (std::size_t i = 0; i < n_state; ++i) s[i] = state_value(step, i);
      rng();
      const std::vector<io::NamedBuffer<const float>> bufs{{"state", s}};
      io::save_checkpoint<float>(dir / ("ckpt-" + std::to_string(step % 2) + ".ctnn"), topology, p, bufs,
                                 io::CheckpointMeta{step, step, step / 10, rng});
    }
  } catch (...) {
  }
  ::_exit(1);
}

}  // namespace

TEST_CASE("SIGKILL during checkpoint writes: 100 kills, every surviving checkpoint loads") {
  persist::TempDir dir("sigkill");
  std::mt19937_64 delays(12345);
  std::size_t kills = 0, mid_write = 0, loaded = 0, writer_failed = 0;
  std::vector<float> p(n_params), s(n_state);
  // Kill delays span a few save times, measured here (a fixed range can end before the first save
  // completes on a loaded machine, and the test must see kills both inside and between writes).
  std::chrono::microseconds save_time{0};
  {
    persist::TempDir probe("sigkill-probe");
    const std::vector<io::NamedBuffer<const float>> bufs{{"state", s}};
    for (int i = 0; i < 3; ++i) {
      const auto a = std::chrono::steady_clock::now();
      io::save_checkpoint<float>(probe / "probe.ctnn", topology, p, bufs, io::CheckpointMeta{0, 0, 0, std::nullopt});
      save_time = std::max(save_time, std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::steady_clock::now() - a));
    }
  }
  const std::uint64_t max_delay_us = std::max<std::uint64_t>(40'000, 4 * std::uint64_t(save_time.count()));
  const auto t0 = std::chrono::steady_clock::now();
  for (int round = 0; round < 100; ++round) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) writer(dir, std::uint64_t(round) * 1'000'000);
    std::this_thread::sleep_for(std::chrono::microseconds(delays() % max_delay_us));
    REQUIRE(::kill(pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) ++writer_failed;
    ++kills;

    bool temp_seen = false;
    for (const auto& e : std::filesystem::directory_iterator(dir.path)) {
      const std::string name = e.path().filename().string();
      if (io::is_temporary_file(e.path())) {
        temp_seen = true;
        CHECK(name.rfind(".ckpt-", 0) == 0);
        continue;
      }
      CHECK((name == "ckpt-0.ctnn" || name == "ckpt-1.ctnn"));
      std::string error;
      try {
        const std::vector<io::NamedBuffer<float>> bufs{{"state", s}};
        const io::CheckpointMeta m = io::load_checkpoint<float>(e.path().string(), topology, p, bufs);
        bool consistent = m.schedule_position == m.step && m.epoch == m.step / 10 && m.rng.has_value() &&
                          name == "ckpt-" + std::to_string(m.step % 2) + ".ctnn";
        for (std::size_t i = 0; i < n_params && consistent; ++i) consistent = p[i] == param_value(m.step, i);
        for (std::size_t i = 0; i < n_state && consistent; ++i) consistent = s[i] == state_value(m.step, i);
        CHECK(consistent);
        ++loaded;
      } catch (const io::DataError& ex) {
        error = ex.what();
      }
      CHECK(error == "");
    }
    if (temp_seen) ++mid_write;
    io::remove_temporary_files(dir.path);  // what a restarted trainer does before resuming
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE(kills << " kills, " << mid_write << " during a write (a temporary was left), " << loaded
                << " checkpoint files loaded and verified, " << secs << " s (one save: "
                << save_time.count() << " us)");
  CHECK(kills == 100);
  CHECK(writer_failed == 0);
  CHECK(loaded > 0);
  CHECK(mid_write > 0);  // the kills did land inside writes
}
