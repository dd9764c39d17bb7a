// src/cli/settings.hpp: what the ctnn command-line tool was asked to do, after parsing (main.cpp),
// and the exit codes it returns. Layer: tool (src/cli; uses train/ and io/, nothing uses it).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "ctnn/train/progress.hpp"

namespace ctnn::cli {

/// Exit codes scripts can rely on (also in `ctnn --help` and docs/cli.md).
enum Exit : int {
  exit_ok = 0,
  exit_failure = 1,       ///< anything else (a write error, an internal error)
  exit_usage = 2,         ///< bad command line (CLI11's convention)
  exit_bad_input = 3,     ///< a data, model, topology or checkpoint file is missing, unreadable or malformed
  exit_diverged = 4,      ///< training produced NaN/Inf
  exit_interrupted = 130  ///< SIGINT/SIGTERM: stopped between batches, the last epoch's checkpoint is valid
};

struct OptimizerSettings {
  std::string name = "adam";  ///< sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw
  double lr = 1e-3;
  double momentum = 0.9;      ///< momentum/nesterov's mu; rmsprop's momentum (the tool sets 0 unless given)
  double weight_decay = 0;    ///< coupled L2, except adamw: decoupled
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

struct ScheduleSettings {
  std::string name = "none";  ///< none, step, exp, cosine; t counts epochs
  std::size_t step_size = 10;  ///< step: multiply by gamma every step_size epochs
  double gamma = 0.5;          ///< step, exp
  std::size_t t_max = 0;       ///< cosine: epochs to anneal over (0 = all)
  double eta_min = 0;          ///< cosine: final learning rate
};

/// --data-parallel: train over the MPI processes the tool was started as (mpiexec -n N ctnn train ...),
/// --batch rows per process and step, the gradients averaged densely or compressed.
struct DataParallelSettings {
  bool on = false;
  std::string compress = "none";  ///< none, top-k, sign
  double ratio = 0.01;            ///< top-k: the fraction of the gradient's entries each process sends per step
  bool error_feedback = true;     ///< top-k, sign: keep what was not sent for the next steps
};

struct TrainSettings {
  OptimizerSettings optimizer;
  ScheduleSettings schedule;
  std::size_t epochs = 20, batch = 32;
  std::uint64_t seed = 42;
  std::string checkpoint, resume, log, save;
  /// --on-nan rollback: on a NaN/Inf step, go back to the state of the last completed epoch (what
  /// the checkpoint holds) with the learning rate halved, at most 3 times; else stop.
  bool rollback_on_nan = false;
  double clip_norm = 0;        ///< --clip-norm: clip the gradient's global L2 norm before each step (0: off)
  double clip_value = 0;       ///< --clip-value: clamp every gradient entry to [-v, v] (after --clip-norm; 0: off)
  std::size_t max_steps = 0;   ///< --max-steps: stop after this many optimiser steps in all (0: no limit)
  double grad_norm_tol = 0;    ///< --grad-norm-tol: stop when the training set's gradient norm is below (0: off)
  /// The set evaluated after every epoch is called this in the progress lines: "test" (the test set),
  /// or "val" with --validation-split (rows held out of the training set; the test set is then
  /// evaluated once, after training).
  std::string monitor_name = "test";
  double validation_split = 0; ///< --validation-split: the fraction of the training rows held out (0: none)
  bool standardize = true;     ///< not --no-standardize
  std::size_t patience = 0;    ///< --patience: stop when the val loss has not improved for this many epochs (0: off)
  double min_delta = 0;        ///< --min-delta: an improvement must lower the val loss by more than this
  train::Display display = train::Display::automatic;
  const std::atomic<bool>* stop = nullptr;  ///< set by the SIGINT/SIGTERM handler
  DataParallelSettings dist;
};

}  // namespace ctnn::cli
