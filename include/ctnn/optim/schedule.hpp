// ctnn/optim/schedule.hpp: learning-rate schedules as functions of the step index. lr(t) is the
// learning rate of optimiser step t, t = 0 the first step (the value PyTorch's scheduler gives
// after t calls of scheduler.step(), stepping once per optimiser step). Closed forms, so a run
// resumed from a checkpoint needs only t. A schedule is any callable double(std::size_t);
// WarmUp composes a linear warm-up with any of them.
// Layer: optim (includes nothing from ctnn).
#pragma once
#include <cmath>
#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <utility>

namespace ctnn::optim {

template <class S>
concept Schedule = requires(const S s, std::size_t t) {
  { s(t) } -> std::convertible_to<double>;
};

/// lr(t) = base.
struct ConstantLR {
  double base = 0.01;
  double operator()(std::size_t) const noexcept { return base; }
};

/// StepLR: lr(t) = base * gamma^floor(t / step_size).
struct StepDecay {
  double base = 0.1;
  std::size_t step_size = 1;
  double gamma = 0.1;
  double operator()(std::size_t t) const {
    if (step_size == 0) throw std::invalid_argument("ctnn::optim::StepDecay: step_size must be > 0");
    return base * std::pow(gamma, static_cast<double>(t / step_size));
  }
};

/// ExponentialLR: lr(t) = base * gamma^t.
struct ExponentialDecay {
  double base = 0.1;
  double gamma = 0.9;
  double operator()(std::size_t t) const noexcept { return base * std::pow(gamma, static_cast<double>(t)); }
};

/// CosineAnnealingLR: lr(t) = eta_min + (base - eta_min) (1 + cos(pi t / T_max)) / 2. Not clamped
/// at T_max (as PyTorch): past T_max the lr rises again, back to base at 2 T_max. Set T_max to the
/// total number of steps to anneal once over a run.
struct CosineAnnealing {
  double base = 0.1;
  std::size_t T_max = 1;
  double eta_min = 0;
  double operator()(std::size_t t) const {
    if (T_max == 0) throw std::invalid_argument("ctnn::optim::CosineAnnealing: T_max must be > 0");
    constexpr double pi = 3.141592653589793238462643383279502884;
    return eta_min + (base - eta_min) * (1 + std::cos(pi * static_cast<double>(t) / static_cast<double>(T_max))) / 2;
  }
};

/// CosineAnnealingWarmRestarts (SGDR): cosine from base down towards eta_min over a period of
/// T_i steps, then back to base; the first period is T_0, each next one T_mult times longer.
/// lr(t) = eta_min + (base - eta_min) (1 + cos(pi T_cur / T_i)) / 2, T_cur = steps since the last
/// restart.
struct CosineWarmRestarts {
  double base = 0.1;
  std::size_t T_0 = 1;
  std::size_t T_mult = 1;
  double eta_min = 0;
  double operator()(std::size_t t) const {
    if (T_0 == 0 || T_mult == 0)
      throw std::invalid_argument("ctnn::optim::CosineWarmRestarts: T_0 and T_mult must be > 0");
    std::size_t T_i = T_0, T_cur = t;
    while (T_cur >= T_i) {
      T_cur -= T_i;
      T_i *= T_mult;
    }
    constexpr double pi = 3.141592653589793238462643383279502884;
    return eta_min +
           (base - eta_min) * (1 + std::cos(pi * static_cast<double>(T_cur) / static_cast<double>(T_i))) / 2;
  }
};

/// Linear warm-up in front of another schedule (PyTorch's SequentialLR of LinearLR(start_factor,
/// total_iters = steps) and `after`, milestone `steps`): for t < steps the lr rises linearly from
/// start_factor * after(0) towards after(0); from t = steps on, lr(t) = after(t - steps), so the
/// inner schedule starts afresh after the warm-up (a cosine then anneals over its own T_max).
template <Schedule S>
struct WarmUp {
  S after;
  std::size_t steps = 0;
  double start_factor = 0;
  double operator()(std::size_t t) const {
    if (t >= steps) return after(t - steps);
    const double f = start_factor + (1 - start_factor) * static_cast<double>(t) / static_cast<double>(steps);
    return f * after(0);
  }
};
template <Schedule S>
WarmUp<S> warm_up(S after, std::size_t steps, double start_factor = 0) {
  return WarmUp<S>{std::move(after), steps, start_factor};
}

}  // namespace ctnn::optim
