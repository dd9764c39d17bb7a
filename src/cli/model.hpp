// src/cli/model.hpp: what the ctnn tool does with a network, whatever its kind: a compiled preset
// (static_model.hpp, one Network type per preset_*.cpp) or a JSON topology on the runtime tape
// (runtime_model.cpp). Also the tool's checkpoint contents (parameters, optimiser state, steps,
// schedule position, epoch, shuffling RNG) on top of io/checkpoint.hpp.
// Layer: tool (src/cli; uses train/, io/).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/settings.hpp"
#include "ctnn/core/text.hpp"
#include "ctnn/io/checkpoint.hpp"
#include "ctnn/io/dataset.hpp"
#include "ctnn/io/weights.hpp"
#include "ctnn/train/early_stopping.hpp"
#include "ctnn/train/metrics.hpp"
#include "ctnn/train/run_log.hpp"

namespace ctnn::cli {

struct TrainReport {
  int exit = exit_ok;
  std::string message;                                          ///< why training stopped
  /// On the set evaluated after every epoch (settings.monitor_name) with the final parameters; NaN without one.
  double monitored_accuracy = std::numeric_limits<double>::quiet_NaN();
  std::size_t epochs = 0;                                       ///< last completed epoch
  /// --patience: the epoch whose parameters the run ended on (the best by the monitored loss, which is
  /// kept_loss), whatever ended it; 0 otherwise.
  std::size_t kept_epoch = 0;
  double kept_loss = std::numeric_limits<double>::quiet_NaN();
};

/// --patience: whatever ended the run (patience running out, the epoch limit, --max-steps, the
/// gradient-norm criterion), the training loop (the Trainer, dist::train_data_parallel, the topology
/// loop: EarlyStopping::restore_at_end) ended it on the best validation epoch's parameters and
/// evaluated them; this records that epoch in the report. Not after a NaN/Inf stop or an
/// interruption (nothing is saved then).
inline void note_kept_epoch(const TrainSettings& s, const train::EarlyStopping<float>& es, TrainReport& r) {
  if (s.patience == 0 || es.best_epoch == 0 || r.exit != exit_ok) return;
  r.kept_epoch = es.best_epoch;
  r.kept_loss = es.best_loss;
}

/// The flags every training loop of the tool takes alike, put on its options (train::TrainerOptions or
/// dist::DataParallelOptions: members of the same names), so that a flag reaches both loops.
template <class Options>
void put_loop_flags(Options& o, const TrainSettings& s) {
  o.epochs = s.epochs;
  o.seed = s.seed;
  o.stop = s.stop;
  o.clip_norm = s.clip_norm;
  o.clip_value = s.clip_value;
  o.max_steps = s.max_steps;
  o.grad_norm_tolerance = s.grad_norm_tol;
  o.patience = s.patience;
  o.min_delta = s.min_delta;
  o.validation_name = s.monitor_name;
  o.on_non_finite = s.rollback_on_nan ? train::OnNonFinite::rollback : train::OnNonFinite::stop;
}

/// What a training loop's result means to the tool: its message, the last completed epoch, the final
/// accuracy on the monitored set (not after an interruption) and the exit code of a NaN/Inf stop or
/// an interruption.
inline TrainReport report_of(const train::TrainResult& res, std::size_t completed, bool monitored) {
  TrainReport r;
  r.message = res.message;
  r.epochs = completed;
  if (monitored && res.stopped_by != train::StopCriterion::interrupted) r.monitored_accuracy = res.validation.accuracy();
  if (res.stopped_by == train::StopCriterion::non_finite) r.exit = exit_diverged;
  if (res.stopped_by == train::StopCriterion::interrupted) r.exit = exit_interrupted;
  return r;
}

class Model {
 public:
  virtual ~Model() = default;
  virtual io::ModelSpec spec() const = 0;
  virtual std::size_t inputs() const = 0;
  virtual std::size_t outputs() const = 0;
  /// The classes the labels name: one per output, or 2 for a one-output (binary) network.
  virtual std::size_t classes() const { return outputs(); }
  virtual std::span<float> params() = 0;
  /// Whether --batch N can be used (presets are compiled for a few batch sizes).
  virtual bool supports_batch(std::size_t b) const = 0;
  virtual std::string batch_sizes() const = 0;
  /// Trains (resuming from settings.resume when given); a checkpoint after every epoch. `monitor`
  /// (optional) is evaluated after every epoch; settings.patience stops early on its loss.
  virtual TrainReport train(const TrainSettings& s, const io::Dataset& train, const io::Dataset* monitor) = 0;
  /// --data-parallel: trains over the MPI processes (every one calls this with the same arguments;
  /// process 0 prints, logs and saves). In a tool built with MPI (cli/data_parallel.hpp).
  virtual TrainReport train_data_parallel(const TrainSettings&, const io::Dataset&, const io::Dataset*) {
    throw std::invalid_argument("--data-parallel: this ctnn was built without MPI");
  }
  virtual train::Evaluation evaluate(const io::Dataset& d) = 0;
  /// The loss a JSON topology gave (its "loss" object as JSON text), which the model file keeps for
  /// eval; empty for the default loss.
  virtual std::string loss_json() const { return {}; }
  /// Class probabilities, rows x classes() (softmax of logits; a softmax output layer as it is; a
  /// one-output network's 1 - p, p).
  virtual std::vector<float> predict(const io::Dataset& d) = 0;
};

/// The flags that decide a run's steps, as a checkpoint records them: "flag.<name>" = the value of
/// --<name>, and "flag.optimizer=<name>" = 1 (likewise the schedule). A resume with other values would
/// not take the uninterrupted run's steps; --epochs, the stopping criteria and --on-nan may change.
inline std::map<std::string, double> run_flags(const TrainSettings& s) {
  const auto& o = s.optimizer;
  const auto& c = s.schedule;
  return {{"flag.optimizer=" + o.name, 1.0},
          {"flag.lr", o.lr},
          {"flag.momentum", o.momentum},
          {"flag.weight-decay", o.weight_decay},
          {"flag.beta1", o.beta1},
          {"flag.beta2", o.beta2},
          {"flag.eps", o.eps},
          {"flag.schedule=" + c.name, 1.0},
          {"flag.step-size", static_cast<double>(c.step_size)},
          {"flag.gamma", c.gamma},
          {"flag.t-max", static_cast<double>(c.t_max)},
          {"flag.eta-min", c.eta_min},
          {"flag.batch", static_cast<double>(s.batch)},
          {"flag.clip-norm", s.clip_norm},
          {"flag.clip-value", s.clip_value},
          {"flag.no-standardize", s.standardize ? 0.0 : 1.0}};
}
/// Throws io::DataError naming the first flag recorded in the checkpoint (run_flags) that the resumed
/// run gives another value (a checkpoint from before the record has none: nothing to check).
inline void check_run_flags(const std::string& path, const io::CheckpointMeta& meta, const TrainSettings& s) {
  const auto now = run_flags(s);
  for (const auto& [key, was] : meta.values) {
    if (!key.starts_with("flag.")) continue;
    const auto it = now.find(key);
    if (it != now.end() && it->second == was) continue;
    const std::string name = key.substr(5);
    std::string flag = name, then, current = "?";
    if (const auto eq = name.find('='); eq != std::string::npos) {  // a name: the one now in use
      flag = name.substr(0, eq);
      then = name.substr(eq + 1);
      for (const auto& [k, v] : now)
        if (k.starts_with("flag." + flag + "=")) current = k.substr(6 + flag.size());
    } else if (name == "no-standardize") {
      throw io::DataError(path + std::string(": written ") + (was != 0 ? "with" : "without") +
                              " --no-standardize, resumed " + (was != 0 ? "without" : "with") + " it",
                          path);
    } else {
      then = text::number(was);
      if (it != now.end()) current = text::number(it->second);
    }
    throw io::DataError(path + ": written with --" + flag + " " + then + ", resumed with --" + flag + " " + current +
                            " (a resumed run takes the uninterrupted run's steps only with its flags)",
                        path);
  }
}

/// Throws io::DataError when the checkpoint was written with another --validation-split, or with
/// --patience and resumed without it (or the other way round): its buffers would not match, and the
/// flag says why better than the buffer.
inline void check_split_and_patience(const std::string& path, const io::CheckpointMeta& meta, const TrainSettings& s) {
  const auto split = meta.values.find("validation_split");
  const double saved = split == meta.values.end() ? 0.0 : split->second;
  if (saved != s.validation_split)
    throw io::DataError(path + ": written with --validation-split " + text::number(saved) + ", resumed with " +
                            text::number(s.validation_split) + " (other rows would be trained on)",
                        path);
  const bool recorded = meta.values.contains("early_stopping.best_epoch");
  if (recorded && s.patience == 0)
    throw io::DataError(path + ": written with --patience, resumed without it (its early-stopping record would be "
                               "dropped)",
                        path);
  if (!recorded && s.patience > 0)
    throw io::DataError(path + ": written without --patience, resumed with --patience " + std::to_string(s.patience) +
                            " (it holds no early-stopping record to go on from)",
                        path);
}

/// Throws io::DataError when a checkpoint of a --data-parallel run (it holds the buffer
/// "data_parallel.processes") is resumed without --data-parallel, or a one-process checkpoint with it:
/// the buffer alone would be the error ("a buffer that nothing expects").
inline void check_data_parallel(const std::string& path, const io::CheckpointData<float>& file, const TrainSettings& s) {
  const auto it = std::find_if(file.buffers.begin(), file.buffers.end(),
                               [](const auto& b) { return b.first == "data_parallel.processes"; });
  const bool written_dp = it != file.buffers.end();
  if (written_dp && !s.dist.on) {
    const auto n = it->second.size() == 1 ? static_cast<long long>(it->second[0]) : 0;
    const std::string np = std::to_string(n);
    throw io::DataError(path + ": written by a --data-parallel run of " + np + (n == 1 ? " process" : " processes") +
                            "; resume it with mpiexec -n " + np + " ctnn train ... --data-parallel (and the run's "
                            "other flags)",
                        path);
  }
  if (!written_dp && s.dist.on)
    throw io::DataError(path + ": written by a run without --data-parallel (one process); resume it without "
                               "--data-parallel, or start the data-parallel run afresh",
                        path);
}

/// io::load_checkpoint of a tool checkpoint; when it refuses a sound file of this network that was
/// written with other flags, the flag is the error (another optimiser is otherwise "optimizer.state:
/// expected 0 values", --patience "the file holds a buffer early_stopping.best_params").
inline io::CheckpointMeta load_checkpoint_of_run(const std::string& path, const io::ModelSpec& spec,
                                                 std::span<float> params,
                                                 std::span<const io::NamedBuffer<float>> buffers,
                                                 const TrainSettings& s) {
  std::exception_ptr refused;
  try {
    return io::load_checkpoint<float>(path, spec.signature(), params, buffers);
  } catch (const io::DataError&) {
    refused = std::current_exception();
  }
  std::optional<io::CheckpointData<float>> file;
  try {
    file = io::read_checkpoint<float>(path);
  } catch (const io::DataError&) {
    std::rethrow_exception(refused);  // not sound: its own error
  }
  if (file->topology == spec.signature()) {
    check_data_parallel(path, *file, s);
    check_run_flags(path, file->meta, s);
    check_split_and_patience(path, file->meta, s);
  }
  std::rethrow_exception(refused);  // another network, or the flags agree: the load's own error
}

/// What a tool checkpoint holds about the run besides its state: the flags that decide the steps
/// (run_flags), with --validation-split the value "validation_split" (a resume with another fraction is
/// refused: it would train on other rows), and with --patience (`es` given) the early-stopping record:
/// the buffer "early_stopping.best_params" (the current parameters while no epoch is best) and the
/// values early_stopping.best_epoch, .wait and .best_loss (absent while no epoch is best).
inline void put_run_record(std::vector<io::NamedBuffer<const float>>& buffers, io::CheckpointMeta& meta,
                           const TrainSettings& s, const train::EarlyStopping<float>* es,
                           std::span<const float> params) {
  const double validation_split = s.validation_split;
  meta.values.merge(run_flags(s));
  if (validation_split > 0) meta.values["validation_split"] = validation_split;
  if (!es) return;
  buffers.push_back({"early_stopping.best_params", es->best_epoch ? std::span<const float>(es->best_params) : params});
  meta.values["early_stopping.best_epoch"] = static_cast<double>(es->best_epoch);
  meta.values["early_stopping.wait"] = static_cast<double>(es->wait);
  if (es->best_epoch) meta.values["early_stopping.best_loss"] = es->best_loss;
}
/// Checks a loaded checkpoint's recorded flags (check_run_flags) and validation split against this run's
/// and (with `es`) puts its early-stopping record there, from its values and best parameters (the
/// buffer's contents, `best`), checked against the epochs it completed; throws io::DataError naming the file.
inline void get_run_record(const std::string& path, const io::CheckpointMeta& meta, const TrainSettings& s,
                           train::EarlyStopping<float>* es, std::vector<float> best) {
  check_run_flags(path, meta, s);
  check_split_and_patience(path, meta, s);
  if (!es) return;
  const auto value = [&](const std::string& key) {
    const auto it = meta.values.find(key);
    if (it == meta.values.end())
      throw io::DataError(path + ": /values/" + key + ": missing key (a checkpoint written without --patience?)", path);
    return it->second;
  };
  const auto count = [&](const std::string& key) {
    const double v = value(key);
    if (!(v >= 0 && v < 0x1p53 && v == std::floor(v)))
      throw io::DataError(path + ": /values/" + key + ": not a count", path);
    return static_cast<std::size_t>(v);
  };
  train::EarlyStopping<float> r;
  const std::size_t params = best.size();
  r.best_epoch = count("early_stopping.best_epoch");
  r.wait = count("early_stopping.wait");
  if (r.best_epoch) {
    r.best_loss = value("early_stopping.best_loss");
    r.best_params = std::move(best);
  }
  if (const auto bad = r.check(params, static_cast<std::size_t>(meta.epoch)); !bad.empty())
    throw io::DataError(path + ": the early-stopping record does not fit: " + bad, path);
  *es = std::move(r);
}

/// Checkpoint of the tool: the optimiser's state under the name "optimizer.state"; step = optimiser
/// steps, schedule_position = epoch = completed epochs (schedules count epochs); what put_run_record
/// adds: the flags, --validation-split and (`es`) --patience's record.
inline void save_tool_checkpoint(const std::string& path, const io::ModelSpec& spec, std::span<const float> params,
                                 std::span<const float> opt_state, io::CheckpointMeta meta, const TrainSettings& s,
                                 const train::EarlyStopping<float>* es) {
  std::vector<io::NamedBuffer<const float>> buffers{{"optimizer.state", opt_state}};
  put_run_record(buffers, meta, s, es, params);
  io::save_checkpoint<float>(path, spec.signature(), params, buffers, meta);
}
/// A resume needs epochs left to train: --epochs counts all of them, the checkpoint's included (a
/// finished run resumed ran nothing and reported accuracy nan). Throws io::DataError naming the file.
inline void check_epochs_left(const std::string& path, const io::CheckpointMeta& meta, const TrainSettings& s) {
  if (meta.epoch < s.epochs) return;
  throw io::DataError(path + ": holds epoch " + std::to_string(meta.epoch) + " and --epochs " +
                          std::to_string(s.epochs) + " counts all epochs, those of the checkpoint too: nothing is "
                          "left to train (give --epochs " + std::to_string(meta.epoch + 1) + " or more)",
                      path);
}

/// Loads what save_tool_checkpoint wrote (checked against --validation-split; with `es` the
/// early-stopping record too). All or nothing: the file is read into copies, and `params`,
/// `opt_state` and `*es` change only once every check has passed. Throws io::DataError naming the file.
inline io::CheckpointMeta load_tool_checkpoint(const std::string& path, const io::ModelSpec& spec,
                                               std::span<float> params, std::span<float> opt_state,
                                               const TrainSettings& s, train::EarlyStopping<float>* es) {
  std::vector<float> p(params.size()), state(opt_state.size()), best(es ? params.size() : 0);
  std::vector<io::NamedBuffer<float>> buffers{{"optimizer.state", state}};
  if (es) buffers.push_back({"early_stopping.best_params", best});
  auto meta = load_checkpoint_of_run(path, spec, p, buffers, s);
  check_epochs_left(path, meta, s);
  if (!meta.rng) throw io::DataError(path + ": the checkpoint holds no RNG state (not written by ctnn train)", path);
  get_run_record(path, meta, s, es, std::move(best));  // sets *es last, when all checks pass
  std::copy(p.begin(), p.end(), params.begin());
  std::copy(state.begin(), state.end(), opt_state.begin());
  return meta;
}

/// Softmax of each row of logits, in place (predict's probabilities).
inline void softmax_rows(std::vector<float>& v, std::size_t cols) {
  for (std::size_t r = 0; r + cols <= v.size(); r += cols) {
    float m = v[r];
    for (std::size_t k = 1; k < cols; ++k) m = std::max(m, v[r + k]);
    double sum = 0;
    for (std::size_t k = 0; k < cols; ++k) sum += std::exp(static_cast<double>(v[r + k] - m));
    for (std::size_t k = 0; k < cols; ++k) v[r + k] = static_cast<float>(std::exp(static_cast<double>(v[r + k] - m)) / sum);
  }
}

/// A preset: a compiled topology (its own preset_<name>.cpp).
struct Preset {
  const char* name;
  const char* description;
  std::unique_ptr<Model> (*make)(std::uint64_t seed);
};
std::span<const Preset> presets();
/// A network described by a JSON topology file (RuntimeNetwork::from_file), or as a model file's
/// layers say (for eval/predict of a model trained from a JSON topology).
std::unique_ptr<Model> make_runtime_model(const std::string& topology_file, std::uint64_t seed);
/// `loss_json`: a topology's "loss" object as a model file kept it (empty: the default loss).
std::unique_ptr<Model> make_runtime_model(const io::ModelSpec& spec, const std::string& loss_json = {});

}  // namespace ctnn::cli
