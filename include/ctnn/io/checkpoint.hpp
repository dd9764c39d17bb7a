// ctnn/io/checkpoint.hpp: a training checkpoint: the parameters, any number of named optimiser-
// state buffers (an optimiser's state() span, a momentum vector, ...), the step counter, the
// schedule position, the epoch, a std::mt19937_64's state and any named scalars (doubles, e.g.
// an early-stopping record's best epoch and loss). Generic: it takes spans and names,
// so it needs no optimiser or trainer type.
// File: a 32-byte header (magic "CTNNCKPT", version, payload length, CRC32 of the payload, CRC32 of
// the header) and a CBOR payload (nlohmann-json) holding the buffers as raw little-endian bytes, so
// values round-trip bit for bit. Written atomically (io/atomic_file.hpp): a reader sees the old
// checkpoint or the new one. Loading checks the header, the length and both checksums, the
// topology signature, the dtype, every buffer's name and size and that every value is finite;
// it writes into the caller's spans only after all of that passed (nothing is half-loaded).
// Compiled in src/io/checkpoint.cpp (ctnn_io_dep). Layer: io.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ctnn/io/weights.hpp"

namespace ctnn::io {

/// A named buffer of a checkpoint (T may be const when saving).
template <class T>
struct NamedBuffer {
  std::string name;
  std::span<T> data;
};

/// The scalars of a checkpoint.
struct CheckpointMeta {
  std::uint64_t step = 0;               // optimiser step counter
  std::uint64_t schedule_position = 0;  // where the learning-rate schedule is
  std::uint64_t epoch = 0;
  std::optional<std::mt19937_64> rng;   // absent: the checkpoint holds no RNG state
  std::map<std::string, double> values = {};  // named scalars, finite, kept bit for bit (files without: none)
};

/// What a file holds, owned (read_checkpoint: inspection, tools, tests).
template <class T>
struct CheckpointData {
  std::string topology;
  std::vector<T> params;
  std::vector<std::pair<std::string, std::vector<T>>> buffers;
  CheckpointMeta meta;
};

/// Writes a checkpoint atomically. `topology` is what a later load must match (use
/// model_spec<Net>().signature()). Throws DataError on a non-finite value (nothing written),
/// WriteError (atomic_file.hpp) on a write error.
template <class T>
void save_checkpoint(const std::string& path, std::string_view topology, std::span<const T> params,
                     std::span<const NamedBuffer<const T>> buffers, const CheckpointMeta& meta);

/// Reads and checks a checkpoint, then fills params and every buffer (matched by name: the file must
/// hold exactly these names with these sizes) and returns the scalars. On any error, throws DataError
/// naming the file and the place, and has written nothing.
template <class T>
CheckpointMeta load_checkpoint(const std::string& path, std::string_view topology, std::span<T> params,
                               std::span<const NamedBuffer<T>> buffers);

/// Reads and checks a checkpoint (header, length, checksums, dtype, finiteness) into owned memory.
template <class T>
CheckpointData<T> read_checkpoint(const std::string& path);

#define CTNN_IO_CHECKPOINT_EXTERN(T)                                                                          \
  extern template void save_checkpoint<T>(const std::string&, std::string_view, std::span<const T>,           \
                                          std::span<const NamedBuffer<const T>>, const CheckpointMeta&);      \
  extern template CheckpointMeta load_checkpoint<T>(const std::string&, std::string_view, std::span<T>,       \
                                                    std::span<const NamedBuffer<T>>);                        \
  extern template CheckpointData<T> read_checkpoint<T>(const std::string&);
CTNN_IO_CHECKPOINT_EXTERN(float)
CTNN_IO_CHECKPOINT_EXTERN(double)
#undef CTNN_IO_CHECKPOINT_EXTERN

// ---- on a network ------------------------------------------------------------------------------
template <class Net>
void save_checkpoint(const std::string& path, const Net& net,
                     std::span<const NamedBuffer<const typename Net::scalar>> buffers, const CheckpointMeta& meta) {
  save_checkpoint<typename Net::scalar>(path, model_spec<Net>().signature(), net.params(), buffers, meta);
}
template <class Net>
CheckpointMeta load_checkpoint(const std::string& path, Net& net,
                               std::span<const NamedBuffer<typename Net::scalar>> buffers) {
  return load_checkpoint<typename Net::scalar>(path, model_spec<Net>().signature(), net.params(), buffers);
}

}  // namespace ctnn::io
