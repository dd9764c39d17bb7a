// ctnn/io/atomic_file.hpp: write a file so that a reader sees either the old file or the new one,
// never a torn mix, even if the writer is killed at any instruction: the bytes go to a temporary
// file in the same folder (".<name>.tmp-<pid>-<n>"), which is flushed and fsynced, then renamed
// over the target, then the folder is fsynced so the rename itself is durable. A writer killed
// before the rename leaves only a temporary, which is_temporary_file() recognises and
// remove_temporary_files() deletes; no reader should ever open one as data.
// Compiled in src/io/atomic_file.cpp (ctnn_io_dep). Layer: io.
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ctnn::io {

/// A file that cannot be written. what() is "<path>: cannot write (<step>: <strerror>)"; file() the
/// path. Not a DataError: nothing is wrong with the input, the destination refused.
class WriteError : public std::runtime_error {
 public:
  WriteError(const std::string& message, std::string file) : std::runtime_error(message), file_(std::move(file)) {}
  const std::string& file() const noexcept { return file_; }

 private:
  std::string file_;
};

/// Replaces `path` by `bytes` atomically and durably (temporary, write, fsync, rename, fsync the
/// folder). Throws WriteError naming the file and the failing step (with strerror) on any error; the
/// temporary is removed then and the previous file, if any, is untouched.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

/// Whether write_file_atomically(path, ...) can get past its first steps, checked before hours of work
/// end in a write: `path` is a file name (not a folder) and a temporary can be created (and is removed)
/// in its folder. Throws WriteError as write_file_atomically would; writes nothing else. A full disk or
/// a folder made read-only later can still fail the real write.
void check_writable(const std::filesystem::path& path);

/// True for the names write_file_atomically uses for its temporaries (".<name>.tmp-<pid>-<n>").
bool is_temporary_file(const std::filesystem::path& path);

/// Deletes the temporaries that killed writers left in `dir`; returns how many. Call it only when
/// no writer is running in that folder (e.g. at start-up, before resuming).
std::size_t remove_temporary_files(const std::filesystem::path& dir);

}  // namespace ctnn::io
