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
#include <string_view>

namespace ctnn::io {

/// Replaces `path` by `bytes` atomically and durably (temporary, write, fsync, rename, fsync the
/// folder). Throws DataError naming the file and the failing step (with strerror) on any error; the
/// temporary is removed then and the previous file, if any, is untouched.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

/// True for the names write_file_atomically uses for its temporaries (".<name>.tmp-<pid>-<n>").
bool is_temporary_file(const std::filesystem::path& path);

/// Deletes the temporaries that killed writers left in `dir`; returns how many. Call it only when
/// no writer is running in that folder (e.g. at start-up, before resuming).
std::size_t remove_temporary_files(const std::filesystem::path& dir);

}  // namespace ctnn::io
