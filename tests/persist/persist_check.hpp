// tests/persist: helpers shared by the weight-file and checkpoint tests: a scratch folder, raw file
// access, and the check every bad-file case makes (exact message, parameters untouched).
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "ctnn/io/dataset.hpp"

namespace persist {

namespace fs = std::filesystem;

// A fresh folder under the system temp dir (or /dev/shm when `in_memory` and it exists), removed at
// the end of the test.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name, bool in_memory = false) {
    std::error_code ec;
    const fs::path base = in_memory && fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
    path = base / ("ctnn-persist-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline std::string read_bytes(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline void write_bytes(const std::string& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  REQUIRE(out);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <class T>
bool same_bits(std::span<const T> a, std::span<const T> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
}

// Runs load(), which must throw DataError with exactly `expected` as message, and checks that the
// parameters are bit for bit what they were before.
template <class T, class Load>
void check_rejected(std::span<const T> params, Load&& load, const std::string& expected) {
  const std::vector<T> before(params.begin(), params.end());
  std::string message = "(nothing thrown)";
  try {
    load();
  } catch (const ctnn::io::DataError& e) {
    message = e.what();
  }
  CHECK(message == expected);
  CHECK(same_bits<T>(before, params));
}

}  // namespace persist
