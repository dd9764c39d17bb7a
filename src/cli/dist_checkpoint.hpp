// src/cli/dist_checkpoint.hpp: the checkpoint of a data-parallel run of the ctnn tool (--data-parallel
// with --checkpoint / --resume), on top of io/checkpoint.hpp.
//
// The main file (written by process 0 at the path given): parameters, the optimiser's state, a buffer
// "data_parallel.processes" holding the process count, what model.hpp's put_run_record adds (the
// flags, --validation-split and --patience's record), and meta step = optimiser steps, epoch =
// schedule_position = completed epochs, rng = a fresh std::mt19937_64 seeded with --seed (the order is
// replayed from the seed on resume; the RNG identifies the seed, so another seed is refused). With
// error feedback each process also has its own unsent remainder, written by that process to
// "<path>.rank<r>.epoch<e>" before process 0 writes the main file: a kill at any moment leaves the main
// file of some epoch e with every remainder of epoch e beside it (a process deletes its file of the
// epoch before only after the new main file exists). Every process takes part in every save and load,
// and if one fails, all of them throw (none is left waiting in a collective).
// Layer: tool (src/cli; uses dist/, io/). Included only when the tool is built with MPI.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/model.hpp"
#include "ctnn/dist/mpi.hpp"
#include "ctnn/io/checkpoint.hpp"
#include "ctnn/io/dataset.hpp"

namespace ctnn::cli {

/// A bad checkpoint every process refused together (dist::AgreedError as an io::DataError naming the
/// file, exit code 3): main prints it on failing_rank only.
struct AgreedDataError : io::DataError {
  AgreedDataError(const std::string& what, const std::string& path, int rank) : io::DataError(what, path), failing_rank(rank) {}
  int failing_rank;
};

/// dist::agree_or_throw as AgreedDataError naming `path`: a failing process's own message, on the
/// others which process failed.
inline void agree_on(const dist::Comm& comm, const std::string& err, const std::string& path) {
  try {
    dist::agree_or_throw(comm, err, [&](int r) {
      return path + ": process " + std::to_string(r) + " could not use its part of the checkpoint";
    });
  } catch (const dist::AgreedError& e) {
    throw AgreedDataError(e.what(), path, e.failing_rank());
  }
}

inline std::string remainder_path(const std::string& path, int rank, std::uint64_t epoch) {
  return path + ".rank" + std::to_string(rank) + ".epoch" + std::to_string(epoch);
}

struct DistCheckpoint {
  const dist::Comm& comm;
  const io::ModelSpec& spec;
  std::string path;
  const TrainSettings& settings;  ///< --seed, --validation-split and run_flags: a resume with others is refused
  bool has_remainder;  ///< compression with error feedback: each process's remainder is saved too

  /// After epoch `epoch` (collective).
  void save(std::span<const float> params, std::span<const float> opt_state, std::span<const float> remainder,
            std::uint64_t steps, std::uint64_t epoch, const train::EarlyStopping<float>* es = nullptr) const {
    const io::CheckpointMeta meta{steps, epoch, epoch, std::mt19937_64(settings.seed)};
    std::string err;
    if (has_remainder) {
      try {
        io::save_checkpoint<float>(remainder_path(path, comm.rank(), epoch), remainder_topology(), remainder, {}, meta);
      } catch (const std::exception& e) {
        err = e.what();
      }
      agree_on(comm, err, path);
    }
    if (comm.rank() == 0) {
      const float processes = static_cast<float>(comm.size());
      std::vector<io::NamedBuffer<const float>> buffers{{"optimizer.state", opt_state},
                                                        {"data_parallel.processes", {&processes, 1}}};
      io::CheckpointMeta main_meta = meta;
      put_run_record(buffers, main_meta, settings, es, params);
      try {
        io::save_checkpoint<float>(path, spec.signature(), params, buffers, main_meta);
      } catch (const std::exception& e) {
        err = e.what();
      }
    }
    agree_on(comm, err, path);
    if (has_remainder && epoch > 0) std::remove(remainder_path(path, comm.rank(), epoch - 1).c_str());
  }

  /// Loads into params, opt_state, (with error feedback) remainder and (with `es`) the early-stopping
  /// record, checking the process count, the seed and that every remainder belongs to the main file's
  /// epoch (collective); returns the meta. All or nothing: the files are read into copies, committed
  /// on every process once every process's checks have passed.
  io::CheckpointMeta load(std::span<float> params, std::span<float> opt_state, std::span<float> remainder,
                          train::EarlyStopping<float>* es = nullptr) const {
    io::CheckpointMeta meta;
    std::string err;
    std::vector<float> p(params.size()), state(opt_state.size()), rem(remainder.size());
    train::EarlyStopping<float> record;
    try {
      float processes = 0;
      std::vector<float> best(es ? params.size() : 0);
      std::vector<io::NamedBuffer<float>> buffers{{"optimizer.state", state},
                                                  {"data_parallel.processes", {&processes, 1}}};
      if (es) buffers.push_back({"early_stopping.best_params", best});
      meta = load_checkpoint_of_run(path, spec, p, buffers, settings);
      get_run_record(path, meta, settings, es ? &record : nullptr, std::move(best));
      check_epochs_left(path, meta, settings);
      if (processes != static_cast<float>(comm.size()))
        err = path + ": written by " + std::to_string(static_cast<long long>(processes)) + " processes, resumed with " +
              std::to_string(comm.size()) + " (start as many as the run had)";
      else if (!meta.rng || *meta.rng != std::mt19937_64(settings.seed))
        err = path + ": written with another --seed (the data order is replayed from the seed)";
      else if (has_remainder) {
        const std::string rp = remainder_path(path, comm.rank(), meta.epoch);
        const auto rm = io::load_checkpoint<float>(rp, remainder_topology(), rem, {});
        if (rm.epoch != meta.epoch || rm.step != meta.step)
          err = rp + ": holds epoch " + std::to_string(rm.epoch) + ", the checkpoint epoch " + std::to_string(meta.epoch);
      }
    } catch (const std::exception& e) {
      err = e.what();
    }
    agree_on(comm, err, path);  // throws on every process if any refused
    std::copy(p.begin(), p.end(), params.begin());
    std::copy(state.begin(), state.end(), opt_state.begin());
    if (has_remainder) std::copy(rem.begin(), rem.end(), remainder.begin());
    if (es) *es = std::move(record);
    return meta;
  }

 private:
  std::string remainder_topology() const {
    return "data-parallel remainder, process " + std::to_string(comm.rank()) + " of " + std::to_string(comm.size()) +
           ", " + spec.signature();
  }
};

}  // namespace ctnn::cli
