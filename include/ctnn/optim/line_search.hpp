// ctnn/optim/line_search.hpp: a line search along a direction d for the strong Wolfe conditions
//   f(x + t d) <= f(x) + c1 t g·d      (sufficient decrease)
//   |g(x + t d)·d| <= c2 |g·d|          (curvature)
// by bracketing then zooming, each new trial step the minimiser of the cubic that interpolates
// the values and slopes at the two bracket ends (Nocedal & Wright, Algorithms 3.5/3.6). The step
// rules follow PyTorch's `_strong_wolfe` (torch/optim/lbfgs.py) decision for decision, so that
// ctnn's L-BFGS reproduces PyTorch's iterates and evaluation counts; see lbfgs.hpp.
// Knows nothing about networks: it sees a function of the step length t only.
// Layer: optim (includes core).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>

#include "ctnn/core/aligned.hpp"

namespace ctnn::optim {

struct StrongWolfeOptions {
  double c1 = 1e-4;                ///< sufficient-decrease constant
  double c2 = 0.9;                 ///< curvature constant (0.9: the usual choice for quasi-Newton)
  double tolerance_change = 1e-9;  ///< stop zooming when the bracket is shorter than this (times max|d|)
  std::size_t max_evaluations = 25;
};

/// Minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clamped to
/// [lo, hi]; the midpoint when the cubic has no real minimiser.
template <class T>
T cubic_interpolate(T x1, T f1, T g1, T x2, T f2, T g2, T lo, T hi) {
  const T d1 = g1 + g2 - T(3) * (f1 - f2) / (x1 - x2);
  const T d2_square = d1 * d1 - g1 * g2;
  if (d2_square >= 0) {
    const T d2 = std::sqrt(d2_square);
    const T min_pos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + T(2) * d2))
                               : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + T(2) * d2));
    return std::min(std::max(min_pos, lo), hi);
  }
  return (lo + hi) / T(2);
}
/// The same, clamped to the interval between x1 and x2.
template <class T>
T cubic_interpolate(T x1, T f1, T g1, T x2, T f2, T g2) {
  return cubic_interpolate(x1, f1, g1, x2, f2, g2, std::min(x1, x2), std::max(x1, x2));
}

template <class T>
struct LineSearchResult {
  T t;                      ///< the accepted step
  T f;                      ///< f(x + t d)
  std::size_t evaluations;  ///< calls of phi made
  bool wolfe;               ///< true if both strong Wolfe conditions hold at t (else: the best point found)
};

/// Strong-Wolfe line search with its scratch gradients allocated once (n = dimension).
template <class T>
class StrongWolfe {
 public:
  explicit StrongWolfe(std::size_t n, StrongWolfeOptions options = {})
      : opt_(options), g_new_(n), g_prev_(n), bracket_g_{AlignedBuffer<T>(n), AlignedBuffer<T>(n)} {
    if (options.max_evaluations == 0) throw std::invalid_argument("ctnn::optim::StrongWolfe: max_evaluations must be > 0");
  }

  const StrongWolfeOptions& options() const noexcept { return opt_; }

  /// Searches along d from the point where the value is f, the gradient g and the slope
  /// gtd = g·d < 0, starting with step t. phi(t, g_out) returns f(x + t d) and writes its gradient
  /// to g_out. The gradient at the accepted step is written to g_at_t (may alias g).
  template <class Phi>
  LineSearchResult<T> search(Phi&& phi, std::span<const T> d, T t, T f, std::span<const T> g, T gtd,
                             std::span<T> g_at_t) {
    const std::size_t n = d.size();
    const T c1 = T(opt_.c1), c2 = T(opt_.c2);
    const std::size_t max_ls = opt_.max_evaluations;
    T d_norm = 0;
    for (T v : d) d_norm = std::max(d_norm, std::abs(v));
    T* gn = g_new_.data();
    T* gp = g_prev_.data();
    T* bg[2] = {bracket_g_[0].data(), bracket_g_[1].data()};
    auto copy = [n](const T* from, T* to) { std::copy_n(from, n, to); };
    auto dot_d = [&](const T* v) {
      T s = 0;
      for (std::size_t i = 0; i < n; ++i) s += v[i] * d[i];
      return s;
    };

    T f_new = phi(t, std::span<T>(gn, n));
    std::size_t evals = 1;
    T gtd_new = dot_d(gn);

    // Bracketing: grow the step until an interval is known to contain acceptable points.
    T t_prev = 0, f_prev = f, gtd_prev = gtd;
    copy(g.data(), gp);
    T bracket[2] = {0, 0}, bracket_f[2] = {0, 0}, bracket_gtd[2] = {0, 0};
    bool done = false, single = false;
    std::size_t ls_iter = 0;
    auto take_pair = [&] {
      bracket[0] = t_prev, bracket[1] = t;
      bracket_f[0] = f_prev, bracket_f[1] = f_new;
      copy(gp, bg[0]), copy(gn, bg[1]);
      bracket_gtd[0] = gtd_prev, bracket_gtd[1] = gtd_new;
    };
    while (ls_iter < max_ls) {
      if (f_new > f + c1 * t * gtd || (ls_iter > 1 && f_new >= f_prev)) {
        take_pair();
        break;
      }
      if (std::abs(gtd_new) <= -c2 * gtd) {
        bracket[0] = t, bracket_f[0] = f_new, copy(gn, bg[0]);
        done = single = true;
        break;
      }
      if (gtd_new >= 0) {
        take_pair();
        break;
      }
      // Extrapolate: the cubic's minimiser within [t + 0.01 (t - t_prev), 10 t].
      const T min_step = t + T(0.01) * (t - t_prev), max_step = t * T(10);
      const T tmp = t;
      t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, min_step, max_step);
      t_prev = tmp, f_prev = f_new, gtd_prev = gtd_new;
      copy(gn, gp);
      f_new = phi(t, std::span<T>(gn, n));
      ++evals;
      gtd_new = dot_d(gn);
      ++ls_iter;
    }
    if (ls_iter == max_ls) {  // no bracket found within the budget: [0, t]
      bracket[0] = 0, bracket[1] = t;
      bracket_f[0] = f, bracket_f[1] = f_new;
      copy(g.data(), bg[0]), copy(gn, bg[1]);
    }

    // Zoom: shrink the bracket [low, high] (f(low) <= f(high)) until a step satisfies both conditions.
    bool insufficient_progress = false;
    std::size_t low = 0, high = 1;
    if (!single && !(bracket_f[0] <= bracket_f[1])) low = 1, high = 0;
    while (!done && ls_iter < max_ls) {
      if (std::abs(bracket[1] - bracket[0]) * d_norm < T(opt_.tolerance_change)) break;
      t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]);
      // A trial too close to an end (within 10% of the bracket) twice in a row, or on an end, is
      // moved 10% inside: otherwise the bracket can shrink from one side only, very slowly.
      const T b_max = std::max(bracket[0], bracket[1]), b_min = std::min(bracket[0], bracket[1]);
      const T eps = T(0.1) * (b_max - b_min);
      if (std::min(b_max - t, t - b_min) < eps) {
        if (insufficient_progress || t >= b_max || t <= b_min) {
          t = std::abs(t - b_max) < std::abs(t - b_min) ? b_max - eps : b_min + eps;
          insufficient_progress = false;
        } else {
          insufficient_progress = true;
        }
      } else {
        insufficient_progress = false;
      }
      f_new = phi(t, std::span<T>(gn, n));
      ++evals;
      gtd_new = dot_d(gn);
      ++ls_iter;
      if (f_new > f + c1 * t * gtd || f_new >= bracket_f[low]) {
        // No sufficient decrease, or not below the low end: t becomes the new high end.
        bracket[high] = t, bracket_f[high] = f_new, bracket_gtd[high] = gtd_new;
        copy(gn, bg[high]);
        if (bracket_f[0] <= bracket_f[1]) low = 0, high = 1;
        else low = 1, high = 0;
      } else {
        if (std::abs(gtd_new) <= -c2 * gtd) {
          done = true;
        } else if (gtd_new * (bracket[high] - bracket[low]) >= 0) {
          // The slope at t points away from high: the old low becomes the high end.
          bracket[high] = bracket[low], bracket_f[high] = bracket_f[low], bracket_gtd[high] = bracket_gtd[low];
          copy(bg[low], bg[high]);
        }
        bracket[low] = t, bracket_f[low] = f_new, bracket_gtd[low] = gtd_new;
        copy(gn, bg[low]);
      }
    }
    copy(bg[low], g_at_t.data());
    return {bracket[low], bracket_f[low], evals, done};
  }

 private:
  StrongWolfeOptions opt_;
  AlignedBuffer<T> g_new_, g_prev_;
  AlignedBuffer<T> bracket_g_[2];
};

}  // namespace ctnn::optim
