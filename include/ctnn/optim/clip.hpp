// ctnn/optim/clip.hpp: gradient clipping on the flat gradient buffer.
// clip_grad_norm: ONE global L2 norm over all parameters (not per tensor); when it exceeds
// max_norm every entry is scaled by coef. Rescale::pytorch uses PyTorch's
// coef = min(1, max_norm / (norm + 1e-6)) (the clipped norm ends slightly below max_norm),
// Rescale::exact uses coef = max_norm / norm (norm exactly max_norm up to rounding). Below the
// threshold nothing changes. clip_grad_value clamps each entry to [-v, v]. clip_grad does what a
// training loop's options ask: the norm, then the values (PyTorch's order when both are used).
// Layer: optim (includes nothing from ctnn).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>

namespace ctnn::optim {

/// sqrt(sum g_i^2), accumulated in double.
template <class T>
double global_norm(std::span<const T> g) noexcept {
  double s = 0;
  for (const T v : g) s += static_cast<double>(v) * static_cast<double>(v);
  return std::sqrt(s);
}

enum class Rescale { pytorch, exact };

/// Scales g in place so that its global norm is at most max_norm; returns the norm before.
template <class T>
double clip_grad_norm(std::span<T> g, double max_norm, Rescale how = Rescale::pytorch) {
  if (!(max_norm > 0)) throw std::invalid_argument("ctnn::optim::clip_grad_norm: max_norm must be > 0");
  const double norm = global_norm(std::span<const T>(g));
  const double coef = how == Rescale::pytorch ? max_norm / (norm + 1e-6) : max_norm / norm;
  if (how == Rescale::pytorch ? coef < 1 : norm > max_norm)
    for (T& v : g) v = static_cast<T>(v * coef);
  return norm;
}

/// Clamps every entry of g to [-clip_value, clip_value].
template <class T>
void clip_grad_value(std::span<T> g, double clip_value) {
  if (!(clip_value >= 0)) throw std::invalid_argument("ctnn::optim::clip_grad_value: clip_value must be >= 0");
  const T c = static_cast<T>(clip_value);
  for (T& v : g) v = std::clamp(v, -c, c);
}

/// A training loop's clipping: the global norm to max_norm (if > 0), then every entry to
/// [-clip_value, clip_value] (if > 0); 0 turns either off. The Trainer, the tool's runtime loop
/// and data-parallel training all clip through this, so they clip alike.
template <class T>
void clip_grad(std::span<T> g, double max_norm, double clip_value, Rescale how = Rescale::pytorch) {
  if (max_norm > 0) clip_grad_norm(g, max_norm, how);
  if (clip_value > 0) clip_grad_value(g, clip_value);
}

}  // namespace ctnn::optim
