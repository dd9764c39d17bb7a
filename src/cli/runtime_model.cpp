// src/cli/runtime_model.cpp: a network from a JSON topology (nn/runtime_network.hpp, the runtime
// tape) behind the tool's Model interface. The Trainer needs compile-time sizes, so this file has
// its own small epoch loop, kept to the Trainer's conventions: the same seeded shuffle (Random,
// Fisher-Yates from the end), batches in that order with the ragged last batch used as one smaller
// batch, the optimiser and epoch schedule of optimizer.hpp, a stop flag checked before each batch,
// NaN/Inf stops naming the step, a checkpoint after every completed epoch, Progress and RunLog.
// --data-parallel goes through dist::train_data_parallel (cli/data_parallel.hpp), as a preset does.
// Layer: tool (src/cli; uses nn/runtime_network.hpp, optim/, train/, io/).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <numeric>
#include <stdexcept>

#include "cli/model.hpp"
#include "cli/optimizer.hpp"
#include "ctnn/core/text.hpp"
#include "ctnn/io/json_file.hpp"
#include "ctnn/io/runtime_model.hpp"
#include "ctnn/kernel/reduce.hpp"
#include "ctnn/nn/runtime_network.hpp"
#include "ctnn/optim/clip.hpp"
#include "ctnn/train/progress.hpp"
#include "ctnn/train/runtime_evaluate.hpp"
#if CTNN_CLI_MPI
#include "cli/data_parallel.hpp"
#include "ctnn/dist/runtime_replica.hpp"
#endif

namespace ctnn::cli {
namespace {

class RuntimeModel final : public Model {
 public:
  RuntimeModel(RuntimeNetwork<float> net, RuntimeLoss loss, std::string loss_json)
      : net_(std::move(net)), loss_(loss), loss_json_(std::move(loss_json)) {
    probabilities_ = net_.activations().back() == RuntimeActivation::softmax;
    binary_logit_ = net_.outputs() == 1 && net_.activations().back() == RuntimeActivation::identity;
  }
  io::ModelSpec spec() const override { return io::runtime_model_spec(net_); }
  std::size_t inputs() const override { return net_.inputs(); }
  std::size_t outputs() const override { return net_.outputs(); }
  std::size_t classes() const override { return std::max<std::size_t>(2, net_.outputs()); }
  std::string loss_json() const override { return loss_json_; }
  std::span<float> params() override { return net_.params(); }
  bool supports_batch(std::size_t b) const override { return b > 0; }
  std::string batch_sizes() const override { return "any"; }

  TrainReport train(const TrainSettings& s, const io::Dataset& tr, const io::Dataset* te) override {
    const std::size_t n = tr.rows, B = s.batch, P = net_.num_params();
    const std::size_t per_epoch = (n + B - 1) / B;
    AnyOptimizer<float> opt(P, s.optimizer);
    const AnySchedule sched = make_schedule(s.schedule, s.optimizer.lr, s.epochs);
    const auto sp = spec();
    Random rng(s.seed);
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    auto shuffle = [&] {
      for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    };
    std::size_t first_epoch = 1, steps = 0;
    train::EarlyStopping<float> es;  // the best epoch by the monitored loss; checkpointed with --patience
    train::EarlyStopping<float>* kept = s.patience ? &es : nullptr;
    if (!s.resume.empty()) {  // as the Trainer: replay the earlier epochs' shuffles, check the RNG
      const auto meta = load_tool_checkpoint(s.resume, sp, net_.params(), opt.state(), s, kept);
      opt.set_step_count(meta.step);
      first_epoch = static_cast<std::size_t>(meta.epoch) + 1;
      steps = static_cast<std::size_t>(meta.step);
      for (std::size_t e = 1; e < first_epoch; ++e) shuffle();
      if (rng.engine() != *meta.rng)
        throw io::DataError(s.resume + ": the shuffling RNG replayed from --seed " + std::to_string(s.seed) +
                                " differs from the checkpoint's (another seed or training set?)",
                            s.resume);
    }
    train::RuntimeBatch<float> buf(net_, B);
    train::RunLog log(s.log, "", first_epoch - 1, s.monitor_name);  // a resumed run continues its log
    train::Progress progress(stdout, s.display);
    TrainReport r;
    r.epochs = first_epoch - 1;
    r.message = "ran the " + std::to_string(s.epochs) + " epochs requested";
    auto why = train::StopCriterion::max_epochs;
    // --on-nan rollback (as the Trainer's OnNonFinite::rollback): the state after the last
    // completed epoch, kept in memory (it is what the checkpoint file holds).
    struct Saved {
      std::vector<float> params, opt;
      std::uint64_t opt_steps = 0;
      std::size_t epoch = 0, steps = 0;
      std::vector<std::size_t> order;
      Random rng{0};
    } saved;
    auto save_state = [&](std::size_t epoch) {
      saved.params.assign(net_.params().begin(), net_.params().end());
      saved.opt.assign(opt.state().begin(), opt.state().end());
      saved.opt_steps = opt.step_count();
      saved.epoch = epoch;
      saved.steps = steps;
      saved.order = order;
      saved.rng = rng;
    };
    // --patience, as the Trainer and dist: the run ends on the best epoch's parameters however it ends
    // (patience running out, the epoch or step limit, the gradient-norm criterion, a NaN/Inf stop), but
    // an interruption (the checkpoint is resumed from); the stop line says so when they are not the last.
    auto keep_best = [&](train::StopCriterion why_stopped) {
      if (!s.patience || es.best_epoch == 0) return;
      const std::string note =
          es.restore_at_end(net_.params(), s.monitor_name, why_stopped == train::StopCriterion::early_stopping,
                            why_stopped == train::StopCriterion::non_finite);
      if (note.empty()) return;
      r.message += note;
      r.monitored_accuracy = evaluate(*te).accuracy();
    };
    constexpr std::size_t max_rollbacks = 3;
    std::size_t rollbacks = 0;
    double lr_scale = 1, last_finite_loss = 0;
    std::size_t last_finite_step = 0;
    if (s.rollback_on_nan) save_state(first_epoch - 1);
    for (std::size_t epoch = first_epoch; epoch <= s.epochs; ++epoch) {
      shuffle();
      progress.begin_epoch(epoch, s.epochs, per_epoch);
      const auto t0 = std::chrono::steady_clock::now();
      const std::clock_t c0 = std::clock();
      const double lr = lr_scale * sched(epoch - 1);
      double loss_sum = 0;
      std::size_t seen = 0, correct = 0;
      bool rolled_back = false, step_limit = false;
      // Rolls back (true: leave the epoch's loop) or ends the run (false: return r).
      const auto recover = [&](std::string msg) {
        msg += last_finite_step ? "; last finite loss " + text::number(last_finite_loss) + " at step " +
                                      std::to_string(last_finite_step)
                                : "; no earlier step in this run";
        if (s.rollback_on_nan && rollbacks < max_rollbacks) {
          std::copy(saved.params.begin(), saved.params.end(), net_.params().begin());
          std::copy(saved.opt.begin(), saved.opt.end(), opt.state().begin());
          opt.set_step_count(saved.opt_steps);
          steps = saved.steps;
          order = saved.order;
          rng = saved.rng;
          lr_scale *= 0.5;
          ++rollbacks;
          progress.end_epoch(
              train::rollback_note(epoch, rollbacks, max_rollbacks, msg, saved.epoch, saved.steps, lr_scale));
          rolled_back = true;
          return true;
        }
        r.exit = exit_diverged;
        r.message = msg + (s.rollback_on_nan ? " (after " + std::to_string(rollbacks) + " rollbacks)" : "");
        keep_best(train::StopCriterion::non_finite);
        progress.message("stopped (non_finite): " + r.message);
        return false;
      };
      for (std::size_t b = 0; b < per_epoch; ++b) {
        if (s.stop && s.stop->load(std::memory_order_relaxed)) {
          progress.message("stopped (interrupted): in epoch " + std::to_string(epoch) + " after " +
                           std::to_string(b) + " of " + std::to_string(per_epoch) + " batches (that epoch abandoned)");
          r.exit = exit_interrupted;
          r.message = "interrupted in epoch " + std::to_string(epoch);
          return r;
        }
        const std::size_t rows = std::min(B, n - b * B);
        buf.gather(tr, order.data() + b * B, rows);
        // the batch's outputs come with its gradient (the training accuracy, as the Trainer counts it)
        const double l = net_.gradient_and_output(loss_, rows, buf.x.data(), buf.y.data(), buf.o.data());
        const auto g = net_.grads_mutable();
        ++steps;
        if (!std::isfinite(l) || !kernel::all_finite(g.data(), g.size())) {
          if (recover("non-finite value at step " + std::to_string(steps) + " (epoch " + std::to_string(epoch) +
                      ", batch " + std::to_string(b + 1) + "/" + std::to_string(per_epoch) + "): loss " +
                      std::to_string(l) + "; parameters not updated"))
            break;
          return r;
        }
        last_finite_loss = l;
        last_finite_step = steps;
        correct += buf.correct(rows, threshold());
        optim::clip_grad(g, s.clip_norm, s.clip_value);
        opt.step(net_.params(), std::span<const float>(g), lr);
        loss_sum += l * static_cast<double>(rows);
        seen += rows;
        progress.update(b + 1, loss_sum / static_cast<double>(seen));
        // A finite gradient can still overflow the parameters; the next step would show it, but after
        // an epoch's last step the evaluation, a checkpoint or the saved model come first (as the Trainer).
        if (b + 1 == per_epoch && !kernel::all_finite(net_.params().data(), net_.params().size())) {
          if (recover(train::overflowed_parameters_message(steps, epoch, "loss " + text::number(l) + " and gradient")))
            break;
          return r;
        }
        if (s.max_steps && steps >= s.max_steps) {  // as the Trainer: the partial epoch is recorded, not saved
          why = train::StopCriterion::max_steps;
          r.message = "reached the step limit of " + std::to_string(s.max_steps) + " steps";
          step_limit = true;
          break;
        }
      }
      if (rolled_back) {
        epoch = saved.epoch;  // the loop's ++ continues after the restored epoch
        continue;
      }
      if (seen == 0) break;  // no step ran in this epoch: no line, no log row (as the Trainer and dist)
      train::EpochRecord rec;
      rec.epoch = epoch;
      rec.steps = steps;
      rec.lr = lr;
      rec.train_loss = loss_sum / static_cast<double>(seen);
      rec.train_accuracy = static_cast<double>(correct) / static_cast<double>(seen);
      rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      rec.cpu_seconds = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
      const auto t1 = std::chrono::steady_clock::now();
      if (s.grad_norm_tol > 0) rec.grad_norm = training_gradient_norm(tr, B);
      if (te) {
        const auto e = evaluate(*te);
        rec.val_loss = e.loss;
        rec.val_accuracy = e.accuracy();
        r.monitored_accuracy = e.accuracy();
        if (std::isfinite(e.loss)) es.update(epoch, e.loss, net_.params(), s.min_delta);
      }
      rec.eval_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
      // A non-finite evaluation though every step was finite: the updates overflowed the outputs (as a
      // NaN step: a rollback when asked, else the run ends after this epoch's line).
      const bool eval_bad = te && !std::isfinite(rec.val_loss);
      const std::string eval_msg =
          eval_bad ? train::non_finite_evaluation_message(s.monitor_name, rec.val_loss, epoch,
                                                          std::span<const float>(net_.params()))
                   : std::string();
      if (eval_bad && s.rollback_on_nan && rollbacks < max_rollbacks && recover(eval_msg)) {
        epoch = saved.epoch;  // the abandoned epoch leaves no line or log row
        continue;
      }
      // The Trainer's epoch line, column for column.
      char line[320];
      int k = std::snprintf(line, sizeof line, "epoch %zu/%zu  loss %.4f  acc %.4f", epoch, s.epochs, rec.train_loss,
                            rec.train_accuracy);
      if (te)
        k += std::snprintf(line + k, sizeof line - static_cast<std::size_t>(k), "  %s_loss %.4f  %s_acc %.4f",
                           s.monitor_name.c_str(), rec.val_loss, s.monitor_name.c_str(), rec.val_accuracy);
      if (s.grad_norm_tol > 0)
        k += std::snprintf(line + k, sizeof line - static_cast<std::size_t>(k), "  grad_norm %.3g", rec.grad_norm);
      std::snprintf(line + k, sizeof line - static_cast<std::size_t>(k), "  lr %.3g  %.2f s (cpu %.2f s; +%.2f s eval)",
                    lr, rec.seconds, rec.cpu_seconds, rec.eval_seconds);
      log.add(rec);
      progress.end_epoch(line);
      if (eval_bad) {
        r.epochs = epoch;
        recover(eval_msg);  // no rollback left: ends the run
        return r;
      }
      if (step_limit) break;
      r.epochs = epoch;
      if (s.rollback_on_nan) save_state(epoch);
      if (!s.checkpoint.empty())
        save_tool_checkpoint(s.checkpoint, sp, net_.params(), opt.state(),
                             io::CheckpointMeta{steps, epoch, epoch, rng.engine()}, s, kept);
      if (s.grad_norm_tol > 0 && rec.grad_norm < s.grad_norm_tol) {
        why = train::StopCriterion::gradient_norm;
        r.message = train::gradient_norm_stop_message(rec.grad_norm, s.grad_norm_tol, epoch);
        break;
      }
      if (es.exhausted(s.patience)) {  // as the Trainer: the best epoch's parameters are put back (keep_best)
        why = train::StopCriterion::early_stopping;
        r.message = es.message(s.monitor_name, s.patience);
        break;
      }
    }
    keep_best(why);
    progress.message("stopped (" + std::string(train::to_string(why)) + "): " + r.message);
    note_kept_epoch(s, es, r);  // the tool's report: which epoch's parameters the run ended on
    return r;
  }

#if CTNN_CLI_MPI
  /// --data-parallel: the runtime network through the engine that trains the presets
  /// (dist::RuntimeReplica); a one-output logit network's class boundary is a logit of 0.
  TrainReport train_data_parallel(const TrainSettings& s, const io::Dataset& tr, const io::Dataset* te) override {
    dist::RuntimeReplica<float> replica(net_, loss_, s.batch);
    return run_data_parallel(replica, spec(), s, tr, te, threshold());
  }
#endif

  /// The L2 norm of the mean loss's gradient over the whole training set (the Trainer's convergence
  /// criterion: each batch's mean gradient weighted by its share of the rows). Leaves grads() overwritten.
  double training_gradient_norm(const io::Dataset& d, std::size_t B) {
    train::RuntimeBatch<float> buf(net_, B);
    std::vector<double> acc(net_.num_params(), 0.0);
    train::accumulate_gradient(net_, loss_, d, std::span<const std::size_t>(all_rows(d)), static_cast<double>(d.rows),
                               buf, std::span<double>(acc));
    return optim::global_norm(std::span<const double>(acc));
  }

  train::Evaluation evaluate(const io::Dataset& d) override {
    train::RuntimeBatch<float> buf(net_, 64);
    train::Evaluation e;
    e.confusion = train::ConfusionMatrix(classes());
    double sum = 0;
    train::accumulate_evaluation(net_, loss_, d, std::span<const std::size_t>(all_rows(d)), threshold(), buf, sum,
                                 e.confusion);
    e.loss = sum / static_cast<double>(d.rows);
    return e;
  }

  std::vector<float> predict(const io::Dataset& d) override {
    std::vector<float> out(d.rows * outputs());
    if (d.rows) net_.forward(d.rows, d.row(0), out.data());
    if (outputs() == 1) {  // 1 - p, p
      std::vector<float> two(2 * d.rows);
      for (std::size_t i = 0; i < d.rows; ++i) {
        const float p = probability(out[i]);
        two[2 * i] = 1.0f - p;
        two[2 * i + 1] = p;
      }
      return two;
    }
    if (!probabilities_) softmax_rows(out, outputs());
    return out;
  }

 private:
  /// A one-output network's p(class 1): its output after a sigmoid, the logistic of its logit after
  /// an identity (the two one-output forms make_runtime_model accepts).
  float probability(float out) const {
    return binary_logit_ ? static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(out)))) : out;
  }
  /// A one-output network's class-1 boundary on its output: a probability above 0.5, a logit above 0.
  double threshold() const { return binary_logit_ ? 0.0 : 0.5; }
  static std::vector<std::size_t> all_rows(const io::Dataset& d) {
    std::vector<std::size_t> idx(d.rows);
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    return idx;
  }

  RuntimeNetwork<float> net_;
  RuntimeLoss loss_;
  std::string loss_json_;
  bool probabilities_ = false;
  bool binary_logit_ = false;  // one output, an identity last: a logit
};

/// Softmax cross-entropy on logits, cross-entropy after a softmax; one output: binary cross-entropy
/// on its probability (sigmoid) or its logit (identity).
RuntimeLoss default_loss(const RuntimeNetwork<float>& net) {
  const auto last = net.activations().back();
  if (net.outputs() == 1) return RuntimeLoss::named(last == RuntimeActivation::sigmoid ? "bce_prob" : "bce_logits");
  return RuntimeLoss::named(last == RuntimeActivation::softmax ? "ce_prob" : "softmax_ce_logits");
}

/// The tool's classifiers: one output per class (2 or more), or one output for two classes, read as a
/// probability (after a sigmoid: the binary cross-entropy on it, or a squared error or Huber loss to
/// the 0/1 label) or as a logit (after an identity: the binary cross-entropy on logits). With one
/// output per class the loss must fit the last activation: a loss on probabilities (ce_prob; bce_prob)
/// after a softmax (bce_prob: or a sigmoid), a softmax loss on logits not after a softmax (it applies
/// one itself), and one class weight per output. Throws std::invalid_argument naming `where` (the file)
/// and `loss_where` (its loss object) otherwise, before any step.
void check_classifier(const RuntimeNetwork<float>& net, const RuntimeLoss& loss, const std::string& where,
                      const std::string& loss_where) {
  using K = RuntimeLoss::Kind;
  const auto last = net.activations().back();
  if (net.outputs() != 1) {
    const std::string after = std::string("the last activation is ") + std::string(runtime_activation_name(last));
    const bool weighted = loss.weighted();
    if (loss.kind == K::ce_prob && last != RuntimeActivation::softmax)
      throw std::invalid_argument(loss_where + ": ce_prob (cross_entropy) takes probabilities: a probability loss "
                                  "needs a softmax output, " + after + " (softmax_ce_logits takes its logits)");
    if (loss.kind == K::bce_prob && last != RuntimeActivation::softmax && last != RuntimeActivation::sigmoid)
      throw std::invalid_argument(loss_where + ": bce_prob takes probabilities: it needs a sigmoid or softmax "
                                  "output, " + after);
    if ((loss.kind == K::softmax_ce_logits || weighted) && last == RuntimeActivation::softmax)
      throw std::invalid_argument(loss_where + ": the softmax losses on logits apply a softmax themselves: after a "
                                  "softmax layer it would be applied twice (end with identity, or use ce_prob on the "
                                  "softmax's probabilities)");
    if (weighted && loss.class_weights.size() != net.outputs())
      throw std::invalid_argument(loss_where + ".class_weights: " + std::to_string(loss.class_weights.size()) +
                                  " weights for " + std::to_string(net.outputs()) + " outputs (one per class)");
    return;
  }
  const bool on_probability = loss.kind == K::bce_prob || loss.kind == K::mse_half_sum ||
                              loss.kind == K::mse_mean || loss.kind == K::huber;
  if (last == RuntimeActivation::sigmoid) {
    if (!on_probability)
      throw std::invalid_argument(where + ": one sigmoid output is the probability of class 1: its loss must be "
                                  "bce_prob, mse_mean, mse_half_sum or huber");
  } else if (last == RuntimeActivation::identity) {
    if (loss.kind != K::bce_logits)
      throw std::invalid_argument(where + ": one identity output is the logit of class 1: its loss must be bce_logits");
  } else {
    throw std::invalid_argument(where + ": one output classifies two classes after a sigmoid (a probability) or "
                                "an identity (a logit), not after " + std::string(runtime_activation_name(last)));
  }
}

}  // namespace

std::unique_ptr<Model> make_runtime_model(const std::string& topology_file, std::uint64_t seed) {
  const nlohmann::json j = io::read_json_file(topology_file);  // DataError: file:line:column for a syntax error
  if (j.is_object() && j.contains("format"))
    throw io::DataError(topology_file + ": a model file (\"format\": " + j["format"].dump() +
                            "), not a topology: eval and predict take it as --model; --topology takes "
                            "{\"layer_sizes\": [...], \"activations\": [...], \"loss\"?: {...}}",
                        topology_file);
  try {
    // RuntimeNetwork::from_json reads its keys and leaves the rest (it also reads the reference
    // figures' files); a topology file holds nothing else, so a misspelt optional key is an error.
    const auto only = [&](const nlohmann::json& o, const std::string& where, const char* what,
                          std::initializer_list<const char*> keys) {
      if (!o.is_object()) return;
      for (const auto& [k, v] : o.items())
        if (std::find_if(keys.begin(), keys.end(), [&](const char* n) { return k == n; }) == keys.end()) {
          std::string names;
          for (const char* n : keys) names += std::string(names.empty() ? "" : ", ") + n;
          throw std::invalid_argument(where + "." + k + ": unknown key (" + what + " has " + names + ")");
        }
    };
    only(j, topology_file, "a topology",
         {"layer_sizes", "activations", "loss", "leaky_relu_negative_slope", "layers", "param_count"});
    if (j.contains("loss"))
      only(j["loss"], topology_file + ".loss", "a loss", {"type", "class_weights", "delta", "l2_lambda"});
    auto net = RuntimeNetwork<float>::from_json(j, topology_file, seed);
    const RuntimeLoss loss = j.contains("loss") ? RuntimeLoss::from_json(j["loss"], topology_file + ".loss") : default_loss(net);
    check_classifier(net, loss, topology_file, topology_file + ".loss");
    return std::make_unique<RuntimeModel>(std::move(net), loss, j.contains("loss") ? j["loss"].dump() : "");
  } catch (const std::invalid_argument& e) {
    throw io::DataError(e.what(), topology_file);
  }
}

std::unique_ptr<Model> make_runtime_model(const io::ModelSpec& spec, const std::string& loss_json) {
  const io::RuntimeTopology topo = io::runtime_topology(spec);
  RuntimeNetwork<float> net(topo.layer_sizes, topo.activations, topo.leaky_slope);
  const RuntimeLoss loss =
      loss_json.empty() ? default_loss(net) : RuntimeLoss::from_json(nlohmann::json::parse(loss_json), "/ctnn_tool/loss");
  check_classifier(net, loss, "the model", "/ctnn_tool/loss");
  return std::make_unique<RuntimeModel>(std::move(net), loss, loss_json);
}

}  // namespace ctnn::cli
