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
// the rank and the step; the parameters are those before the bad step.
// Layer: dist (uses MPI, optim, and train's labelled_data.hpp; a Net is any ctnn::Network).
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <numeric>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "ctnn/dist/compress.hpp"
#include "ctnn/dist/mpi.hpp"
#include "ctnn/optim/clip.hpp"
#include "ctnn/optim/schedule.hpp"
#include "ctnn/train/labelled_data.hpp"

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
    const int refused = comm_.min(err.empty() ? comm_.size() : comm_.rank());
    if (refused < comm_.size())
      throw std::invalid_argument(!err.empty() ? err
                                               : "ctnn::dist::GradientReducer: rank " + std::to_string(refused) +
                                                     " could not compress its gradient");
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
  const std::uint64_t h = params_hash(p);
  return comm.min(h) == comm.max(h);
}

struct DataParallelEpoch {
  std::size_t epoch = 0, steps = 0;
  double train_loss = 0;  ///< mean over the epoch's global batches (every rank's rows)
  double seconds = 0;     ///< wall time of the epoch on this rank
  double lr = 0;          ///< the schedule's learning rate at the epoch's last step
};

struct DataParallelOptions {
  std::size_t epochs = 10;
  std::uint64_t seed = 0;     ///< the shuffled order (the same on every rank)
  std::size_t max_steps = 0;  ///< 0 = no limit
  double clip_norm = 0;       ///< clip the averaged gradient's global L2 norm to this (PyTorch's rule); 0 = off
  /// Called on every rank after each epoch (not after a stopped one), e.g. to print progress or
  /// evaluate on rank 0; the replicas are equal there, so any rank's network is the model.
  std::function<void(const DataParallelEpoch&)> on_epoch_end = {};
};

struct DataParallelResult {
  std::vector<DataParallelEpoch> history;
  std::size_t steps = 0;
  bool non_finite = false;
  std::string message;          ///< why training stopped early (empty when it ran its epochs)
  bool replicas_agree = false;  ///< every rank ended with the same parameters
  std::uint64_t bytes_sent = 0, dense_bytes = 0;  ///< this rank's, over the run (GradientReducer's)
};

/// Trains `net` with `opt` on `train` (rows with labels: one-hot targets for K > 1 outputs, the 0/1
/// label for one output), B rows per rank and step, every rank's gradient averaged by `reducer`,
/// then clipped (o.clip_norm), at the learning rate sched(t) of step t = 0, 1, ... (any
/// optim::Schedule: step, exponential, cosine, warm restarts, warm-up). Rank 0's initial parameters
/// are broadcast first. An epoch is floor(rows / (B x size)) steps; the rows left over fall in other
/// batches in later epochs.
template <std::size_t B, class Net, class Opt, class Loss, train::LabelledData D, optim::Schedule Sched>
DataParallelResult train_data_parallel(Net& net, Opt& opt, const Loss& loss, const D& train,
                                       GradientReducer<typename Net::scalar>& reducer, DataParallelOptions o,
                                       const Sched& sched) {
  using T = typename Net::scalar;
  constexpr std::size_t In = Net::inputs, Out = Net::outputs, P = Net::num_params;
  const Comm& comm = reducer.comm();
  const std::size_t ranks = std::size_t(comm.size()), rank = std::size_t(comm.rank());
  // Every rank checks its own data; all of them throw if any refuses (a rank that went on alone
  // would wait in a collective forever). The data must have the same number of rows everywhere.
  const std::string where = "ctnn::dist::train_data_parallel: ";
  std::string err;
  const std::size_t per_epoch = train.rows / (B * ranks);
  if (train.cols != In)
    err = where + "the data has " + std::to_string(train.cols) + " features, the network takes " + std::to_string(In);
  else if (per_epoch == 0)
    err = where + std::to_string(train.rows) + " rows are fewer than one global batch of " + std::to_string(B) +
          " x " + std::to_string(ranks);
  else if (const auto i = train::first_bad_label(train, Out))
    err = where + "row " + std::to_string(*i) + " has label " +
          std::to_string(static_cast<long long>(train.labels[*i])) + ", the network has " +
          std::to_string(Out > 1 ? Out : 2) + " classes";
  const int refused = comm.min(err.empty() ? comm.size() : comm.rank());
  if (refused < comm.size())
    throw std::invalid_argument(!err.empty() ? err : where + "rank " + std::to_string(refused) + " refused its data");
  if (comm.min(train.rows) != comm.max(train.rows))
    throw std::invalid_argument(where + "the ranks' training sets differ in size (" + std::to_string(train.rows) +
                                " rows on rank " + std::to_string(rank) + "); every rank must read the same data");
  comm.broadcast(std::span<T>(net.params()), 0);

  std::vector<std::size_t> order(train.rows);
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::mt19937_64 rng(o.seed);
  std::vector<T> x(B * In), y(B * Out), out(B * Out);
  DataParallelResult res;
  for (std::size_t epoch = 1; epoch <= o.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    const auto t0 = std::chrono::steady_clock::now();
    double loss_sum = 0, lr = 0;
    std::size_t steps = 0;
    for (std::size_t s = 0; s < per_epoch; ++s) {
      train::gather_rows<In, Out>(train, order.data() + (s * ranks + rank) * B, B, x.data(), y.data());
      const double l = static_cast<double>(net.template gradient_and_output<B>(loss, x.data(), y.data(), out.data()));
      auto g = net.grads_mutable();
      bool finite = std::isfinite(l);
      for (std::size_t k = 0; k < P && finite; ++k) finite = std::isfinite(static_cast<double>(g[k]));
      // One small allreduce before the gradient's: the loss sum and how many ranks have a non-finite
      // loss or gradient (if any, one more finds the lowest such rank, and every rank stops).
      double stats[2] = {l, finite ? 0.0 : 1.0};
      comm.allreduce_sum(std::span<double>(stats));
      if (stats[1] > 0) {
        const int bad = comm.min(finite ? comm.size() : comm.rank());
        res.non_finite = true;
        res.message = "non-finite loss or gradient on rank " + std::to_string(bad) + " at step " +
                      std::to_string(res.steps + 1) + " (epoch " + std::to_string(epoch) + ", batch " +
                      std::to_string(s + 1) + " of " + std::to_string(per_epoch) + "); the step was not applied";
        break;
      }
      reducer.reduce(g);
      if (o.clip_norm > 0) optim::clip_grad_norm(g, o.clip_norm);
      lr = sched(res.steps);
      opt.step(net.params(), std::span<const T>(g), lr);
      loss_sum += stats[0] / static_cast<double>(ranks);
      ++steps;
      ++res.steps;
      if (o.max_steps && res.steps >= o.max_steps) break;
    }
    DataParallelEpoch e;
    e.epoch = epoch;
    e.steps = res.steps;
    e.train_loss = steps ? loss_sum / static_cast<double>(steps) : 0.0;
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    e.lr = lr;
    res.history.push_back(e);
    if (res.non_finite) break;
    if (o.on_epoch_end) o.on_epoch_end(e);
    if (o.max_steps && res.steps >= o.max_steps) {
      res.message = "reached the step limit of " + std::to_string(o.max_steps) + " steps";
      break;
    }
  }
  res.bytes_sent = reducer.bytes_sent();
  res.dense_bytes = reducer.dense_bytes();
  res.replicas_agree = replicas_agree(comm, std::span<const T>(net.params()));
  return res;
}


/// The same at the optimiser's own constant learning rate, opt.options().lr.
template <std::size_t B, class Net, class Opt, class Loss, train::LabelledData D>
DataParallelResult train_data_parallel(Net& net, Opt& opt, const Loss& loss, const D& train,
                                       GradientReducer<typename Net::scalar>& reducer, DataParallelOptions o = {}) {
  return train_data_parallel<B>(net, opt, loss, train, reducer, o, optim::ConstantLR{opt.options().lr});
}
}  // namespace ctnn::dist
