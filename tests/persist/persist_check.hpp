// tests/persist: helpers shared by the weight-file and checkpoint tests: a scratch folder, raw file
// access, and the check every bad-file case makes (exact message, parameters untouched).
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "ctnn/io/dataset.hpp"
#include "ctnn/nn/init.hpp"
#include "temp_dir.hpp"

namespace persist {

namespace fs = std::filesystem;

using ctnn::test::TempDir;  // a scratch folder per test (tests/support/temp_dir.hpp)

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

// Values a careless printer or reader would not round-trip: 0.1, -0, the smallest denormal, the
// largest and lowest finite values, the smallest normal, 1/3, the float after 1.
template <class T>
void put_awkward_values(std::span<T> p) {
  const T v[] = {T(0.1), T(-0.0), std::numeric_limits<T>::denorm_min(), std::numeric_limits<T>::max(),
                 std::numeric_limits<T>::lowest(), std::numeric_limits<T>::min(), T(1) / T(3), std::nextafter(T(1), T(2))};
  for (std::size_t i = 0; i < std::size(v) && i < p.size(); ++i) p[i] = v[i];
}

// save(net, path) then load(other, path) gives other the same bits (awkward values included).
template <class Net, class Save, class Load>
void check_round_trip(const std::string& path, Save&& save, Load&& load) {
  using T = typename Net::scalar;
  Net a(11, ctnn::Init::xavier_normal), b(12, ctnn::Init::xavier_normal);
  put_awkward_values(a.params());
  save(a, path);
  REQUIRE(!same_bits<T>(a.params(), b.params()));
  load(b, path);
  CHECK(same_bits<T>(a.params(), b.params()));
  CHECK(std::signbit(b.params()[1]));  // -0.0 kept
}

// A float network's file loads exactly (widened) into the double network of the same topology.
template <class NetF, class Save, class Load>
void check_widening(const std::string& path, Save&& save, Load&& load) {
  NetF f(5, ctnn::Init::xavier_normal);
  typename NetF::template rebind<double> d(6);
  save(f, path);
  load(d, path);
  for (std::size_t i = 0; i < NetF::num_params; ++i) CHECK(d.params()[i] == double(f.params()[i]));
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
