// ctnn/train/early_stopping.hpp: early stopping's record -- the best epoch by validation loss,
// that loss, the epochs since, and the parameters of that epoch -- with the one rule the Trainer
// and dist::train_data_parallel apply after each epoch. Plain data, so that a checkpoint can save
// it and a resumed run stops where an uninterrupted one would (the tool's --patience, --resume).
// Layer: train (nothing but the standard library).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "ctnn/core/text.hpp"

namespace ctnn::train {

template <class T>
struct EarlyStopping {
  std::size_t best_epoch = 0;  ///< 0: no epoch validated yet
  double best_loss = std::numeric_limits<double>::infinity();
  std::size_t wait = 0;        ///< epochs since best_epoch
  std::vector<T> best_params;  ///< the parameters after best_epoch (empty before the first)

  /// After `epoch`, whose validation loss is `loss`: a new best if it is the first epoch seen or
  /// lower than best_loss by more than min_delta (the parameters are copied), else one more epoch
  /// waited. Returns whether it was a new best. A NaN loss is never a best.
  bool update(std::size_t epoch, double loss, std::span<const T> params, double min_delta = 0) {
    if ((best_epoch == 0 && !std::isnan(loss)) || loss < best_loss - min_delta) {
      best_epoch = epoch;
      best_loss = loss;
      best_params.assign(params.begin(), params.end());
      wait = 0;
      return true;
    }
    ++wait;
    return false;
  }
  /// Whether `patience` epochs in a row have not improved (never, for patience 0).
  bool exhausted(std::size_t patience) const { return patience > 0 && wait >= patience; }
  /// Why training stopped, for `set` (how the caller names the validation set): "<set> loss did not
  /// improve for <patience> epochs; best <loss, %.6g> at epoch <best_epoch>".
  std::string message(const std::string& set, std::size_t patience) const {
    return set + " loss did not improve for " + std::to_string(patience) + " epochs; best " +
           text::number(best_loss) + " at epoch " + std::to_string(best_epoch);
  }
  /// Puts the best epoch's parameters into `params`.
  void restore(std::span<T> params) const {
    if (best_params.size() != params.size())
      throw std::logic_error("ctnn::train::EarlyStopping::restore: holds " + std::to_string(best_params.size()) +
                             " parameters, the network has " + std::to_string(params.size()));
    std::copy(best_params.begin(), best_params.end(), params.begin());
  }
  /// At the end of a run with early stopping (the Trainer's and dist::train_data_parallel's rule:
  /// however the run ended, but an interruption): puts the best epoch's parameters into `params` and
  /// returns what the run's message should add, "" when they are the last epoch's anyway (nothing
  /// changed). `patience_ran_out`: the message already names the best epoch; `stepped_on`: steps
  /// were taken after the last validated epoch (a non-finite stop). `set` names the validation set.
  std::string restore_at_end(std::span<T> params, const std::string& set, bool patience_ran_out,
                             bool stepped_on) const {
    restore(params);
    if (wait == 0 && !stepped_on) return "";
    return patience_ran_out ? " (its parameters restored)"
                            : "; the parameters of epoch " + std::to_string(best_epoch) + " (best " + set + " loss " +
                                  text::number(best_loss) + ") restored";
  }
  /// Checks a record restored from a checkpoint against a network of `num_params` parameters that
  /// has completed `epochs` epochs; "" if it is consistent, else what is wrong.
  std::string check(std::size_t num_params, std::size_t epochs) const {
    if (best_epoch == 0)
      return best_params.empty() && wait <= epochs ? "" : "no best epoch, yet best parameters or more epochs waited than run";
    if (best_params.size() != num_params)
      return std::to_string(best_params.size()) + " best parameters for a network of " + std::to_string(num_params);
    if (best_epoch > epochs || best_epoch + wait != epochs)
      return "best epoch " + std::to_string(best_epoch) + " and " + std::to_string(wait) +
             " epochs waited do not add up to the " + std::to_string(epochs) + " epochs completed";
    if (std::isnan(best_loss)) return "the best validation loss is NaN";
    return "";
  }
};

}  // namespace ctnn::train
