// ctnn/dist/data_parallel.hpp: data-parallel training over MPI, with optional gradient compression.
//
// Every rank holds the same network and optimiser and reads the same training set; each step
// takes a global batch of B x size rows from one seeded shuffled order (the same on every rank),
// rank r computes the mean-loss gradient of its B rows (the network's compile-time batch), and
// the GradientReducer makes every rank's gradient the mean over ranks -- exactly by an allreduce
// of the whole buffer, or from each rank's compressed gradient (ctnn/dist/compress.hpp, with error
// feedback: its top-k entries, or its signs and one scale). Every rank then takes the same optimiser
// step on the same gradient, so the replicas stay identical, which train_data_parallel checks at the
// end (a hash of the parameters' bytes, compared by a min/max allreduce). With dense reduction and
// equal B the step is the one a single process takes on the global batch of B x size rows (up to the
// order of the sum: rank means first).
// A non-finite loss or gradient on any rank stops every rank at the same step, with a message naming
// the rank and the step; the parameters are those before the bad step (or, with on_non_finite =
// rollback, every rank goes back to the end of the last completed epoch at a lower learning rate).
// A stop request (a flag, e.g. set by SIGINT) on any rank stops every rank too. After each epoch,
// optionally: the gradient norm of the whole training set's mean loss (a convergence criterion) and
// the loss and accuracy on a validation set (early stopping with the best epoch's parameters
// restored), each rank computing its share and the sums added over the ranks, so every rank takes
// the same decision.
// The engine sees a network through a Replica: sizes, parameters, gradient buffer and three passes
// over chosen rows. CompiledReplica adapts a ctnn::Network at its compile-time batch (the
// train_data_parallel<B>(net, ...) overloads build one); dist/runtime_replica.hpp adapts a
// RuntimeNetwork (a topology known at run time) at any batch.
// Layer: dist (uses MPI, optim, and train's data, evaluation and run-record headers -- not the
// Trainer; a Net is any ctnn::Network).
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
#include <limits>
#include <numeric>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "ctnn/dist/compress.hpp"
#include "ctnn/dist/mpi.hpp"
#include "ctnn/kernel/reduce.hpp"
#include "ctnn/optim/clip.hpp"
#include "ctnn/optim/schedule.hpp"
#include "ctnn/train/early_stopping.hpp"
#include "ctnn/train/evaluate.hpp"
#include "ctnn/train/labelled_data.hpp"
#include "ctnn/train/run_log.hpp"

namespace ctnn::dist {

enum class Compression {
  none,   ///< MPI_Allreduce of the whole gradient
  top_k,  ///< each rank's k largest entries, (index, value) pairs (TopK)
  sign,   ///< each rank's signs, one bit per entry, and one scale (Sign)
};

struct ReducerOptions {
  Compression compression = Compression::none;
  double ratio = 0.01;          ///< top_k: the fraction of entries each rank sends per step
  bool error_feedback = true;   ///< top_k, sign: keep what was not sent and add it to the next step's gradient
};

/// Averages a gradient buffer over the ranks of a communicator, densely or compressed.
template <class T>
class GradientReducer {
 public:
  GradientReducer(Comm comm, std::size_t n, ReducerOptions o = {}) : comm_(comm), o_(o), n_(n), k_(n) {
    const std::size_t ranks = std::size_t(comm_.size());
    if (o_.compression == Compression::top_k) {
      k_ = top_k_count(o.ratio, n);
      topk_.emplace(n, k_, o.error_feedback);
      idx_.resize(k_);
      val_.resize(k_);
      all_idx_.resize(k_ * ranks);
      all_val_.resize(k_ * ranks);
    } else if (o_.compression == Compression::sign) {
      sign_.emplace(n, o.error_feedback);
      bits_.resize(sign_->words());
      all_bits_.resize(sign_->words() * ranks);
      all_val_.resize(ranks);  // the ranks' scales
    }
  }

  const Comm& comm() const noexcept { return comm_; }
  const ReducerOptions& options() const noexcept { return o_; }
  /// Entries sent per step by each rank as values (n when dense, k for top-k, 1 scale for sign).
  std::size_t entries_per_step() const noexcept { return sign_ ? 1 : k_; }
  /// Bytes this rank has contributed so far: values, plus a 4-byte index per value (top-k) or one
  /// bit per entry in 64-bit words (sign).
  std::uint64_t bytes_sent() const noexcept { return sent_; }
  /// Bytes a dense reduction of the same steps would have contributed.
  std::uint64_t dense_bytes() const noexcept { return dense_; }
  /// What the compressor has not sent yet (empty when dense).
  std::span<const T> residual() const noexcept {
    if (topk_) return topk_->residual();
    if (sign_) return sign_->residual();
    return {};
  }
  /// The same, writable: this rank's part of a checkpoint when compressing with error feedback (each
  /// rank has its own; restore it before resuming, or the unsent remainder is lost).
  std::span<T> residual_mutable() noexcept {
    if (topk_) return topk_->residual_mutable();
    if (sign_) return sign_->residual_mutable();
    return {};
  }

  /// g (this rank's gradient) becomes the mean over the ranks of their gradients (dense) or of
  /// their compressed forms: the same values, bit for bit, on every rank (a gathered message is
  /// added in rank order everywhere).
  void reduce(std::span<T> g) {
    if (g.size() != n_)
      throw std::invalid_argument("ctnn::dist::GradientReducer: gradient of " + std::to_string(g.size()) +
                                  " entries, expected " + std::to_string(n_));
    const T inv = T(1) / static_cast<T>(comm_.size());
    if (o_.compression == Compression::none) {
      comm_.allreduce_sum(g);
      sent_ += n_ * sizeof(T);
    } else if (topk_) {
      agree([&] { topk_->check(std::span<const T>(g)); });
      topk_->template compress<true>(std::span<const T>(g), idx_, val_);
      comm_.allgather(std::span<const std::uint32_t>(idx_), std::span<std::uint32_t>(all_idx_));
      comm_.allgather(std::span<const T>(val_), std::span<T>(all_val_));
      std::fill(g.begin(), g.end(), T(0));
      for (std::size_t j = 0; j < all_idx_.size(); ++j) g[all_idx_[j]] += all_val_[j];
      sent_ += k_ * (sizeof(T) + sizeof(std::uint32_t));
    } else {
      agree([&] { sign_->check(std::span<const T>(g)); });
      const T scale = sign_->template compress<true>(std::span<const T>(g), bits_);
      comm_.allgather(std::span<const std::uint64_t>(bits_), std::span<std::uint64_t>(all_bits_));
      comm_.allgather(std::span<const T>(&scale, 1), std::span<T>(all_val_));
      const std::size_t w = bits_.size();
      std::fill(g.begin(), g.end(), T(0));
      for (std::size_t r = 0; r < all_val_.size(); ++r) {
        const std::span<const std::uint64_t> msg(all_bits_.data() + r * w, w);
        for (std::size_t i = 0; i < n_; ++i) g[i] += Sign<T>::value(msg, all_val_[r], i);
      }
      sent_ += w * sizeof(std::uint64_t) + sizeof(T);
    }
    for (auto& v : g) v *= inv;
    dense_ += n_ * sizeof(T);
  }

 private:
  // Runs the compressor's check of its input (a non-finite entry of gradient + residual is refused)
  // and makes the ranks agree before any of them changes its residual or enters the gather: if one
  // refused, all throw (the refusing rank its own message) with their residuals as they were, and
  // none is left waiting. One 4-byte allreduce per step.
  template <class F>
  void agree(F&& check) {
    std::string err;
    try {
      check();
    } catch (const std::invalid_argument& e) {
      err = e.what();
    }
    agree_or_throw(comm_, err, [](int r) {
      return "ctnn::dist::GradientReducer: rank " + std::to_string(r) + " could not compress its gradient";
    });
  }

  Comm comm_;
  ReducerOptions o_;
  std::size_t n_, k_;
  std::optional<TopK<T>> topk_;
  std::optional<Sign<T>> sign_;
  std::vector<std::uint32_t> idx_, all_idx_;
  std::vector<std::uint64_t> bits_, all_bits_;
  std::vector<T> val_, all_val_;
  std::uint64_t sent_ = 0, dense_ = 0;
};

/// 64-bit FNV-1a of the parameters' bytes.
template <class T>
std::uint64_t params_hash(std::span<const T> p) {
  std::uint64_t h = 1469598103934665603ull;
  const auto* b = reinterpret_cast<const unsigned char*>(p.data());
  for (std::size_t i = 0; i < p.size_bytes(); ++i) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}
/// Whether every rank holds the same parameters, bit for bit.
template <class T>
bool replicas_agree(const Comm& comm, std::span<const T> p) {
  return comm.same_everywhere(params_hash(p));
}

/// This rank's share of n rows for evaluation: rows [n r / size, n (r + 1) / size), in order.
inline std::vector<std::size_t> rows_of_rank(std::size_t n, const Comm& comm) {
  const auto r = std::size_t(comm.rank()), size = std::size_t(comm.size());
  std::vector<std::size_t> idx(n * (r + 1) / size - n * r / size);
  std::iota(idx.begin(), idx.end(), n * r / size);
  return idx;
}

/// What the engine asks of one rank's network: its sizes, parameters and gradient buffer, and three
/// passes over rows of a labelled set d (targets as train::gather_rows makes them). One-output
/// networks predict class 1 when the output exceeds `threshold`.
template <class R, class D>
concept Replica = train::LabelledData<D> &&
                  requires(R& r, const D& d, const std::size_t* idx, std::span<const std::size_t> rows,
                           double threshold, std::size_t& right, double& sum, train::ConfusionMatrix& cm,
                           std::span<double> acc) {
                    typename R::scalar;
                    { r.inputs() } -> std::convertible_to<std::size_t>;
                    { r.outputs() } -> std::convertible_to<std::size_t>;
                    { r.num_params() } -> std::convertible_to<std::size_t>;
                    { r.batch() } -> std::convertible_to<std::size_t>;  ///< rows per step on this rank
                    { r.params() } -> std::convertible_to<std::span<typename R::scalar>>;
                    { r.grads() } -> std::convertible_to<std::span<typename R::scalar>>;  ///< writable
                    /// The mean loss of rows idx[0..batch()), its gradient left in grads(), and in
                    /// `right` how many of the rows the network classifies right.
                    { r.batch_gradient(d, idx, threshold, right) } -> std::convertible_to<double>;
                    /// Adds the rows' loss sum to `sum` and their (truth, prediction) pairs to cm.
                    r.evaluate(d, rows, threshold, sum, cm);
                    /// Adds (the gradient of each row's loss) / `sum` to acc (num_params() entries).
                    r.accumulate_gradient(d, rows, sum, acc);
                  };

/// A ctnn::Network as a Replica, B rows per step (its compile-time batch): the passes are the
/// Trainer's (train/evaluate.hpp). Holds the network by reference and its batch buffers.
template <std::size_t B, class Net, class Loss>
class CompiledReplica {
 public:
  using scalar = typename Net::scalar;
  CompiledReplica(Net& net, const Loss& loss) : net_(net), loss_(loss) {}
  static constexpr std::size_t inputs() noexcept { return Net::inputs; }
  static constexpr std::size_t outputs() noexcept { return Net::outputs; }
  static constexpr std::size_t num_params() noexcept { return Net::num_params; }
  static constexpr std::size_t batch() noexcept { return B; }
  std::span<scalar> params() noexcept { return net_.params(); }
  std::span<scalar> grads() noexcept { return net_.grads_mutable(); }
  template <train::LabelledData D>
  double batch_gradient(const D& d, const std::size_t* idx, double threshold, std::size_t& right) {
    buf_.gather(d, idx, B);
    const auto l = net_.template gradient_and_output<B>(loss_, buf_.x.data(), buf_.y.data(), buf_.out.data());
    right = buf_.correct(B, threshold);
    return static_cast<double>(l);
  }
  template <train::LabelledData D>
  void evaluate(const D& d, std::span<const std::size_t> rows, double threshold, double& sum,
                train::ConfusionMatrix& cm) {
    train::accumulate_evaluation<B>(net_, loss_, d, rows, threshold, buf_, sum, cm);
  }
  template <train::LabelledData D>
  void accumulate_gradient(const D& d, std::span<const std::size_t> rows, double total, std::span<double> acc) {
    train::accumulate_gradient<B>(net_, loss_, d, rows, total, buf_, acc);
  }

 private:
  Net& net_;
  Loss loss_;
  train::BatchBuffers<Net, B> buf_;
};

namespace detail {
/// "" when d fits a network of `in` inputs and `out` outputs, else what is wrong: "<where>the
/// <set>data has 5 features, the network takes 4", "<where><set>row 7 has label 3, the network has 3
/// classes" (set: "" or "validation ").
template <train::LabelledData D>
std::string misfit(const D& d, std::size_t in, std::size_t out, const std::string& where, const std::string& set) {
  if (d.cols != in)
    return where + "the " + set + "data has " + std::to_string(d.cols) + " features, the network takes " +
           std::to_string(in);
  if (const auto i = train::first_bad_label(d, out))
    return where + set + "row " + std::to_string(*i) + " has label " +
           std::to_string(static_cast<long long>(d.labels[*i])) + ", the network has " +
           std::to_string(out > 1 ? out : 2) + " classes";
  return {};
}
/// dist::agree_or_throw on a data check: the ranks whose data is fine say which rank refused its own.
inline void agree_on_data(const Comm& comm, const std::string& err, const std::string& where) {
  agree_or_throw(comm, err, [&](int r) { return where + "rank " + std::to_string(r) + " refused its data"; });
}
/// Whether a stop flag is set (relaxed: a signal handler sets it; the ranks agree by an allreduce).
inline bool requested(const std::atomic<bool>* stop) noexcept {
  return stop && stop->load(std::memory_order_relaxed);
}

/// Evaluation and gradient norm over all ranks' shares.
template <class R, train::LabelledData D>
train::Evaluation evaluate(R& replica, const D& data, const Comm& comm, double threshold) {
  const std::size_t out = replica.outputs();
  const auto idx = rows_of_rank(data.rows, comm);
  train::Evaluation e;
  e.confusion = train::ConfusionMatrix(out > 1 ? out : 2);
  double sum = 0;
  replica.evaluate(data, std::span<const std::size_t>(idx), threshold, sum, e.confusion);
  comm.allreduce_sum(std::span<double>(&sum, 1));
  comm.allreduce_sum(e.confusion.counts());
  comm.broadcast(std::span<double>(&sum, 1), 0);  // the same bits everywhere, whatever MPI's sum order
  e.loss = sum / static_cast<double>(data.rows);
  return e;
}
template <class R, train::LabelledData D>
double gradient_norm(R& replica, const D& data, const Comm& comm, std::vector<double>& acc) {
  acc.assign(replica.num_params(), 0.0);
  const auto idx = rows_of_rank(data.rows, comm);
  replica.accumulate_gradient(data, std::span<const std::size_t>(idx), static_cast<double>(data.rows),
                              std::span<double>(acc));
  comm.allreduce_sum(std::span<double>(acc));
  double norm = optim::global_norm(std::span<const double>(acc));
  comm.broadcast(std::span<double>(&norm, 1), 0);
  return norm;
}
}  // namespace detail

/// The loss (mean over all rows) and confusion matrix of a replica's network on `data`, every rank
/// evaluating its share (rows_of_rank) and the sums added over the ranks: the same Evaluation on
/// every rank, equal to one process's evaluation up to the order of the loss sum. The ranks must
/// hold the same network and data (called on all of them together). One-output networks predict
/// class 1 above `threshold`.
template <class R, train::LabelledData D>
  requires Replica<R, D>
train::Evaluation evaluate(R& replica, const D& data, const Comm& comm, double threshold = 0.5) {
  const std::string where = "ctnn::dist::evaluate: ";
  std::string err = detail::misfit(data, replica.inputs(), replica.outputs(), where, "");
  if (err.empty() && data.rows == 0) err = where + "the data has no rows";
  detail::agree_on_data(comm, err, where);
  if (!comm.same_everywhere(data.rows))
    throw std::invalid_argument(where + "the ranks' data differ in size (" + std::to_string(data.rows) +
                                " rows on rank " + std::to_string(comm.rank()) + "); every rank must read the same data");
  return detail::evaluate(replica, data, comm, threshold);
}
/// The same for a ctnn::Network, B rows at a time (train::evaluate_rows' passes).
template <std::size_t B, class Net, class Loss, train::LabelledData D>
train::Evaluation evaluate(Net& net, const Loss& loss, const D& data, const Comm& comm, double threshold = 0.5) {
  CompiledReplica<B, Net, Loss> r(net, loss);
  return evaluate(r, data, comm, threshold);
}

struct DataParallelOptions {
  std::size_t epochs = 10;
  std::uint64_t seed = 0;     ///< the shuffled order (the same on every rank)
  std::size_t max_steps = 0;  ///< 0 = no limit
  double clip_norm = 0;       ///< clip the averaged gradient's global L2 norm to this (PyTorch's rule); 0 = off
  double clip_value = 0;      ///< then clamp every averaged gradient entry to [-v, v]; 0 = off
  /// Stop when the gradient norm of the mean loss over the whole training set (after each epoch;
  /// each rank computes its share, one allreduce of the gradient) is below this; 0 = off.
  double grad_norm_tolerance = 0;
  std::size_t patience = 0;  ///< early stopping: epochs without a lower validation loss; 0 = off
  double min_delta = 0;      ///< an improvement must lower the validation loss by more than this
  bool restore_best = true;  ///< with patience > 0: end on the best epoch's parameters, however the run ends but an interruption (every rank)
  std::string validation_name = "val";  ///< how the stop message calls the validation set (as the Trainer's)
  double binary_threshold = 0.5;  ///< one-output networks: class 1 when the output exceeds this
  /// Checked before each step on every rank (e.g. set by a SIGINT handler): when it is set on any
  /// rank, every rank abandons the epoch before the same step.
  const std::atomic<bool>* stop = nullptr;
  /// Called on every rank after each epoch (not after a non-finite or interrupted one), e.g. to
  /// print progress or save a checkpoint on rank 0; the replicas are equal there, and so are the
  /// record's figures (losses, accuracies and the gradient norm are totals over all ranks).
  std::function<void(const train::EpochRecord&)> on_epoch_end = {};
  // Resuming from a checkpoint saved in on_epoch_end (record.epoch, record.steps, the parameters,
  // the optimiser's state() and step_count(), and with error feedback each rank's
  // reducer.residual()), restored into the objects passed in: the resumed run takes the steps an
  // uninterrupted one would (the shuffles of the epochs before first_epoch are replayed from seed).
  std::size_t first_epoch = 1;  ///< the epochs before this one are done
  std::size_t first_step = 0;   ///< optimiser steps already taken (the schedule goes on from here)
  /// A NaN/Inf step on any rank: every rank stops (default), or every rank goes back to the state at
  /// the end of the last completed epoch (or the start): parameters, optimiser state and step count,
  /// data order, its own error-feedback remainder and the early-stopping record; the learning rate
  /// is scaled by rollback_lr_factor and training goes on; after max_rollbacks rollbacks, a further
  /// non-finite step stops every rank. The Trainer's options, with the same meaning.
  train::OnNonFinite on_non_finite = train::OnNonFinite::stop;
  double rollback_lr_factor = 0.5;
  std::size_t max_rollbacks = 3;
  /// Called on every rank at each rollback with its line (train::rollback_note), e.g. to print it.
  std::function<void(const std::string&)> on_rollback = {};
};

/// The Trainer's result (train::TrainResult: why training stopped, the epochs' records, the best
/// epoch and the final validation), the same on every rank, and the data-parallel figures.
struct DataParallelResult : train::TrainResult {
  bool replicas_agree = false;  ///< every rank ended with the same parameters
  std::uint64_t bytes_sent = 0, dense_bytes = 0;  ///< this rank's, over the run (GradientReducer's)
};

/// Trains a replica's network (`replica`: Replica; below, the overloads for a ctnn::Network) with
/// `opt` on `train` (rows with labels: one-hot targets for K > 1 outputs, the 0/1 label for one
/// output), B = replica.batch() rows per rank and step, every rank's gradient averaged by `reducer`,
/// then clipped (o.clip_norm), at the learning rate sched(t) of step t = 0, 1, ... (any
/// optim::Schedule: step, exponential, cosine, warm restarts, warm-up). Rank 0's initial parameters
/// are broadcast first. An epoch is floor(rows / (B x size)) steps; the rows left over fall in other
/// batches in later epochs. With a `validation` set (the same on every rank, or none on all), each
/// epoch ends with its loss and accuracy (dist::evaluate), and o.patience stops early on it;
/// `early_stopping` (optional, in/out, as the Trainer's fit takes it) is that record, current when
/// o.on_epoch_end runs, so that a checkpoint can save it and a resumed run continue from it.
/// Every rank returns the same result: every stop (step limit, gradient norm, early stopping, a
/// non-finite step or a stop request on any rank) is taken by all ranks at the same point.
template <class R, class Opt, train::LabelledData D, optim::Schedule Sched>
  requires Replica<R, D>
DataParallelResult train_data_parallel(R& replica, Opt& opt, const D& train, const D* validation,
                                       GradientReducer<typename R::scalar>& reducer, DataParallelOptions o,
                                       const Sched& sched,
                                       train::EarlyStopping<typename R::scalar>* early_stopping = nullptr) {
  using T = typename R::scalar;
  using train::StopCriterion;
  const std::size_t In = replica.inputs(), Out = replica.outputs(), P = replica.num_params(), B = replica.batch();
  const Comm& comm = reducer.comm();
  const std::size_t ranks = std::size_t(comm.size()), rank = std::size_t(comm.rank());
  // Every rank checks its own data; all of them throw if any refuses (a rank that went on alone
  // would wait in a collective forever). The data must have the same number of rows everywhere.
  const std::string where = "ctnn::dist::train_data_parallel: ";
  const std::size_t per_epoch = B ? train.rows / (B * ranks) : 0;
  std::string err = B == 0 ? where + "a batch of 0 rows" : detail::misfit(train, In, Out, where, "");
  if (err.empty() && per_epoch == 0)
    err = where + std::to_string(train.rows) + " rows are fewer than one global batch of " + std::to_string(B) +
          " x " + std::to_string(ranks);
  if (err.empty() && validation) {
    err = detail::misfit(*validation, In, Out, where, "validation ");
    if (err.empty() && validation->rows == 0) err = where + "the validation data has no rows";
  }
  if (err.empty() && o.patience > 0 && !validation)
    err = where + "early stopping (patience " + std::to_string(o.patience) + ") needs a validation set";
  if (const std::string bad = train::epochs_misfit(o.epochs, o.first_epoch); err.empty() && !bad.empty())
    err = where + bad;
  train::EarlyStopping<T> own;
  train::EarlyStopping<T>& es = early_stopping ? *early_stopping : own;
  if (err.empty() && o.first_epoch > 0)
    if (const auto bad = es.check(P, o.first_epoch - 1); !bad.empty())
      err = where + "the early-stopping record given for epoch " + std::to_string(o.first_epoch) +
            " does not fit: " + bad;
  detail::agree_on_data(comm, err, where);
  if (!comm.same_everywhere(train.rows))
    throw std::invalid_argument(where + "the ranks' training sets differ in size (" + std::to_string(train.rows) +
                                " rows on rank " + std::to_string(rank) + "); every rank must read the same data");
  const std::size_t vrows = validation ? validation->rows : 0;
  if (!comm.same_everywhere(vrows))
    throw std::invalid_argument(where + "the ranks' validation sets differ (" +
                                (validation ? std::to_string(vrows) + " rows" : std::string("none")) + " on rank " +
                                std::to_string(rank) + "); give every rank the same validation set, or none");
  comm.broadcast(std::span<T>(replica.params()), 0);

  std::vector<std::size_t> order(train.rows);
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::mt19937_64 rng(o.seed);
  for (std::size_t e = 1; e < o.first_epoch; ++e) std::shuffle(order.begin(), order.end(), rng);
  std::vector<double> gfull;
  DataParallelResult res;
  res.steps = o.first_step;
  res.best_epoch = es.best_epoch;
  if (es.best_epoch) res.best_val_loss = es.best_loss;
  // OnNonFinite::rollback: the state at the end of the last completed epoch (at first, the start),
  // this rank's own copy (the error-feedback remainder differs between ranks).
  struct Snapshot {
    std::vector<T> params, opt, remainder;
    std::uint64_t opt_steps = 0;
    std::size_t epoch = 0, steps = 0;
    std::vector<std::size_t> order;
    std::mt19937_64 rng;
    train::EarlyStopping<T> es;
  };
  const bool rollback = o.on_non_finite == train::OnNonFinite::rollback;
  Snapshot snap;
  const auto keep = [&](std::size_t epoch) {
    snap.params.assign(replica.params().begin(), replica.params().end());
    if constexpr (requires { opt.state(); }) snap.opt.assign(opt.state().begin(), opt.state().end());
    snap.remainder.assign(reducer.residual().begin(), reducer.residual().end());
    if constexpr (requires { opt.step_count(); }) snap.opt_steps = opt.step_count();
    snap.epoch = epoch;
    snap.steps = res.steps;
    snap.order = order;
    snap.rng = rng;
    snap.es = es;
  };
  const auto put_back = [&] {
    std::copy(snap.params.begin(), snap.params.end(), replica.params().begin());
    if constexpr (requires { opt.state(); }) std::copy(snap.opt.begin(), snap.opt.end(), opt.state().begin());
    std::copy(snap.remainder.begin(), snap.remainder.end(), reducer.residual_mutable().begin());
    if constexpr (requires { opt.set_step_count(snap.opt_steps); }) opt.set_step_count(snap.opt_steps);
    res.steps = snap.steps;
    order = snap.order;
    rng = snap.rng;
    es = snap.es;
  };
  if (rollback) keep(o.first_epoch - 1);
  double lr_scale = 1;
  for (std::size_t epoch = o.first_epoch; epoch <= o.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    double loss_sum = 0, correct = 0, lr = 0;
    std::size_t steps = 0;
    bool stopped = false, rolled_back = false;
    // Every rank reaches the same decision: a rollback (non-finite values, when asked) or the end.
    const auto halt = [&](const std::string& msg, bool interrupt) {
      if (!interrupt && rollback && res.rollbacks < o.max_rollbacks) {
        put_back();
        lr_scale *= o.rollback_lr_factor;
        ++res.rollbacks;
        if (o.on_rollback)
          o.on_rollback(
              train::rollback_note(epoch, res.rollbacks, o.max_rollbacks, msg, snap.epoch, snap.steps, lr_scale));
        rolled_back = true;
        return;
      }
      res.stopped_by = interrupt ? StopCriterion::interrupted : StopCriterion::non_finite;
      res.message = msg;
      if (!interrupt && rollback) res.message += " (after " + std::to_string(res.rollbacks) + " rollbacks)";
      stopped = true;
    };
    for (std::size_t s = 0; s < per_epoch; ++s) {
      // A rank asked to stop skips its gradient; the others learn it from the step's first allreduce.
      const bool stopping = detail::requested(o.stop);
      double l = 0;
      bool finite = true;
      std::size_t right = 0;
      const std::span<T> g = replica.grads();
      if (!stopping) {
        l = replica.batch_gradient(train, order.data() + (s * ranks + rank) * B, o.binary_threshold, right);
        finite = std::isfinite(l) && kernel::all_finite(g.data(), g.size());
      }
      // One small allreduce before the gradient's: the loss sum, how many ranks have a non-finite
      // loss or gradient, how many were asked to stop, and the correct predictions (if a rank is
      // bad or stopping, one more finds the lowest such rank, and every rank stops here).
      double stats[4] = {l, finite ? 0.0 : 1.0, stopping ? 1.0 : 0.0, static_cast<double>(right)};
      comm.allreduce_sum(std::span<double>(stats));
      if (stats[2] > 0 || stats[1] > 0) {
        const bool interrupt = stats[2] > 0;
        const int who = comm.lowest_rank_where(interrupt ? stopping : !finite);
        const std::string msg =
            interrupt ? "interrupted (a stop was requested on rank " + std::to_string(who) + ") in epoch " +
                            std::to_string(epoch) + " after " + std::to_string(s) + " of " + std::to_string(per_epoch) +
                            " steps (that epoch abandoned)"
                      : "non-finite loss or gradient on rank " + std::to_string(who) + " at step " +
                            std::to_string(res.steps + 1) + " (epoch " + std::to_string(epoch) + ", batch " +
                            std::to_string(s + 1) + " of " + std::to_string(per_epoch) + "); the step was not applied";
        halt(msg, interrupt);
        break;
      }
      reducer.reduce(g);
      optim::clip_grad(g, o.clip_norm, o.clip_value);
      lr = lr_scale * sched(res.steps);
      opt.step(replica.params(), std::span<const T>(g), lr);
      loss_sum += stats[0] / static_cast<double>(ranks);
      correct += stats[3];
      ++steps;
      ++res.steps;
      // A finite gradient can still overflow the parameters; after an epoch's last step the evaluation
      // and a checkpoint come before any loss would show it (the parameters are the same on every rank).
      if (s + 1 == per_epoch && !kernel::all_finite(replica.params().data(), replica.params().size())) {
        halt(train::overflowed_parameters_message(res.steps, epoch, "every rank's loss and gradient"), false);
        break;
      }
      if (o.max_steps && res.steps >= o.max_steps) {
        res.stopped_by = StopCriterion::max_steps;
        res.message = "reached the step limit of " + std::to_string(o.max_steps) + " steps";
        break;
      }
    }
    if (rolled_back) {  // the abandoned epoch leaves no record; go on after the snapshot's epoch
      epoch = snap.epoch;
      continue;
    }
    train::EpochRecord r;
    r.epoch = epoch;
    r.steps = res.steps;
    r.lr = lr;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.cpu_seconds = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
    if (steps) {
      r.train_loss = loss_sum / static_cast<double>(steps);
      r.train_accuracy = correct / static_cast<double>(steps * B * ranks);
    }
    res.epochs = epoch;
    if (stopped) {
      if (steps) res.history.push_back(r);  // a partial epoch: its steps' record
      else res.epochs = epoch - 1;          // stopped before its first step: no epoch to report
      break;
    }
    const auto t1 = std::chrono::steady_clock::now();
    if (o.grad_norm_tolerance > 0) r.grad_norm = detail::gradient_norm(replica, train, comm, gfull);
    std::string eval_failure;  // a non-finite validation loss: the updates overflowed the outputs
    if (validation) {
      res.validation = detail::evaluate(replica, *validation, comm, o.binary_threshold);
      r.val_loss = res.validation.loss;
      r.val_accuracy = res.validation.accuracy();
      if (!std::isfinite(r.val_loss)) {  // the same loss on every rank: the same decision
        eval_failure = train::non_finite_evaluation_message(o.validation_name, r.val_loss, epoch,
                                                            std::span<const T>(replica.params()));
        if (rollback && res.rollbacks < o.max_rollbacks) {  // as a NaN step: back to the last epoch's state
          halt(eval_failure, false);
          epoch = snap.epoch;  // the abandoned epoch leaves no record
          continue;
        }
      } else if (es.update(epoch, r.val_loss, std::span<const T>(replica.params()), o.min_delta)) {
        res.best_epoch = es.best_epoch;
        res.best_val_loss = es.best_loss;
      }
    }
    r.eval_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    res.history.push_back(r);
    if (o.on_epoch_end) o.on_epoch_end(r);
    if (!eval_failure.empty()) {
      halt(eval_failure, false);  // no rollback left: the end
      break;
    }
    if (rollback) keep(epoch);
    if (res.stopped_by == StopCriterion::max_steps) break;
    if (o.grad_norm_tolerance > 0 && r.grad_norm < o.grad_norm_tolerance) {
      res.stopped_by = StopCriterion::gradient_norm;
      res.message = train::gradient_norm_stop_message(r.grad_norm, o.grad_norm_tolerance, epoch);
      break;
    }
    if (es.exhausted(o.patience)) {
      res.stopped_by = StopCriterion::early_stopping;
      res.message = es.message(o.validation_name, o.patience);
      break;
    }
  }
  if (res.message.empty()) res.message = "ran the " + std::to_string(o.epochs) + " epochs requested";
  // As train::Trainer: with early stopping, the best epoch's parameters however the run ended (but
  // an interruption). Every rank holds the same record, so every rank decides alike.
  if (o.patience > 0 && o.restore_best && es.best_epoch != 0 && res.stopped_by != StopCriterion::interrupted) {
    const std::string note =
        es.restore_at_end(std::span<T>(replica.params()), o.validation_name,
                          res.stopped_by == StopCriterion::early_stopping, res.stopped_by == StopCriterion::non_finite);
    if (!note.empty()) {
      res.restored_best = true;
      res.message += note;
      res.validation = detail::evaluate(replica, *validation, comm, o.binary_threshold);
    }
  }
  res.bytes_sent = reducer.bytes_sent();
  res.dense_bytes = reducer.dense_bytes();
  res.replicas_agree = replicas_agree(comm, std::span<const T>(replica.params()));
  return res;
}

/// Without a validation set.
template <class R, class Opt, train::LabelledData D, optim::Schedule Sched>
  requires Replica<R, D>
DataParallelResult train_data_parallel(R& replica, Opt& opt, const D& train,
                                       GradientReducer<typename R::scalar>& reducer, DataParallelOptions o,
                                       const Sched& sched) {
  return train_data_parallel(replica, opt, train, static_cast<const D*>(nullptr), reducer, std::move(o), sched);
}

/// A ctnn::Network `net` with loss `loss`, B rows per rank and step (CompiledReplica).
template <std::size_t B, class Net, class Opt, class Loss, train::LabelledData D, optim::Schedule Sched>
DataParallelResult train_data_parallel(Net& net, Opt& opt, const Loss& loss, const D& train, const D* validation,
                                       GradientReducer<typename Net::scalar>& reducer, DataParallelOptions o,
                                       const Sched& sched,
                                       train::EarlyStopping<typename Net::scalar>* early_stopping = nullptr) {
  CompiledReplica<B, Net, Loss> replica(net, loss);
  return train_data_parallel(replica, opt, train, validation, reducer, std::move(o), sched, early_stopping);
}

/// Without a validation set.
template <std::size_t B, class Net, class Opt, class Loss, train::LabelledData D, optim::Schedule Sched>
DataParallelResult train_data_parallel(Net& net, Opt& opt, const Loss& loss, const D& train,
                                       GradientReducer<typename Net::scalar>& reducer, DataParallelOptions o,
                                       const Sched& sched) {
  return train_data_parallel<B>(net, opt, loss, train, static_cast<const D*>(nullptr), reducer, std::move(o), sched);
}
/// At the optimiser's own constant learning rate, opt.options().lr.
template <std::size_t B, class Net, class Opt, class Loss, train::LabelledData D>
DataParallelResult train_data_parallel(Net& net, Opt& opt, const Loss& loss, const D& train, const D* validation,
                                       GradientReducer<typename Net::scalar>& reducer, DataParallelOptions o = {}) {
  return train_data_parallel<B>(net, opt, loss, train, validation, reducer, std::move(o),
                                optim::ConstantLR{opt.options().lr});
}
template <std::size_t B, class Net, class Opt, class Loss, train::LabelledData D>
DataParallelResult train_data_parallel(Net& net, Opt& opt, const Loss& loss, const D& train,
                                       GradientReducer<typename Net::scalar>& reducer, DataParallelOptions o = {}) {
  return train_data_parallel<B>(net, opt, loss, train, static_cast<const D*>(nullptr), reducer, std::move(o),
                                optim::ConstantLR{opt.options().lr});
}
}  // namespace ctnn::dist
