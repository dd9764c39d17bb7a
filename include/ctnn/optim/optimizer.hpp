// ctnn/optim/optimizer.hpp: what every first-order optimiser shares. An optimiser sees the
// parameters and their gradient as two flat buffers of the same length (std::span<T> params,
// std::span<const T> grads): it knows nothing of layers. Its state (momentum buffers, moment
// estimates, accumulators) is allocated once at construction, sized by the parameter count, and
// kept contiguous so that state() can be checkpointed and restored together with step_count().
// step() never allocates. The learning rate of each step is given by the caller (e.g. from a
// schedule, ctnn/optim/schedule.hpp) or taken from the optimiser's options.
//
// Weight decay comes in two kinds, kept distinct (each optimiser's options has both):
//   weight_decay           coupled L2: g <- g + wd * theta before the update. The same as adding
//                          wd/2 * ||theta||^2 to the loss (PyTorch's `weight_decay` argument).
//   decoupled_weight_decay theta <- theta * (1 - lr * wd) before the update, gradient untouched
//                          (AdamW; Loshchilov & Hutter). For Adam the two differ: the coupled
//                          term is rescaled by the adaptive denominator, the decoupled one not.
// Both apply to the entries of a DecayMask (default: every parameter; weight_ranges<Net>() for
// weights only).
// Layer: optim (includes core and kernel).
#pragma once
#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

#include "ctnn/core/aligned.hpp"
#include "ctnn/core/text.hpp"
#include "ctnn/kernel/simd.hpp"
#include "ctnn/optim/param_groups.hpp"

namespace ctnn::optim {

/// Anything with step(params, grads, lr) over flat buffers of T.
template <class O, class T>
concept Optimizer = requires(O o, std::span<T> p, std::span<const T> g, double lr) {
  o.step(p, g, lr);
  { o.step_count() } -> std::convertible_to<std::uint64_t>;
};

namespace detail {

/// Lane access for the element-wise loops: a SIMD batch of T or one T.
template <class T>
struct Wide {
  using value = simd::batch<T>;
  static constexpr std::size_t size = simd::width<T>;
  static value load(const T* p) noexcept { return simd::load(p); }
  static void store(T* p, const value& v) noexcept { simd::store(p, v); }
  static value splat(T x) noexcept { return value(x); }
};
template <class T>
struct Narrow {
  using value = T;
  static constexpr std::size_t size = 1;
  static T load(const T* p) noexcept { return *p; }
  static void store(T* p, T v) noexcept { *p = v; }
  static T splat(T x) noexcept { return x; }
};

/// body(i, lanes) over [a, b): full SIMD batches, then single elements. body is generic in the
/// lane type (Wide<T> or Narrow<T>), so an update rule is written once.
template <class T, class Body>
CTNN_INLINE void for_lanes(std::size_t a, std::size_t b, Body&& body) {
  std::size_t i = a;
  if constexpr (simd::has_batch<T>) {
    constexpr std::size_t W = simd::width<T>;
    for (; i + W <= b; i += W) body(i, Wide<T>{});
  }
  for (; i < b; ++i) body(i, Narrow<T>{});
}

}  // namespace detail

/// State shared by the optimisers: `buffers` arrays of n values in one aligned allocation, the
/// step counter, and the decay mask.
template <class T>
class OptimizerBase {
 public:
  using scalar = T;
  /// Number of parameters this optimiser was built for.
  std::size_t size() const noexcept { return n_; }
  /// All state buffers, contiguous (buffers x size() values; empty for plain SGD).
  std::span<T> state() noexcept { return state_.span(); }
  std::span<const T> state() const noexcept { return state_.span(); }
  /// Steps taken so far (Adam's bias correction and AdaGrad's lr decay use it).
  std::uint64_t step_count() const noexcept { return steps_; }
  void set_step_count(std::uint64_t t) noexcept { steps_ = t; }
  /// Back to the initial state: buffers zero, step count 0 (AdaGrad refills its initial
  /// accumulator value).
  void reset() noexcept {
    std::fill(state_.begin(), state_.end(), T(0));
    steps_ = 0;
  }
  const DecayMask& decay_mask() const noexcept { return mask_; }

 protected:
  OptimizerBase(std::size_t n, std::size_t buffers, DecayMask mask)
      : n_(n), state_(n * buffers), mask_(std::move(mask)) {
    mask_.check(n);
  }
  T* buffer(std::size_t k) noexcept { return state_.data() + k * n_; }

  /// The element loop every update rule shares. For each i (SIMD batches, then single
  /// elements) it loads theta_i and g_i, applies the two decays where the mask says so --
  /// gi = g_i + wd theta_i (coupled), kept = theta_i (1 - lr dwd) (decoupled) -- and stores
  /// rule(i, lanes, kept, gi) as the new theta_i. `lanes` (detail::Wide<T> or Narrow<T>) lets the
  /// rule load and store its own state at i.
  template <class Rule>
  void update(const char* who, std::span<T> params, std::span<const T> grads, double lr, double wd, double dwd,
              Rule&& rule) {
    check_sizes(who, params.size(), grads.size());
    if (!lr_ok(lr)) [[unlikely]]
      throw std::invalid_argument(std::string("ctnn::optim::") + who + "::step: the learning rate must be finite and " +
                                  ">= 0, got " + text::number(lr) + " (a schedule's?)");
    T* p = params.data();
    const T* g = grads.data();
    mask_.for_each_segment(n_, [&](std::size_t a, std::size_t b, bool decays) {
      const T w = decays ? static_cast<T>(wd) : T(0);
      const T keep = decays ? static_cast<T>(1 - lr * dwd) : T(1);
      detail::for_lanes<T>(a, b, [&](std::size_t i, auto lanes) {
        using L = decltype(lanes);
        const auto th = L::load(p + i);
        const auto gi = L::load(g + i) + L::splat(w) * th;
        L::store(p + i, rule(i, lanes, th * L::splat(keep), gi));
      });
    });
  }
  /// A learning rate must be finite and >= 0 (0 allowed, as PyTorch does); NaN fails too.
  static constexpr bool lr_ok(double lr) noexcept { return lr >= 0 && lr <= std::numeric_limits<double>::max(); }
  static void check_lr(const char* who, double lr) {
    if (!lr_ok(lr))
      throw std::invalid_argument(std::string("ctnn::optim::") + who + ": lr must be finite and >= 0, got " +
                                  text::number(lr));
  }
  void check_sizes(const char* who, std::size_t p, std::size_t g) const {
    if (p != n_ || g != n_)
      throw std::invalid_argument(std::string("ctnn::optim::") + who + "::step: built for " + std::to_string(n_) +
                                  " parameters, given " + std::to_string(p) + " parameters and " + std::to_string(g) +
                                  " gradient values");
  }

  std::size_t n_;
  AlignedBuffer<T> state_;
  std::uint64_t steps_ = 0;
  DecayMask mask_;
};

}  // namespace ctnn::optim
