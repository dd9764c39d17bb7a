// ctnn/train/trainer.hpp: the training loop. Trainer<B> runs epochs of seeded-shuffled
// mini-batches of the compile-time size B through net.gradient (reverse mode), applies any
// optimiser (ctnn/optim) with the learning rate of a schedule, optionally clips the gradient,
// and reports: running loss and accuracy per epoch, validation loss/accuracy/confusion matrix,
// a progress bar on a terminal, a CSV/JSON log. It stops on the first criterion met -- NaN/Inf
// (naming the step, the parameter block and the last finite loss; or, with
// OnNonFinite::rollback, it first goes back to the last epoch's checkpoint at a lower learning
// rate), a step limit, a full-training-set gradient-norm
// threshold, early stopping on the validation loss (with best-weights restore), or the epoch
// count -- and the result says which.
//
// Ragged last batch: when B does not divide the training set, each epoch ends with one smaller
// batch of r = N mod B samples, which is used, not dropped: its gradient is the mean of its r
// single-sample gradients (net.gradient<1>), which is exactly the gradient of its mean loss (ctnn
// losses are means over the batch), so it is one ordinary optimiser step on r samples.
//
// Data: any type with Dataset's members (rows, cols, row(i) -> pointer to cols features,
// labels[i] 0-based class), e.g. ctnn::io::Dataset; this header does not include io. Targets are
// one-hot rows for a network with K > 1 outputs (predicted class = argmax), the label itself
// (0/1) for one output (predicted class 1 when the output exceeds binary_threshold).
// Layer: train (includes nn, optim and train's metrics, progress and run log).
#pragma once
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <functional>
#include <numeric>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "ctnn/ad/ad.hpp"
#include "ctnn/core/aligned.hpp"
#include "ctnn/core/text.hpp"
#include "ctnn/kernel/reduce.hpp"
#include "ctnn/kernel/simd.hpp"
#include "ctnn/nn/init.hpp"
#include "ctnn/optim/clip.hpp"
#include "ctnn/optim/schedule.hpp"
#include "ctnn/train/early_stopping.hpp"
#include "ctnn/train/evaluate.hpp"
#include "ctnn/train/labelled_data.hpp"
#include "ctnn/train/metrics.hpp"
#include "ctnn/train/progress.hpp"
#include "ctnn/train/run_log.hpp"

namespace ctnn::train {

/// What the schedule's t counts: optimiser steps (PyTorch's per-step schedulers) or epochs.
enum class ScheduleUnit { step, epoch };

struct TrainerOptions {
  std::size_t epochs = 10;        ///< maximum number of epochs
  std::size_t max_steps = 0;      ///< maximum optimiser steps; 0 = no limit
  std::uint64_t seed = 0;         ///< shuffling and the validation split
  bool shuffle = true;            ///< reshuffle the training order every epoch
  ScheduleUnit schedule_unit = ScheduleUnit::step;
  double clip_norm = 0;           ///< clip the global gradient norm to this; 0 = off
  optim::Rescale clip_rescale = optim::Rescale::pytorch;
  double clip_value = 0;          ///< clamp every gradient entry to [-v, v]; 0 = off
  /// Stop when the gradient norm of the mean loss over the whole training set (computed after
  /// each epoch, one extra pass) is below this; 0 = off.
  double grad_norm_tolerance = 0;
  /// Without an explicit validation set: hold out this fraction of the training set (a seeded
  /// random subset) for validation; 0 = none.
  double validation_split = 0;
  std::size_t patience = 0;       ///< early stopping: epochs without improvement; 0 = off
  double min_delta = 0;           ///< an improvement must lower the validation loss by more
  bool restore_best = true;       ///< with patience > 0: end on the best epoch's parameters (however the run ends, but an interruption)
  double binary_threshold = 0.5;  ///< one-output networks: class 1 when output > this
  OnNonFinite on_non_finite = OnNonFinite::stop;
  double rollback_lr_factor = 0.5;  ///< rollback: the schedule's learning rate is multiplied by this each time
  std::size_t max_rollbacks = 3;    ///< rollback: a further non-finite step after this many stops training
  Display display = Display::automatic;
  std::FILE* out = stdout;
  std::string validation_name = "val";  ///< how the progress lines and the log's columns call the validation set
  std::string csv_path, json_path;      ///< run logs; empty = none
  // Resuming and interruption (the command-line tool's --resume and SIGINT): with first_epoch and
  // first_step as a checkpoint saved them from on_epoch_end (and the parameters and optimiser state
  // restored; with a validation set, also fit's early-stopping record), the resumed run takes the
  // same steps and stops where an uninterrupted one would. The shuffled order
  // (each epoch permutes the previous epoch's order) is rebuilt by replaying the earlier epochs'
  // shuffles from the seed; shuffle_state, if given, must then equal the RNG (else: another seed).
  std::size_t first_epoch = 1;  ///< resume: the epochs before this one are done
  std::size_t first_step = 0;   ///< resume: optimiser steps already taken (the schedule continues from here)
  std::optional<std::mt19937_64> shuffle_state;  ///< resume: the shuffling RNG as after epoch first_epoch - 1
  const std::atomic<bool>* stop = nullptr;       ///< checked before each batch: when set, the epoch is abandoned
  /// Called after each completed epoch (not an abandoned or step-limited one): the epoch, the steps so
  /// far and the shuffling RNG, i.e. what a checkpoint needs besides parameters and optimiser state.
  std::function<void(std::size_t epoch, std::size_t steps, const std::mt19937_64& shuffle_rng)> on_epoch_end;
};

template <std::size_t B, class Net, class Opt, optim::Schedule Sched = optim::ConstantLR>
class Trainer {
  static_assert(B > 0, "ctnn: the batch size B must be positive");
  using T = typename Net::scalar;
  static constexpr std::size_t In = Net::inputs, Out = Net::outputs, P = Net::num_params;
  static constexpr std::size_t K = Out > 1 ? Out : 2;  // classes

 public:
  Trainer(Net& net, Opt& opt, Sched schedule, TrainerOptions o = {})
      : net_(net), opt_(opt), sched_(std::move(schedule)), o_(std::move(o)),
        acc_(P) {}
  /// A constant learning rate: the optimiser's own options().lr.
  Trainer(Net& net, Opt& opt, TrainerOptions o = {})
    requires std::same_as<Sched, optim::ConstantLR>
      : Trainer(net, opt, optim::ConstantLR{opt.options().lr}, std::move(o)) {}

  const TrainerOptions& options() const noexcept { return o_; }

  /// Trains on `train`, validating on `validation` (or on a validation_split of train).
  /// `early_stopping` (optional, in/out): the record of the best epoch by validation loss, kept up
  /// to date after each epoch (on_epoch_end sees it current: what a checkpoint saves). A fresh run
  /// (first_epoch 1) needs it empty; a resumed one continues from the record saved with the
  /// checkpoint. Without it, fit keeps its own.
  template <LabelledData D, class Loss>
  TrainResult fit(const Loss& loss, const D& train, const std::type_identity_t<D>* validation = nullptr,
                  EarlyStopping<T>* early_stopping = nullptr) {
    check_data(train, "training");
    if (validation) check_data(*validation, "validation");
    if (o_.validation_split < 0 || o_.validation_split >= 1)
      throw std::invalid_argument("ctnn::train::Trainer: validation_split must be in [0, 1)");
    if (validation && o_.validation_split > 0)
      throw std::invalid_argument("ctnn::train::Trainer: give a validation set or a validation_split, not both");
    if (const std::string bad = epochs_misfit(o_.epochs, o_.first_epoch); !bad.empty())
      throw std::invalid_argument("ctnn::train::Trainer: " + bad);

    // Index lists: the training rows and the validation rows (of `train` when split off).
    Random rng(o_.seed);
    auto [tr, va] = hold_out(train.rows, o_.validation_split, rng);
    if (validation) {
      va.resize(validation->rows);
      std::iota(va.begin(), va.end(), std::size_t{0});
    }
    if (o_.shuffle)
      for (std::size_t e = 1; e < o_.first_epoch; ++e) shuffle(tr, rng);
    if (o_.shuffle_state && *o_.shuffle_state != rng.engine())
      throw std::invalid_argument("ctnn::train::Trainer: resuming at epoch " + std::to_string(o_.first_epoch) +
                                  ": the shuffling RNG replayed from seed " + std::to_string(o_.seed) +
                                  " differs from the checkpoint's (another seed or training set?)");
    if (tr.empty()) throw std::invalid_argument("ctnn::train::Trainer: no training rows left");
    const D& vdata = validation ? *validation : train;
    const bool has_val = !va.empty();
    if (o_.patience > 0 && !has_val)
      throw std::invalid_argument("ctnn::train::Trainer: early stopping (patience > 0) needs a validation set");
    EarlyStopping<T> own;
    EarlyStopping<T>& es = early_stopping ? *early_stopping : own;
    if (const auto bad = es.check(P, o_.first_epoch - 1); !bad.empty())
      throw std::invalid_argument("ctnn::train::Trainer: the early-stopping record given for epoch " +
                                  std::to_string(o_.first_epoch) + " does not fit: " + bad);

    const std::size_t n = tr.size(), full = n / B, ragged = n % B, per_epoch = full + (ragged ? 1 : 0);
    std::vector<double> gfull(o_.grad_norm_tolerance > 0 ? P : 0);
    RunLog log(o_.csv_path, o_.json_path, o_.first_epoch - 1, o_.validation_name);  // a resumed run continues its CSV
    fill_settings(log.settings(), n, va.size());
    Progress progress(o_.out, o_.display);
    TrainResult res;
    res.history.reserve(o_.epochs);
    res.best_epoch = es.best_epoch;
    if (es.best_epoch) res.best_val_loss = es.best_loss;
    bool stop = false;
    res.steps = o_.first_step;
    // The last checkpoint for OnNonFinite::rollback: kept at the start and after every completed
    // epoch (a copy of the parameters and optimiser state; allocated once, here).
    const bool keep_checkpoint = o_.on_non_finite == OnNonFinite::rollback;
    Checkpoint ckpt(keep_checkpoint ? P : 0, keep_checkpoint ? opt_state_size() : 0, rng);
    if (keep_checkpoint) save(ckpt, o_.first_epoch - 1, res.steps, tr, rng);
    double lr_scale = 1, last_finite_loss = 0;
    std::size_t last_finite_step = 0;

    for (std::size_t epoch = o_.first_epoch; epoch <= o_.epochs && !stop; ++epoch) {
      if (o_.shuffle) shuffle(tr, rng);
      progress.begin_epoch(epoch, o_.epochs, per_epoch);
      const auto t0 = std::chrono::steady_clock::now();
      const std::clock_t c0 = std::clock();
      double loss_sum = 0, lr = 0;
      std::size_t seen = 0, correct = 0;
      bool rolled_back = false;
      std::string note;  // the rollback line
      // Rolls back (OnNonFinite::rollback) or stops the run; the caller leaves the epoch's loop.
      const auto give_up = [&](std::string msg) {
        msg += last_finite_step ? "; last finite loss " + text::number(last_finite_loss) + " at step " +
                                      std::to_string(last_finite_step)
                                : "; no earlier step in this run";
        if (keep_checkpoint && res.rollbacks < o_.max_rollbacks) {
          restore(ckpt, res, tr, rng);
          lr_scale *= o_.rollback_lr_factor;
          ++res.rollbacks;
          note = train::rollback_note(epoch, res.rollbacks, o_.max_rollbacks, msg, ckpt.epoch, ckpt.steps, lr_scale);
          rolled_back = true;
          return;
        }
        res.stopped_by = StopCriterion::non_finite;
        res.message = msg;
        if (keep_checkpoint) res.message += " (after " + std::to_string(res.rollbacks) + " rollbacks)";
        stop = true;
      };
      for (std::size_t s = 0; s < per_epoch; ++s) {
        if (o_.stop && o_.stop->load(std::memory_order_relaxed)) {
          res.stopped_by = StopCriterion::interrupted;
          res.message = "interrupted in epoch " + std::to_string(epoch) + " after " + std::to_string(s) + " of " +
                        std::to_string(per_epoch) + " batches (that epoch abandoned)";
          stop = true;
          break;
        }
        const std::size_t rows = s < full ? B : ragged;
        gather(train, tr.data() + s * B, rows);
        std::span<T> g;
        double l;
        if (rows == B) {
          l = static_cast<double>(
              net_.template gradient_and_output<B>(loss, buf_.x.data(), buf_.y.data(), buf_.out.data()));
          g = net_.grads_mutable();
        } else {  // the ragged last batch: mean of single-sample gradients (see the top comment)
          std::fill(acc_.begin(), acc_.end(), T(0));
          const T w = T(1) / static_cast<T>(rows);
          const auto gs = net_.grads();
          l = 0;
          for (std::size_t j = 0; j < rows; ++j) {
            l += static_cast<double>(net_.template gradient_and_output<1>(
                loss, buf_.x.data() + j * In, buf_.y.data() + j * Out, buf_.out.data() + j * Out));
            for (std::size_t k = 0; k < P; ++k) acc_[k] += w * gs[k];
          }
          l /= static_cast<double>(rows);
          g = acc_.span();
        }
        const std::size_t step = res.steps + 1;
        if (auto msg = non_finite(l, g, epoch, s + 1, per_epoch, step); !msg.empty()) {
          give_up(std::move(msg));
          break;
        }
        last_finite_loss = l;
        last_finite_step = step;
        correct += buf_.correct(rows, o_.binary_threshold);
        loss_sum += l * static_cast<double>(rows);
        seen += rows;
        optim::clip_grad(g, o_.clip_norm, o_.clip_value, o_.clip_rescale);
        lr = lr_scale * sched_(o_.schedule_unit == ScheduleUnit::step ? res.steps : epoch - 1);
        opt_.step(net_.params(), std::span<const T>(g), lr);
        ++res.steps;
        progress.update(s + 1, loss_sum / static_cast<double>(seen));
        // A step from a finite gradient can still overflow the parameters (a huge learning rate);
        // the next step's loss shows it, but after an epoch's last step the evaluation and a
        // checkpoint come first: look at the parameters themselves there (once an epoch, O(P)).
        if (s + 1 == per_epoch && !kernel::all_finite(net_.params().data(), P)) {
          give_up(train::overflowed_parameters_message(step, epoch, "loss " + text::number(l) + " and gradient"));
          break;
        }
        if (o_.max_steps && res.steps >= o_.max_steps) {
          res.stopped_by = StopCriterion::max_steps;
          res.message = "reached the step limit of " + std::to_string(o_.max_steps) + " steps";
          stop = true;
          break;
        }
      }
      if (rolled_back) {  // the abandoned epoch leaves no record; go on after the checkpoint's epoch
        progress.end_epoch(note);
        epoch = ckpt.epoch;
        continue;
      }
      EpochRecord r;
      r.epoch = epoch;
      r.steps = res.steps;
      r.lr = lr;
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      r.cpu_seconds = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
      if (seen) {
        r.train_loss = loss_sum / static_cast<double>(seen);
        r.train_accuracy = static_cast<double>(correct) / static_cast<double>(seen);
      }
      res.epochs = epoch;
      if (res.stopped_by == StopCriterion::non_finite || res.stopped_by == StopCriterion::interrupted) {
        if (seen) {  // a partial epoch: its steps' record
          res.history.push_back(r);
          log.add(r);
          progress.end_epoch(line(r, has_val));
        } else {  // stopped before its first step: no epoch to report (its loss and lr do not exist)
          res.epochs = epoch - 1;
        }
        break;
      }
      const auto t1 = std::chrono::steady_clock::now();
      if (o_.grad_norm_tolerance > 0) r.grad_norm = full_gradient_norm(loss, train, tr, gfull);
      if (has_val) {
        res.validation = evaluate_rows(loss, vdata, va);
        r.val_loss = res.validation.loss;
        r.val_accuracy = res.validation.accuracy();
      }
      r.eval_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
      if (has_val && !std::isfinite(r.val_loss)) {  // the updates overflowed the outputs: as a NaN step
        give_up(train::non_finite_evaluation_message(o_.validation_name, r.val_loss, epoch,
                                                     std::span<const T>(net_.params())));
        if (rolled_back) {  // as above: no record of the abandoned epoch
          progress.end_epoch(note);
          epoch = ckpt.epoch;
          continue;
        }
      }
      res.history.push_back(r);
      log.add(r);
      progress.end_epoch(line(r, has_val));
      if (res.stopped_by == StopCriterion::non_finite) break;  // the evaluation's (above)

      if (has_val && es.update(epoch, r.val_loss, net_.params(), o_.min_delta)) {
        res.best_epoch = es.best_epoch;
        res.best_val_loss = es.best_loss;
      }
      if (stop) break;  // max_steps
      if (keep_checkpoint) save(ckpt, epoch, res.steps, tr, rng);
      if (o_.on_epoch_end) o_.on_epoch_end(epoch, res.steps, rng.engine());
      if (o_.grad_norm_tolerance > 0 && r.grad_norm < o_.grad_norm_tolerance) {
        res.stopped_by = StopCriterion::gradient_norm;
        res.message = gradient_norm_stop_message(r.grad_norm, o_.grad_norm_tolerance, epoch);
        break;
      }
      if (es.exhausted(o_.patience)) {
        res.stopped_by = StopCriterion::early_stopping;
        res.message = es.message(o_.validation_name, o_.patience);
        break;
      }
      if (epoch == o_.epochs) {
        res.stopped_by = StopCriterion::max_epochs;
        res.message = "ran the " + std::to_string(o_.epochs) + " epochs requested";
      }
    }
    if (res.message.empty()) res.message = "ran the " + std::to_string(o_.epochs) + " epochs requested";
    // With early stopping, the run returns the best epoch's parameters however it ended (patience
    // running out, the epoch or step limit, the gradient-norm criterion, a non-finite value), not
    // only when patience ran out; an interrupted run keeps its own, to be resumed.
    if (o_.patience > 0 && o_.restore_best && es.best_epoch != 0 && res.stopped_by != StopCriterion::interrupted) {
      const std::string note = es.restore_at_end(net_.params(), o_.validation_name,
                                                 res.stopped_by == StopCriterion::early_stopping,
                                                 res.stopped_by == StopCriterion::non_finite);
      if (!note.empty()) {
        res.restored_best = true;
        res.message += note;
        res.validation = evaluate_rows(loss, vdata, va);
      }
    }
    progress.message("stopped (" + std::string(to_string(res.stopped_by)) + "): " + res.message);
    log.finish(res);
    return res;
  }

  /// Loss (mean over the set) and confusion matrix of the network on a whole labelled set.
  template <LabelledData D, class Loss>
  Evaluation evaluate(const Loss& loss, const D& data) {
    check_data(data, "evaluation");
    std::vector<std::size_t> idx(data.rows);
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    return evaluate_rows(loss, data, idx);
  }

 private:
  /// What OnNonFinite::rollback puts back: the state at the end of an epoch.
  struct Checkpoint {
    Checkpoint(std::size_t params, std::size_t opt_state, const Random& r) : params(params), opt(opt_state), rng(r) {}
    std::vector<T> params, opt;
    std::uint64_t opt_steps = 0;
    std::size_t epoch = 0, steps = 0;
    std::vector<std::size_t> order;
    Random rng;
  };
  std::size_t opt_state_size() const {
    if constexpr (requires { opt_.state(); }) return opt_.state().size();
    else return 0;
  }
  void save(Checkpoint& c, std::size_t epoch, std::size_t steps, const std::vector<std::size_t>& order,
            const Random& rng) {
    std::copy(net_.params().begin(), net_.params().end(), c.params.begin());
    if constexpr (requires { opt_.state(); }) std::copy(opt_.state().begin(), opt_.state().end(), c.opt.begin());
    c.opt_steps = opt_.step_count();
    c.epoch = epoch;
    c.steps = steps;
    c.order = order;
    c.rng = rng;
  }
  void restore(const Checkpoint& c, TrainResult& res, std::vector<std::size_t>& order, Random& rng) {
    std::copy(c.params.begin(), c.params.end(), net_.params().begin());
    if constexpr (requires { opt_.state(); }) std::copy(c.opt.begin(), c.opt.end(), opt_.state().begin());
    if constexpr (requires { opt_.set_step_count(c.opt_steps); }) opt_.set_step_count(c.opt_steps);
    res.steps = c.steps;
    order = c.order;
    rng = c.rng;
  }

  static void shuffle(std::vector<std::size_t>& v, Random& rng) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
  }

  template <class D>
  static void check_data(const D& d, const char* what) {
    const std::string w = std::string("ctnn::train::Trainer: ") + what + " data: ";
    if (d.rows == 0) throw std::invalid_argument(w + "no rows");
    if (d.cols != In)
      throw std::invalid_argument(w + std::to_string(d.cols) + " features per row, the network takes " +
                                  std::to_string(In));
    if (d.labels.size() != d.rows)
      throw std::invalid_argument(w + std::to_string(d.labels.size()) + " labels for " + std::to_string(d.rows) +
                                  " rows");
    if (const auto i = first_bad_label(d, Out))
      throw std::invalid_argument(w + "row " + std::to_string(*i) + " has label " +
                                  std::to_string(static_cast<long long>(d.labels[*i])) + ", the network has " +
                                  std::to_string(K) + " classes (0.." + std::to_string(K - 1) + ")");
  }

  /// Rows idx[0..rows) into the batch buffers, their targets beside them.
  template <class D>
  void gather(const D& d, const std::size_t* idx, std::size_t rows) {
    buf_.gather(d, idx, rows);
  }

  /// "" when loss and gradient are finite; else a message naming the step and the first
  /// parameter block with a non-finite gradient entry.
  std::string non_finite(double loss, std::span<const T> g, std::size_t epoch, std::size_t batch,
                         std::size_t batches, std::size_t step) const {
    if (std::isfinite(loss) && kernel::all_finite(g.data(), P)) return {};
    std::size_t bad = P;
    for (std::size_t k = 0; k < P; ++k)
      if (!std::isfinite(static_cast<double>(g[k]))) {
        bad = k;
        break;
      }
    std::string m = "non-finite value at step " + std::to_string(step) + " (epoch " + std::to_string(epoch) +
                    ", batch " + std::to_string(batch) + "/" + std::to_string(batches) +
                    "): loss " + text::number(loss);
    if (bad == P) return m + ", gradient finite";
    std::size_t blk = 0;
    while (blk + 1 < Net::num_blocks && Net::block_offset[blk + 1] <= bad) ++blk;
    std::size_t layer = 0;  // the layer owning block blk (parameterless layers own none)
    for (std::size_t l = 0; l < Net::num_layers; ++l) {
      const std::size_t next = l + 1 < Net::num_layers ? Net::first_block(l + 1) : Net::num_blocks;
      if (Net::first_block(l) <= blk && blk < next) layer = l;
    }
    const std::size_t within = blk - Net::first_block(layer);
    const char* part = within == 0 ? "W" : within == 1 ? "b" : "block";
    return m + ", gradient " + text::number(static_cast<double>(g[bad])) + " at parameter " + std::to_string(bad) +
           " in block " + std::to_string(blk) + " = layer " + std::to_string(layer) + " " + part + " (" +
           std::to_string(Net::widths[layer + 1]) + "x" + std::to_string(Net::widths[layer]) +
           " Dense; layers counted from 0 in the network's type list); parameters not updated";
  }

  template <class Loss, class D>
  Evaluation evaluate_rows(const Loss& loss, const D& d, const std::vector<std::size_t>& idx) {
    return train::evaluate_rows<B>(net_, loss, d, std::span<const std::size_t>(idx), o_.binary_threshold, buf_);
  }

  /// ||gradient of the mean loss over the training rows|| (train::accumulate_gradient).
  template <class Loss, class D>
  double full_gradient_norm(const Loss& loss, const D& d, const std::vector<std::size_t>& idx,
                            std::vector<double>& acc) {
    std::fill(acc.begin(), acc.end(), 0.0);
    train::accumulate_gradient<B>(net_, loss, d, std::span<const std::size_t>(idx), static_cast<double>(idx.size()),
                                  buf_, std::span<double>(acc));
    return optim::global_norm(std::span<const double>(acc));
  }

  std::string line(const EpochRecord& r, bool has_val) const {
    char b[320];
    int k = std::snprintf(b, sizeof b, "epoch %zu/%zu  loss %.4f  acc %.4f", r.epoch, o_.epochs, r.train_loss,
                          r.train_accuracy);
    if (has_val && std::isfinite(r.val_accuracy))  // evaluated (its loss may be inf or nan: shown as such)
      k += std::snprintf(b + k, sizeof b - static_cast<std::size_t>(k), "  %s_loss %.4f  %s_acc %.4f",
                         o_.validation_name.c_str(), r.val_loss, o_.validation_name.c_str(), r.val_accuracy);
    if (std::isfinite(r.grad_norm))
      k += std::snprintf(b + k, sizeof b - static_cast<std::size_t>(k), "  grad_norm %.3g", r.grad_norm);
    std::snprintf(b + k, sizeof b - static_cast<std::size_t>(k), "  lr %.3g  %.2f s (cpu %.2f s; +%.2f s eval)", r.lr,
                  r.seconds, r.cpu_seconds, r.eval_seconds);
    return b;
  }

  void fill_settings(nlohmann::json& s, std::size_t n_train, std::size_t n_val) const {
    std::vector<std::size_t> widths(Net::widths.begin(), Net::widths.end());
    s = {{"batch", B},
         {"widths", widths},
         {"num_params", P},
         {"epochs", o_.epochs},
         {"max_steps", o_.max_steps},
         {"seed", o_.seed},
         {"train_rows", n_train},
         {"validation_rows", n_val},
         {"clip_norm", o_.clip_norm},
         {"clip_value", o_.clip_value},
         {"grad_norm_tolerance", o_.grad_norm_tolerance},
         {"patience", o_.patience},
         {"min_delta", o_.min_delta},
         {"schedule_unit", o_.schedule_unit == ScheduleUnit::step ? "step" : "epoch"}};
  }

  Net& net_;
  Opt& opt_;
  Sched sched_;
  TrainerOptions o_;
  BatchBuffers<Net, B> buf_;
  AlignedBuffer<T> acc_;
};

/// Trainer<B> with the template arguments after B deduced.
template <std::size_t B, class Net, class Opt, optim::Schedule Sched>
Trainer<B, Net, Opt, Sched> make_trainer(Net& net, Opt& opt, Sched schedule, TrainerOptions o = {}) {
  return Trainer<B, Net, Opt, Sched>(net, opt, std::move(schedule), std::move(o));
}
template <std::size_t B, class Net, class Opt>
Trainer<B, Net, Opt> make_trainer(Net& net, Opt& opt, TrainerOptions o = {}) {
  return Trainer<B, Net, Opt>(net, opt, std::move(o));
}

}  // namespace ctnn::train
