// tests/support/temp_dir.hpp: a fresh scratch folder for a test, removed with everything in it when
// the object goes away.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace ctnn::test {

/// <temp>/ctnn-test-<name>-<pid> (under /dev/shm instead when `in_memory` and it exists), emptied
/// if a killed run left it behind, removed at destruction.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name, bool in_memory = false) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path base = in_memory && fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
    path = base / ("ctnn-test-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  /// The path of `name` inside the folder.
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

}  // namespace ctnn::test
