// src/cli/data_parallel.hpp: `ctnn train --data-parallel` for any network the tool trains: a compiled
// preset (dist::CompiledReplica) or a JSON topology (dist::RuntimeReplica) goes through
// dist::train_data_parallel with the tool's optimiser and schedule, its checkpoints
// (dist_checkpoint.hpp) and its log; process 0 prints a line per epoch and writes the --log.
// Layer: tool (src/cli; uses dist/, train/, io/). Included only when the tool is built with MPI.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "cli/dist_checkpoint.hpp"
#include "cli/model.hpp"
#include "cli/optimizer.hpp"
#include "ctnn/dist/data_parallel.hpp"

namespace ctnn::cli {

/// Trains `replica` over the MPI processes (every one calls this with the same arguments). The tool's
/// schedules count epochs: the step-counting loop gets schedule(step / steps per epoch). The monitored
/// set is the validation set; `threshold`: a one-output network's class-1 boundary on its output (0.5
/// on a probability, 0 on a logit).
template <class R>
TrainReport run_data_parallel(R& replica, const io::ModelSpec& sp, const TrainSettings& s, const io::Dataset& tr,
                              const io::Dataset* te, double threshold = 0.5) {
  const dist::Comm comm;
  const bool lead = comm.rank() == 0;
  AnyOptimizer<float> opt(replica.num_params(), s.optimizer);
  dist::ReducerOptions ro;
  ro.compression = s.dist.compress == "top-k" ? dist::Compression::top_k
                   : s.dist.compress == "sign" ? dist::Compression::sign
                                               : dist::Compression::none;
  ro.ratio = s.dist.ratio;
  ro.error_feedback = s.dist.error_feedback;
  dist::GradientReducer<float> reducer(comm, replica.num_params(), ro);
  const std::size_t per_epoch = std::max<std::size_t>(1, tr.rows / (replica.batch() * std::size_t(comm.size())));
  const auto sched = make_schedule(s.schedule, s.optimizer.lr, s.epochs);
  const auto by_epoch = [&](std::size_t step) { return sched(step / per_epoch); };
  dist::DataParallelOptions o;
  put_loop_flags(o, s);
  o.binary_threshold = threshold;
  o.on_rollback = [&](const std::string& note) {
    if (!lead || s.display == train::Display::none) return;
    std::printf("%s\n", note.c_str());
    std::fflush(stdout);
  };
  const bool remainder = ro.compression != dist::Compression::none && ro.error_feedback;
  train::EarlyStopping<float> es;  // the checkpoints carry it with --patience
  train::EarlyStopping<float>* kept = s.patience ? &es : nullptr;
  if (!s.resume.empty()) {
    const DistCheckpoint from{comm, sp, s.resume, s, remainder};
    const auto meta = from.load(replica.params(), opt.state(), reducer.residual_mutable(), kept);
    opt.set_step_count(meta.step);
    o.first_epoch = static_cast<std::size_t>(meta.epoch) + 1;
    o.first_step = static_cast<std::size_t>(meta.step);
  }
  train::RunLog log(lead ? s.log : std::string(), "", o.first_epoch - 1, s.monitor_name);  // resumed: continues it
  std::size_t completed = o.first_epoch - 1;
  o.on_epoch_end = [&](const train::EpochRecord& e) {
    // An epoch cut short by --max-steps is printed and logged, not checkpointed (as the Trainer does).
    const bool step_limited = s.max_steps && e.steps >= s.max_steps;
    if (!step_limited) completed = e.epoch;
    if (!s.checkpoint.empty() && !step_limited) {
      const DistCheckpoint to{comm, sp, s.checkpoint, s, remainder};
      to.save(replica.params(), opt.state(), reducer.residual(), e.steps, e.epoch, kept);
    }
    if (!lead) return;
    log.add(e);
    if (s.display == train::Display::none) return;
    std::printf("epoch %zu/%zu  loss %.4f  acc %.4f", e.epoch, s.epochs, e.train_loss, e.train_accuracy);
    if (te)
      std::printf("  %s_loss %.4f  %s_acc %.4f", s.monitor_name.c_str(), e.val_loss, s.monitor_name.c_str(),
                  e.val_accuracy);
    std::printf("  lr %.3g  %.2f s (+%.2f s eval)\n", e.lr, e.seconds, e.eval_seconds);
    std::fflush(stdout);
  };
  const auto res = dist::train_data_parallel(replica, opt, tr, te, reducer, o, by_epoch, &es);
  if (lead) {
    log.finish(res);
    char ratio[64] = "dense";
    if (ro.compression != dist::Compression::none)
      std::snprintf(ratio, sizeof ratio, "%.1fx fewer bytes than dense",
                    static_cast<double>(res.dense_bytes) / static_cast<double>(std::max<std::uint64_t>(1, res.bytes_sent)));
    std::printf("data-parallel over %d processes: %s; each sent %.4g MB (%s), replicas %s\n", comm.size(),
                res.message.c_str(), static_cast<double>(res.bytes_sent) / 1e6, ratio,
                res.replicas_agree ? "equal" : "DIFFER");
  }
  if (!res.replicas_agree)
    throw std::runtime_error("data-parallel training ended with different parameters on the processes");
  TrainReport r = report_of(res, completed, te != nullptr);
  note_kept_epoch(s, es, r);  // --patience: the engine ended on the best epoch's parameters
  return r;
}

}  // namespace ctnn::cli
