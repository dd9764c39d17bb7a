// ctnn/train/run_log.hpp: the record of a training run (one EpochRecord per epoch, the result and
// the criterion that stopped it) and its files: a CSV with one row per epoch, written and
// flushed as the run goes (a run that dies keeps its rows; tools can plot it), and a JSON
// document with the settings, the epochs, the result and the final confusion matrix, written at
// the end (nlohmann-json).
// Layer: train (includes train/metrics.hpp).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ctnn/core/text.hpp"
#include "ctnn/train/metrics.hpp"

namespace ctnn::train {

/// Why a training run returned.
enum class StopCriterion {
  max_epochs,      ///< the requested number of epochs was run
  max_steps,       ///< the step limit was reached (possibly mid-epoch)
  gradient_norm,   ///< the full training-set gradient norm fell below the threshold
  early_stopping,  ///< the validation loss did not improve for `patience` epochs
  non_finite,      ///< a loss or gradient was NaN or Inf (see TrainResult::message)
  interrupted,     ///< TrainerOptions::stop was set (e.g. by SIGINT); the current epoch was abandoned
};

inline const char* to_string(StopCriterion c) noexcept {
  switch (c) {
    case StopCriterion::max_epochs: return "max_epochs";
    case StopCriterion::max_steps: return "max_steps";
    case StopCriterion::gradient_norm: return "gradient_norm";
    case StopCriterion::early_stopping: return "early_stopping";
    case StopCriterion::non_finite: return "non_finite";
    case StopCriterion::interrupted: return "interrupted";
  }
  return "?";
}

/// The message of a StopCriterion::gradient_norm stop (the Trainer, the data-parallel loop and the
/// tool's runtime loop say it alike): "training-set gradient norm <norm> < <tolerance> after epoch <e>".
/// What is wrong with a run of `epochs` epochs starting (or resuming) at `first_epoch` (1-based),
/// or "" when nothing is: the Trainer and data-parallel training refuse such a run with this text.
inline std::string epochs_misfit(std::size_t epochs, std::size_t first_epoch) {
  if (epochs == 0) return "epochs is 0: nothing to train";
  if (first_epoch == 0) return "first_epoch counts from 1";
  if (first_epoch > epochs)  // a finished run resumed would train nothing
    return "first_epoch " + std::to_string(first_epoch) + " is after the last epoch, " + std::to_string(epochs) +
           " (the run's epochs are all done: raise epochs to go on)";
  return {};
}

inline std::string gradient_norm_stop_message(double norm, double tolerance, std::size_t epoch) {
  return "training-set gradient norm " + text::number(norm) + " < " + text::number(tolerance) + " after epoch " +
         std::to_string(epoch);
}

/// What a training loop does when a step's loss or gradient is NaN or Inf (the bad step is never
/// applied): the Trainer's, the data-parallel loop's and the tool's runtime loop's option.
enum class OnNonFinite {
  stop,      ///< stop; the parameters are those before the bad step
  rollback,  ///< put back the last checkpoint -- the parameters, optimiser state, data order and step count
             ///< kept at the end of the last completed epoch (or at the start) -- scale the learning rate
             ///< by rollback_lr_factor and train on from there; stop after max_rollbacks rollbacks
};

/// Why a run stops when an epoch's last update made the parameters non-finite although `finite`
/// ("loss 2.1 and gradient") were finite (the three loops say it alike).
inline std::string overflowed_parameters_message(std::size_t step, std::size_t epoch, const std::string& finite) {
  return "non-finite parameters after step " + std::to_string(step) + " (epoch " + std::to_string(epoch) +
         ", its last batch): the update overflowed although " + finite + " were finite (lower the learning rate)";
}

/// Why a run stops when the epoch's evaluation (validation or test set) has a non-finite loss though
/// every training step was finite: the last updates made the network's outputs overflow (the three
/// loops say it alike). Names the set, the loss, the epoch and the largest |parameter|.
template <class T>
std::string non_finite_evaluation_message(const std::string& set, double loss, std::size_t epoch,
                                          std::span<const T> params) {
  double largest = 0;
  for (const T p : params) largest = std::max(largest, std::abs(static_cast<double>(p)));
  char b[64];
  std::snprintf(b, sizeof b, "%.3g", largest);
  return "the " + set + " loss is " + (std::isnan(loss) ? "nan" : "inf") + " after epoch " + std::to_string(epoch) +
         " although every training step's loss and gradient were finite: the network's outputs overflow (largest "
         "|parameter| " + b + "); lower the learning rate, or check the " + set + " data";
}

/// The line a rollback prints (the three loops say it alike): "epoch <e>: rollback <k> of <max>:
/// <why>; back to the end of epoch <back> (step <s>), learning rate x<scale>".
inline std::string rollback_note(std::size_t epoch, std::size_t k, std::size_t max, const std::string& why,
                                 std::size_t back_epoch, std::size_t back_steps, double lr_scale) {
  return "epoch " + std::to_string(epoch) + ": rollback " + std::to_string(k) + " of " + std::to_string(max) + ": " +
         why + "; back to the end of epoch " + std::to_string(back_epoch) + " (step " + std::to_string(back_steps) +
         "), learning rate x" + text::number(lr_scale);
}

inline constexpr double not_measured = std::numeric_limits<double>::quiet_NaN();

struct EpochRecord {
  std::size_t epoch = 0;       ///< 1-based
  std::size_t steps = 0;       ///< optimiser steps so far (cumulative)
  double lr = not_measured;    ///< learning rate of the epoch's last step
  double train_loss = not_measured, train_accuracy = not_measured;  ///< running means over the epoch
  double val_loss = not_measured, val_accuracy = not_measured;      ///< NaN without a validation set
  double grad_norm = not_measured;  ///< full training-set gradient norm, when that criterion is on
  double seconds = 0;               ///< training time of the epoch (wall clock, without the evaluation)
  double cpu_seconds = 0;           ///< the same in process CPU time (std::clock; robust on a busy machine)
  double eval_seconds = 0;          ///< validation pass
};

struct TrainResult {
  StopCriterion stopped_by = StopCriterion::max_epochs;
  std::string message;     ///< one line saying why training stopped
  std::size_t epochs = 0;  ///< epochs run (the last possibly partial)
  std::size_t steps = 0;   ///< optimiser steps taken
  std::size_t best_epoch = 0;  ///< epoch of the lowest validation loss (0: no validation)
  double best_val_loss = not_measured;
  bool restored_best = false;  ///< the parameters of best_epoch were put back
  std::size_t rollbacks = 0;   ///< OnNonFinite::rollback: how often training went back to a checkpoint
  std::vector<EpochRecord> history;
  Evaluation validation;  ///< on the validation set with the returned parameters (empty without one)
};

class RunLog {
 public:
  RunLog() = default;
  /// Opens the CSV (if csv_path is not empty) and writes its header; json_path is written by
  /// finish(). Throws std::runtime_error naming the file if it cannot be opened. A run resumed after
  /// epoch `resumed_after` (> 0) continues the CSV its first part wrote: the rows of epochs up to
  /// `resumed_after` are kept, later ones (logged after the checkpoint it resumed from) dropped; a file
  /// that is missing or has another header starts afresh. `set` names the set evaluated after each
  /// epoch, as the progress lines do: its columns are <set>_loss and <set>_accuracy ("val_loss" for a
  /// validation set, "test_loss" when the test set is monitored); letters, digits and '_' only (when
  /// a log is written).
  RunLog(std::string csv_path, std::string json_path, std::size_t resumed_after = 0, std::string set = "val")
      : csv_path_(std::move(csv_path)), json_path_(std::move(json_path)), set_(std::move(set)) {
    const bool plain = !set_.empty() && std::all_of(set_.begin(), set_.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!plain && (!csv_path_.empty() || !json_path_.empty()))
      throw std::invalid_argument("ctnn::train::RunLog: the evaluated set's name \"" + set_ +
                                  "\" names log columns: letters, digits and '_' only");
    const std::string csv_header = header();
    if (!csv_path_.empty()) {
      std::string kept;
      if (resumed_after > 0) {
        std::ifstream old(csv_path_);
        std::string line;
        if (old && std::getline(old, line) && line == csv_header)
          while (std::getline(old, line)) {
            char* end = nullptr;
            const unsigned long long epoch = std::strtoull(line.c_str(), &end, 10);
            if (end != line.c_str() && *end == ',' && epoch >= 1 && epoch <= resumed_after) kept += line + "\n";
          }
      }
      // The header and the kept rows go to a temporary file that then replaces the log: a run killed
      // while it starts leaves the old log or the new one, never a truncated one.
      const std::string tmp = csv_path_ + ".ctnn-tmp";
      {
        std::ofstream start(tmp, std::ios::trunc);
        start << csv_header << "\n" << kept << std::flush;
        if (!start) {
          std::remove(tmp.c_str());
          throw std::runtime_error("ctnn::train::RunLog: cannot write " + csv_path_);
        }
      }
      std::error_code ec;
      std::filesystem::rename(tmp, csv_path_, ec);
      if (ec) {
        std::remove(tmp.c_str());
        throw std::runtime_error("ctnn::train::RunLog: cannot write " + csv_path_ + " (" + ec.message() + ")");
      }
      csv_.open(csv_path_, std::ios::app);
      if (!csv_) throw std::runtime_error("ctnn::train::RunLog: cannot write " + csv_path_);
    }
    if (!json_path_.empty()) {  // fail now, not after hours of training (append: a file there stays as it is)
      std::ofstream probe(json_path_, std::ios::app);
      if (!probe) throw std::runtime_error("ctnn::train::RunLog: cannot write " + json_path_);
    }
  }
  nlohmann::json& settings() { return settings_; }

  void add(const EpochRecord& r) {
    if (!csv_.is_open()) return;
    char line[512];
    // An evaluated set's loss is written even when it is inf or nan; an empty cell: not evaluated.
    const std::string val_loss = std::isfinite(r.val_accuracy) ? num(r.val_loss, true) : num(r.val_loss);
    std::snprintf(line, sizeof line, "%zu,%zu,%.17g,%.17g,%.17g,%s,%s,%s,%.6f,%.6f\n", r.epoch, r.steps, r.lr,
                  r.train_loss, r.train_accuracy, val_loss.c_str(), num(r.val_accuracy).c_str(),
                  num(r.grad_norm).c_str(), r.seconds, r.cpu_seconds);
    csv_ << line << std::flush;
  }

  void finish(const TrainResult& res) {
    if (json_path_.empty()) return;
    using nlohmann::json;
    auto n = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
    json epochs = json::array();
    for (const auto& r : res.history)
      epochs.push_back({{"epoch", r.epoch}, {"steps", r.steps}, {"lr", n(r.lr)}, {"train_loss", n(r.train_loss)},
                        {"train_accuracy", n(r.train_accuracy)}, {set_ + "_loss", n(r.val_loss)},
                        {set_ + "_accuracy", n(r.val_accuracy)}, {"grad_norm", n(r.grad_norm)},
                        {"seconds", r.seconds}, {"cpu_seconds", r.cpu_seconds}, {"eval_seconds", r.eval_seconds}});
    json doc{{"format", "ctnn-run/2"},  // 2: the evaluated set's keys are named after it (were val_*)
             {"settings", settings_},
             {"epochs", epochs},
             {"result",
              {{"stopped_by", to_string(res.stopped_by)},
               {"message", res.message},
               {"epochs", res.epochs},
               {"steps", res.steps},
               {"best_epoch", res.best_epoch},
               {"best_" + set_ + "_loss", n(res.best_val_loss)},
               {"restored_best", res.restored_best},
               {"rollbacks", res.rollbacks}}}};
    const ConfusionMatrix& cm = res.validation.confusion;
    if (cm.classes()) {
      json m = json::array(), per = json::array();
      for (std::size_t t = 0; t < cm.classes(); ++t) {
        json row = json::array();
        for (std::size_t p = 0; p < cm.classes(); ++p) row.push_back(cm(t, p));
        m.push_back(row);
        per.push_back({{"class", t}, {"precision", n(cm.precision(t))}, {"recall", n(cm.recall(t))}});
      }
      doc["evaluation"] = {{"set", set_},
                           {"loss", n(res.validation.loss)},
                           {"accuracy", n(cm.accuracy())},
                           {"confusion_matrix", m},
                           {"per_class", per}};
    }
    std::ofstream out(json_path_);
    out << doc.dump(2) << '\n';
    if (!out) throw std::runtime_error("ctnn::train::RunLog: cannot write " + json_path_);
  }

 private:
  std::string header() const {
    return "epoch,steps,lr,train_loss,train_accuracy," + set_ + "_loss," + set_ +
           "_accuracy,grad_norm,seconds,cpu_seconds";
  }
  static std::string num(double v, bool measured = false) {
    if (!measured && !std::isfinite(v)) return "";
    char b[32];
    std::snprintf(b, sizeof b, "%.17g", v);
    return b;
  }
  std::string csv_path_, json_path_, set_;
  std::ofstream csv_;
  nlohmann::json settings_ = nlohmann::json::object();
};

}  // namespace ctnn::train
