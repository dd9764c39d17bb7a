// tests/fuzz/fuzz_input.hpp: what every fuzz target shares. The loaders read files, so each input
// is written to a per-process scratch file first; a loader may only answer with DataError (or, for
// the runtime-network description, std::invalid_argument). Anything else escapes
// LLVMFuzzerTestOneInput and counts as a crash (libFuzzer aborts on an uncaught exception), as do
// ASan/UBSan reports. Layer: tests (fuzz harness).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace ctnn_fuzz {

// A scratch folder of this process (under $TMPDIR, removed at exit). The exit handler is registered
// once `dir` is constructed, so that it runs before `dir` is destroyed (exit runs handlers and
// static destructors in the reverse order of their registration); registered inside dir's
// initialiser, it ran after, on a destroyed path, and every process left its folder behind.
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("ctnn-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  [[maybe_unused]] static const int cleanup = std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  });
  return dir;
}

// Writes bytes to scratch()/name and returns the path.
inline std::string write_scratch(const std::string& name, std::string_view bytes) {
  const std::string path = (scratch() / name).string();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) std::abort();
  std::fclose(f);
  return path;
}

// The whole content of a file ("" if it cannot be read).
inline std::string read_all(const std::string& path) {
  std::string s;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return s;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
  std::fclose(f);
  return s;
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace ctnn_fuzz
