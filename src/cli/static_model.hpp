// src/cli/static_model.hpp: a compiled preset network driven by the Trainer
// (train/trainer.hpp) with the tool's optimiser and schedule (optimizer.hpp), checkpointing after
// every epoch and resuming from a checkpoint. The batch size is a template argument: a preset is
// compiled for the batch sizes Bs... (each preset_*.cpp instantiates one of these).
// Layer: tool (src/cli; uses nn/, train/, io/).
#pragma once
#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include "cli/model.hpp"
#include "cli/optimizer.hpp"
#include "ctnn/ctnn.hpp"
#include "ctnn/train/trainer.hpp"
#if CTNN_CLI_MPI
#include <type_traits>

#include "cli/data_parallel.hpp"
#endif

namespace ctnn::cli {

/// The batch sizes every preset is compiled for (each one adds ~7 s to a preset's compile; a JSON
/// topology takes any batch size).
#define CTNN_CLI_PRESET_BATCHES 32, 64

template <class Net, std::size_t... Bs>
class StaticModel final : public Model {
  static_assert(Net::outputs > 1, "ctnn tool presets are classifiers with one logit per class");

 public:
  explicit StaticModel(std::uint64_t seed) : net_(std::make_unique<Net>(seed)) {}
  io::ModelSpec spec() const override { return io::model_spec<Net>(); }
  std::size_t inputs() const override { return Net::inputs; }
  std::size_t outputs() const override { return Net::outputs; }
  std::span<float> params() override { return net_->params(); }
  bool supports_batch(std::size_t b) const override { return ((b == Bs) || ...); }
  std::string batch_sizes() const override {
    std::string s;
    ((s += (s.empty() ? "" : ", ") + std::to_string(Bs)), ...);
    return s;
  }

  TrainReport train(const TrainSettings& s, const io::Dataset& tr, const io::Dataset* te) override {
    TrainReport r;
    const bool ran = ((s.batch == Bs && (r = train_with<Bs>(s, tr, te), true)) || ...);
    if (!ran) throw std::invalid_argument("batch size " + std::to_string(s.batch) + " is not compiled");
    return r;
  }
#if CTNN_CLI_MPI
  TrainReport train_data_parallel(const TrainSettings& s, const io::Dataset& tr, const io::Dataset* te) override {
    TrainReport r;
    const bool ran = ((s.batch == Bs && (r = data_parallel_with<Bs>(s, tr, te), true)) || ...);
    if (!ran) throw std::invalid_argument("batch size " + std::to_string(s.batch) + " is not compiled");
    return r;
  }
#endif
  train::Evaluation evaluate(const io::Dataset& d) override {
    constexpr std::size_t B = first();
    AnyOptimizer<float> opt(0, OptimizerSettings{});
    train::TrainerOptions to;
    to.display = train::Display::none;
    auto t = train::make_trainer<B>(*net_, opt, AnySchedule{optim::ConstantLR{0}}, to);
    return t.evaluate(loss::softmax_cross_entropy, d);
  }
  std::vector<float> predict(const io::Dataset& d) override {
    constexpr std::size_t B = first(), Out = Net::outputs;
    std::vector<float> out(d.rows * Out);
    std::size_t i = 0;
    for (; i + B <= d.rows; i += B) net_->template forward<B>(d.row(i), out.data() + i * Out);
    for (; i < d.rows; ++i) net_->template forward<1>(d.row(i), out.data() + i * Out);
    softmax_rows(out, Out);
    return out;
  }

 private:
  static constexpr std::size_t first() {
    constexpr std::size_t b[] = {Bs...};
    return b[0];
  }

  template <std::size_t B>
  TrainReport train_with(const TrainSettings& s, const io::Dataset& tr, const io::Dataset* te) {
    AnyOptimizer<float> opt(Net::num_params, s.optimizer);
    const auto sp = spec();
    train::TrainerOptions to;
    put_loop_flags(to, s);
    to.schedule_unit = train::ScheduleUnit::epoch;
    to.display = s.display;
    to.csv_path = s.log;
    train::EarlyStopping<float> es;  // the checkpoints carry it with --patience
    train::EarlyStopping<float>* kept = s.patience ? &es : nullptr;
    if (!s.resume.empty()) {
      const auto meta = load_tool_checkpoint(s.resume, sp, net_->params(), opt.state(), s, kept);
      opt.set_step_count(meta.step);
      to.first_epoch = static_cast<std::size_t>(meta.epoch) + 1;
      to.first_step = static_cast<std::size_t>(meta.step);
      to.shuffle_state = meta.rng;
    }
    std::size_t completed = to.first_epoch - 1;
    to.on_epoch_end = [&](std::size_t epoch, std::size_t steps, const std::mt19937_64& rng) {
      completed = epoch;
      if (s.checkpoint.empty()) return;
      save_tool_checkpoint(s.checkpoint, sp, net_->params(), opt.state(),
                           io::CheckpointMeta{steps, epoch, epoch, rng}, s, kept);
    };
    auto t = train::make_trainer<B>(*net_, opt, make_schedule(s.schedule, s.optimizer.lr, s.epochs), to);
    train::TrainResult res;
    try {
      res = t.fit(loss::softmax_cross_entropy, tr, te, &es);
    } catch (const std::invalid_argument& e) {  // the data were checked: a checkpoint of another run
      if (s.resume.empty()) throw;
      throw io::DataError(s.resume + ": " + e.what(), s.resume);
    }
    TrainReport r = report_of(res, completed, te != nullptr);
    note_kept_epoch(s, es, r);  // --patience: the Trainer ended on the best epoch's parameters
    return r;
  }

#if CTNN_CLI_MPI
  template <std::size_t B>
  TrainReport data_parallel_with(const TrainSettings& s, const io::Dataset& tr, const io::Dataset* te) {
    dist::CompiledReplica<B, Net, std::remove_cvref_t<decltype(loss::softmax_cross_entropy)>> replica(
        *net_, loss::softmax_cross_entropy);
    return run_data_parallel(replica, spec(), s, tr, te);
  }
#endif

  std::unique_ptr<Net> net_;
};

}  // namespace ctnn::cli
