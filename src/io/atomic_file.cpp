// Atomic, durable file replacement over POSIX (open/write/fsync/rename/fsync of the folder).
#include "ctnn/io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>


namespace ctnn::io {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view tmp_marker = ".tmp-";

[[noreturn]] void fail(const fs::path& path, const char* step, int err) {
  throw WriteError(path.string() + ": cannot write (" + step + ": " + std::strerror(err) + ")", path.string());
}

// Closes the descriptor and removes the temporary unless released (rename done). Move-only: one owner.
struct TempFile {
  fs::path path;
  int fd = -1;
  bool keep = false;
  TempFile() = default;
  TempFile(TempFile&& o) noexcept : path(std::move(o.path)), fd(o.fd), keep(o.keep) {
    o.fd = -1;
    o.keep = true;
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!keep) ::unlink(path.c_str());
  }
};

// Creates the temporary write_file_atomically writes first (".<name>.tmp-<pid>-<n>" in path's folder).
TempFile create_temporary(const fs::path& path) {
  static std::atomic<unsigned long> counter{0};
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const std::string name = path.filename().string();
  if (name.empty() || name == "." || name == "..") fail(path, "not a file name", EINVAL);
  std::error_code ec;
  if (fs::is_directory(path, ec)) fail(path, "the path is a folder", EISDIR);
  TempFile tmp;
  tmp.path = dir / ("." + name + std::string(tmp_marker) + std::to_string(::getpid()) + "-" +
                    std::to_string(counter.fetch_add(1)));
  tmp.fd = ::open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (tmp.fd < 0) {
    tmp.keep = true;  // nothing was created
    fail(path, "create temporary file", errno);
  }
  return tmp;
}

}  // namespace

void check_writable(const fs::path& path) { create_temporary(path); }  // closed and removed at once

void write_file_atomically(const fs::path& path, std::string_view bytes) {
  TempFile tmp = create_temporary(path);
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(tmp.fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(path, "write", errno);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(tmp.fd) != 0) fail(path, "fsync", errno);
  const int fd = tmp.fd;
  tmp.fd = -1;
  if (::close(fd) != 0) fail(path, "close", errno);
  if (::rename(tmp.path.c_str(), path.c_str()) != 0) fail(path, "rename", errno);
  tmp.keep = true;
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail(path, "open folder for fsync", errno);
  const int rc = ::fsync(dfd), err = errno;
  ::close(dfd);
  if (rc != 0) fail(path, "fsync folder", err);
}

bool is_temporary_file(const fs::path& path) {
  const std::string name = path.filename().string();
  return name.size() > 1 && name[0] == '.' && name.find(tmp_marker) != std::string::npos;
}

std::size_t remove_temporary_files(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file(ec) && is_temporary_file(e.path()) && fs::remove(e.path(), ec)) ++n;
  return n;
}

}  // namespace ctnn::io
