// src/cli/optimizer.hpp: the optimiser and learning-rate schedule named on the command line,
// behind one type each (a std::variant of the optim/ optimisers; a schedule function), so a
// network type instantiates the Trainer once, not once per optimiser and schedule.
// Layer: tool (src/cli; uses optim/).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <variant>

#include "cli/settings.hpp"
#include "ctnn/optim/adagrad.hpp"
#include "ctnn/optim/adam.hpp"
#include "ctnn/optim/rmsprop.hpp"
#include "ctnn/optim/schedule.hpp"
#include "ctnn/optim/sgd.hpp"

namespace ctnn::cli {

template <class T>
class AnyOptimizer {
 public:
  AnyOptimizer(std::size_t n, const OptimizerSettings& s) : opt_(make(n, s)) {}
  void step(std::span<T> params, std::span<const T> grads, double lr) {
    std::visit([&](auto& o) { o.step(params, grads, lr); }, opt_);
  }
  std::span<T> state() noexcept { return std::visit([](auto& o) { return o.state(); }, opt_); }
  std::span<const T> state() const noexcept {
    return std::visit([](const auto& o) { return std::span<const T>(o.state()); }, opt_);
  }
  std::uint64_t step_count() const noexcept { return std::visit([](const auto& o) { return o.step_count(); }, opt_); }
  void set_step_count(std::uint64_t t) noexcept { std::visit([t](auto& o) { o.set_step_count(t); }, opt_); }

 private:
  using Variant = std::variant<optim::SGD<T>, optim::AdaGrad<T>, optim::RMSProp<T>, optim::Adam<T>>;
  static Variant make(std::size_t n, const OptimizerSettings& s) {
    const auto& name = s.name;
    if (name == "sgd" || name == "momentum" || name == "nesterov") {
      optim::SGDOptions o;
      o.lr = s.lr;
      o.momentum = name == "sgd" ? 0.0 : s.momentum;
      o.nesterov = name == "nesterov";
      o.weight_decay = s.weight_decay;
      return Variant(std::in_place_type<optim::SGD<T>>, n, o);
    }
    if (name == "adagrad") {
      optim::AdaGradOptions o;
      o.lr = s.lr;
      o.weight_decay = s.weight_decay;
      return Variant(std::in_place_type<optim::AdaGrad<T>>, n, o);
    }
    if (name == "rmsprop") {
      optim::RMSPropOptions o;
      o.lr = s.lr;
      o.momentum = s.momentum;
      o.eps = s.eps;
      o.weight_decay = s.weight_decay;
      return Variant(std::in_place_type<optim::RMSProp<T>>, n, o);
    }
    if (name == "adam" || name == "adamw") {
      optim::AdamOptions o;
      o.lr = s.lr;
      o.beta1 = s.beta1;
      o.beta2 = s.beta2;
      o.eps = s.eps;
      (name == "adam" ? o.weight_decay : o.decoupled_weight_decay) = s.weight_decay;
      return Variant(std::in_place_type<optim::Adam<T>>, n, o);
    }
    throw std::invalid_argument("unknown optimiser \"" + name + "\"");
  }
  Variant opt_;
};

/// lr(epoch index from 0), as optim/schedule.hpp's schedules.
struct AnySchedule {
  std::function<double(std::size_t)> f;
  double operator()(std::size_t t) const { return f(t); }
};

inline AnySchedule make_schedule(const ScheduleSettings& s, double lr, std::size_t epochs) {
  if (s.name == "none") return {optim::ConstantLR{lr}};
  if (s.name == "step") return {optim::StepDecay{lr, s.step_size, s.gamma}};
  if (s.name == "exp") return {optim::ExponentialDecay{lr, s.gamma}};
  if (s.name == "cosine") return {optim::CosineAnnealing{lr, s.t_max ? s.t_max : epochs, s.eta_min}};
  throw std::invalid_argument("unknown schedule \"" + s.name + "\"");
}

}  // namespace ctnn::cli
