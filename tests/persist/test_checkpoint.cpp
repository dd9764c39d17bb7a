// Checkpoint files: round trip of every part (params, named buffers, step, schedule position,
// epoch, RNG), and the bad-file cases of docs/errors.md: every truncation and single-bit flips
// (every header bit, a rotating bit of every payload byte) are rejected whole (the header's length
// and the two CRC32s); topology/dtype/buffer mismatches name the place; the caller's spans are
// untouched after each rejection.
#include <doctest/doctest.h>

#include <zlib.h>

#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "ctnn/ctnn.hpp"
#include "ctnn/io/checkpoint.hpp"
#include "persist_check.hpp"

using namespace ctnn;
using persist::same_bits;

namespace {

using NetF = Network<float, Dense<3, 4>, ReLU, Dense<4, 2>>;

template <class T>
struct State {
  Network<T, Dense<3, 4>, ReLU, Dense<4, 2>> net;
  std::vector<T> velocity, second;
  std::mt19937_64 rng;
  explicit State(std::uint64_t seed)
      : net(seed, Init::xavier_normal), velocity(decltype(net)::num_params), second(5), rng(seed) {
    for (auto& v : velocity) v = T(rng() % 1000) / T(7);
    for (auto& v : second) v = T(rng() % 1000) / T(3);
    rng.discard(seed % 17);
  }
  std::vector<io::NamedBuffer<const T>> to_save() const {
    return {{"sgd.velocity", velocity}, {"adam.v", second}};
  }
  std::vector<io::NamedBuffer<T>> to_load() { return {{"sgd.velocity", velocity}, {"adam.v", second}}; }
  io::CheckpointMeta meta() const { return {123, 45, 6, rng}; }
};

template <class T>
void round_trip() {
  persist::TempDir dir("ckpt-rt");
  State<T> a(1), b(2);
  io::save_checkpoint(dir / "c.ckpt", a.net, a.to_save(), a.meta());
  const auto bufs = b.to_load();
  const io::CheckpointMeta m = io::load_checkpoint(dir / "c.ckpt", b.net, bufs);
  CHECK(same_bits<T>(a.net.params(), b.net.params()));
  CHECK(same_bits<T>(a.velocity, b.velocity));
  CHECK(same_bits<T>(a.second, b.second));
  CHECK(m.step == 123);
  CHECK(m.schedule_position == 45);
  CHECK(m.epoch == 6);
  REQUIRE(m.rng.has_value());
  CHECK(*m.rng == a.rng);  // the whole engine state, so the next draws agree
  std::mt19937_64 r = *m.rng;
  CHECK(r() == a.rng());
}

// Runs load and returns its DataError message; the spans of `s` must be bit for bit unchanged.
std::string rejected(State<float>& s, const std::string& file) {
  const std::vector<float> p(s.net.params().begin(), s.net.params().end()), v = s.velocity, w = s.second;
  std::string message = "(nothing thrown)";
  try {
    const auto bufs = s.to_load();
    io::load_checkpoint(file, s.net, bufs);
  } catch (const io::DataError& e) {
    message = e.what();
  }
  CHECK(same_bits<float>(p, s.net.params()));
  CHECK(same_bits<float>(v, s.velocity));
  CHECK(same_bits<float>(w, s.second));
  return message;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

std::uint32_t crc(const char* p, std::size_t n) {
  return static_cast<std::uint32_t>(crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(p), static_cast<uInt>(n)));
}

// A checkpoint whose payload was edited by `edit` and whose length and checksums were then made
// right again: what a buggy writer (not a torn write) would produce.
template <class Edit>
std::string resealed(const std::string& file, Edit&& edit, std::uint32_t version = 1) {
  auto payload = nlohmann::json::from_cbor(file.substr(32));
  edit(payload);
  const std::vector<std::uint8_t> cbor = nlohmann::json::to_cbor(payload);
  std::string out = file.substr(0, 32) + std::string(cbor.begin(), cbor.end());
  const std::uint64_t len = cbor.size();
  std::memcpy(out.data() + 8, &version, 4);
  std::memcpy(out.data() + 16, &len, 8);
  const std::uint32_t c = crc(out.data() + 32, cbor.size());
  std::memcpy(out.data() + 24, &c, 4);
  const std::uint32_t h = crc(out.data(), 28);
  std::memcpy(out.data() + 28, &h, 4);
  return out;
}

}  // namespace

TEST_CASE("checkpoint round-trips params, buffers, counters and RNG bit for bit (float and double)") {
  round_trip<float>();
  round_trip<double>();
}

TEST_CASE("a checkpoint without RNG state loads with meta.rng empty") {
  persist::TempDir dir("ckpt-norng");
  State<float> a(1), b(2);
  io::save_checkpoint(dir / "c.ckpt", a.net, a.to_save(), io::CheckpointMeta{1, 2, 3, std::nullopt});
  const auto bufs = b.to_load();
  CHECK(!io::load_checkpoint(dir / "c.ckpt", b.net, bufs).rng.has_value());
  const auto d = io::read_checkpoint<float>(dir / "c.ckpt");
  CHECK(d.topology == "float32 Dense(3,4) relu Dense(4,2)");
  CHECK(d.buffers.size() == 2);
}

TEST_CASE("named values round-trip bit for bit; a non-finite one is refused; files without have none") {
  persist::TempDir dir("ckpt-values");
  State<double> a(1), b(2);
  auto meta = a.meta();
  meta.values = {{"early_stopping.best_loss", 0.1 + 0.2}, {"early_stopping.best_epoch", 17}, {"tiny", 5e-324}};
  io::save_checkpoint(dir / "v.ckpt", a.net, a.to_save(), meta);
  const auto bufs = b.to_load();
  const auto got = io::load_checkpoint(dir / "v.ckpt", b.net, bufs);
  CHECK(got.values == meta.values);  // exact: 0.30000000000000004, a subnormal
  io::save_checkpoint(dir / "plain.ckpt", a.net, a.to_save(), a.meta());
  CHECK(io::load_checkpoint(dir / "plain.ckpt", b.net, bufs).values.empty());
  meta.values["bad"] = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH_AS(io::save_checkpoint(dir / "v.ckpt", a.net, a.to_save(), meta),
                       doctest::Contains("v.ckpt: cannot save: value \"bad\" is not finite"), io::DataError);
  CHECK(io::load_checkpoint(dir / "v.ckpt", b.net, bufs).values.size() == 3);  // the previous file is kept
}

TEST_CASE("every truncation and every single-bit flip of a checkpoint is rejected whole") {
  persist::TempDir dir("ckpt-flip", true);  // 20000 small files: in memory when /dev/shm exists
  State<float> a(1), s(2);
  const std::string good = dir / "good.ckpt", p = dir / "bad.ckpt";
  io::save_checkpoint(good, a.net, a.to_save(), a.meta());
  const std::string bytes = persist::read_bytes(good);
  REQUIRE(bytes.size() > 100);
  const auto known = [&](const std::string& m) {
    return starts_with(m, p + ": truncated") || starts_with(m, p + ": bad magic") ||
           starts_with(m, p + ": header checksum mismatch") || starts_with(m, p + ": payload checksum mismatch") ||
           starts_with(m, p + ": unsupported checkpoint version") ||
           (starts_with(m, p + ": ") && m.find("unexpected bytes after the payload") != std::string::npos);
  };
  std::size_t cases = 0, failures = 0;
  for (std::size_t n = 0; n < bytes.size(); ++n) {  // every proper prefix
    persist::write_bytes(p, bytes.substr(0, n));
    const std::string m = rejected(s, p);
    ++cases;
    if (!known(m)) {
      ++failures;
      MESSAGE("truncated to " << n << " bytes: " << m);
    }
  }
  for (std::size_t i = 0; i < bytes.size(); ++i)  // every bit of the header, one bit (rotating) of each payload byte
    for (int bit = i < 32 ? 0 : int(i % 8); bit < (i < 32 ? 8 : int(i % 8) + 1); ++bit) {
      std::string b = bytes;
      b[i] = static_cast<char>(b[i] ^ (1 << bit));
      persist::write_bytes(p, b);
      const std::string m = rejected(s, p);
      ++cases;
      if (!known(m)) {
        ++failures;
        MESSAGE("bit " << bit << " of byte " << i << " flipped: " << m);
      }
    }
  MESSAGE(cases << " damaged files (" << bytes.size() << "-byte checkpoint), all rejected");
  CHECK(failures == 0);
}

TEST_CASE("bad checkpoints: the messages of docs/errors.md") {
  persist::TempDir dir("ckpt-bad");
  State<float> a(1), s(2);
  const std::string good = dir / "good.ckpt", p = dir / "bad.ckpt";
  io::save_checkpoint(good, a.net, a.to_save(), a.meta());
  const std::string bytes = persist::read_bytes(good);
  const std::size_t payload = bytes.size() - 32;

  SUBCASE("missing file") { CHECK(rejected(s, p) == p + ": cannot open file (No such file or directory)"); }
  SUBCASE("truncated in the header") {
    persist::write_bytes(p, bytes.substr(0, 20));
    CHECK(rejected(s, p) == p + ": truncated header: 20 bytes, a checkpoint header has 32");
  }
  SUBCASE("truncated in the payload (a torn write)") {
    persist::write_bytes(p, bytes.substr(0, 100));
    CHECK(rejected(s, p) ==
          p + ": truncated: the header promises " + std::to_string(payload) + " payload bytes, the file has 68");
  }
  SUBCASE("bytes appended") {
    persist::write_bytes(p, bytes + "\n");
    CHECK(rejected(s, p) == p + ": 1 unexpected bytes after the payload");
  }
  SUBCASE("not a checkpoint") {
    persist::write_bytes(p, std::string(64, 'x'));
    CHECK(rejected(s, p) == p + ": bad magic: not a ctnn checkpoint (it must start with \"CTNNCKPT\")");
  }
  SUBCASE("bit flipped in the header") {
    std::string b = bytes;
    b[17] ^= 0x04;
    persist::write_bytes(p, b);
    CHECK(rejected(s, p) == p + ": header checksum mismatch (the header is corrupt)");
  }
  SUBCASE("bit flipped in the payload") {
    std::string b = bytes;
    b[bytes.size() / 2] ^= 0x10;
    persist::write_bytes(p, b);
    const std::string m = rejected(s, p);
    CHECK(starts_with(m, p + ": payload checksum mismatch: stored 0x"));
    CHECK(m.find(", computed 0x") != std::string::npos);
    CHECK(m.find(" (the file is corrupt)") == m.size() - 22);
  }
  SUBCASE("resealed without a change loads (the reseal helper is right)") {
    persist::write_bytes(p, resealed(bytes, [](nlohmann::json&) {}));
    const auto bufs = s.to_load();
    CHECK_NOTHROW(io::load_checkpoint(p, s.net, bufs));
    CHECK(same_bits<float>(s.net.params(), a.net.params()));
  }
  SUBCASE("another version") {
    persist::write_bytes(p, resealed(bytes, [](nlohmann::json&) {}, 2));
    CHECK(rejected(s, p) == p + ": unsupported checkpoint version 2 (this build reads version 1)");
  }
  SUBCASE("RNG state unreadable") {
    persist::write_bytes(p, resealed(bytes, [](nlohmann::json& j) { j["rng"] = "12 34 x"; }));
    CHECK(rejected(s, p) == p + ": /rng: not a valid std::mt19937_64 state");
  }
  SUBCASE("RNG of the wrong type") {
    persist::write_bytes(p, resealed(bytes, [](nlohmann::json& j) { j["rng"] = 5; }));
    CHECK(rejected(s, p) == p + ": /rng: expected a string or null, found number");
  }
  SUBCASE("values of the wrong type") {
    persist::write_bytes(p, resealed(bytes, [](nlohmann::json& j) { j["values"] = {{"best", "x"}}; }));
    CHECK(rejected(s, p) == p + ": /values/best: expected a float, found string");
    persist::write_bytes(p, resealed(bytes, [](nlohmann::json& j) { j["values"] = 3; }));
    CHECK(rejected(s, p) == p + ": /values: expected a map, found number");
  }
  SUBCASE("step counter missing") {
    persist::write_bytes(p, resealed(bytes, [](nlohmann::json& j) { j.erase("step"); }));
    CHECK(rejected(s, p) == p + ": /step: missing key");
  }
  SUBCASE("epoch negative") {
    persist::write_bytes(p, resealed(bytes, [](nlohmann::json& j) { j["epoch"] = -1; }));
    CHECK(rejected(s, p) == p + ": /epoch: expected a non-negative integer, found number");
  }
  SUBCASE("params not a whole number of values") {
    persist::write_bytes(p, resealed(bytes, [](nlohmann::json& j) {
      j["params"] = nlohmann::json::binary(std::vector<std::uint8_t>(6, 0));
    }));
    CHECK(rejected(s, p) == p + ": /params: 6 bytes is not a whole number of float32 values");
  }
  SUBCASE("NaN in a buffer") {
    persist::write_bytes(p, resealed(bytes, [](nlohmann::json& j) {
      const float nan = std::numeric_limits<float>::quiet_NaN();
      auto& b = j["buffers"]["adam.v"].get_binary();
      std::memcpy(b.data() + 2 * sizeof(float), &nan, sizeof nan);
    }));
    CHECK(rejected(s, p) == p + ": /buffers/adam.v/2: non-finite value nan");
  }
  SUBCASE("another topology") {
    Network<float, Dense<3, 4>, Tanh, Dense<4, 2>> other(3);
    io::save_checkpoint(p, other, a.to_save(), a.meta());
    CHECK(rejected(s, p) ==
          p + ": /topology: expected \"float32 Dense(3,4) relu Dense(4,2)\", found \"float32 Dense(3,4) tanh Dense(4,2)\"");
  }
  SUBCASE("a double checkpoint") {
    State<double> d(3);
    io::save_checkpoint(p, d.net, d.to_save(), d.meta());
    CHECK(rejected(s, p) == p + ": /dtype: the checkpoint holds float64 values, expected float32");
  }
  SUBCASE("an expected buffer is missing") {
    const std::vector<io::NamedBuffer<const float>> only{{"sgd.velocity", a.velocity}};
    io::save_checkpoint(p, a.net, only, a.meta());
    CHECK(rejected(s, p) == p + ": /buffers: expected a buffer \"adam.v\", the file has none");
  }
  SUBCASE("an unexpected buffer") {
    auto more = a.to_save();
    more.push_back({"adam.m", a.second});
    io::save_checkpoint(p, a.net, more, a.meta());
    CHECK(rejected(s, p) == p + ": /buffers/adam.m: the file holds a buffer \"adam.m\" that nothing expects");
  }
  SUBCASE("a buffer of another size") {
    const std::vector<io::NamedBuffer<const float>> shorter{{"sgd.velocity", a.velocity},
                                                            {"adam.v", std::span(a.second).first(4)}};
    io::save_checkpoint(p, a.net, shorter, a.meta());
    CHECK(rejected(s, p) == p + ": /buffers/adam.v: expected 5 values, found 4");
  }
  SUBCASE("saving NaN is refused and leaves the previous checkpoint") {
    persist::write_bytes(p, bytes);
    State<float> n(4);
    n.velocity[7] = std::numeric_limits<float>::quiet_NaN();
    std::string m;
    try {
      io::save_checkpoint(p, n.net, n.to_save(), n.meta());
    } catch (const io::DataError& e) {
      m = e.what();
    }
    CHECK(m == p + ": /buffers/sgd.velocity/7: cannot save a non-finite value nan");
    CHECK(persist::read_bytes(p) == bytes);
  }
}
