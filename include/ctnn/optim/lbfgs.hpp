// ctnn/optim/lbfgs.hpp: limited-memory BFGS. The direction is −H g, where H (the inverse-Hessian
// estimate) is applied by the two-loop recursion over the last m pairs s = x_{k+1} − x_k,
// y = g_{k+1} − g_k, started from H0 = (s·y)/(y·y) I; the step length comes from a strong-Wolfe
// line search (line_search.hpp). Works on any function of a parameter vector,
//   T f(std::span<const T> x, std::span<T> grad)    (returns f(x), writes ∇f(x) to grad),
// and on a network's full-batch loss through NetworkObjective / minimize_loss below.
//
// The algorithm is PyTorch's torch.optim.LBFGS(line_search_fn="strong_wolfe") step for step: first
// trial step min(1, 1/‖g‖₁)·lr, later lr; a pair is stored only if s·y > 1e-10 (curvature_threshold);
// the same stopping tests (the gradient test moved first, which changes only the reported reason).
// So with the same settings it visits the same iterates with the same evaluation counts
// (tests/curvature/test_lbfgs.cpp holds it to PyTorch's Rosenbrock run, iterates within 1e-9).
// Like PyTorch's step(), minimize() keeps its state (history, last direction): calling it again
// continues the run; reset() starts afresh (needed before minimising another function).
//
// Stopping (LbfgsOptions; LbfgsResult::stopped_by says which test fired):
//   gradient   ‖g‖ <= grad_tolerance, the norm chosen by grad_norm (Euclidean by default;
//              GradNorm::max_abs is PyTorch's tolerance_grad test)
//   max_iterations / max_evaluations   per minimize() call (evaluations: calls of f, line search included)
//   no_descent      g·d > −change_tolerance (the direction no longer descends measurably)
//   step_tolerance  max|t d| <= change_tolerance
//   loss_change     |f_k − f_{k−1}| < change_tolerance
//   non_finite      f or ∇f NaN/Inf at the point minimize() starts from (x untouched; loss is that
//                   value), or at the step the line search returns: x is put back where that
//                   iteration started — the last accepted iterate (the observer's last x), or the
//                   caller's x in the call's first iteration — and loss, grad_norm are that point's.
//                   Not the line search's last finite trial: the failed search's trials are dropped,
//                   even a finite one with a lower f. Only the returned step is tested: a search that
//                   meets a NaN trial but returns a finite step goes on as usual.
// Allocation: at construction only (history 2·m·n, a few vectors of n).
// Layer: optim (includes core; the network adapter is a template over any Net).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>

#include "ctnn/core/aligned.hpp"
#include "ctnn/optim/line_search.hpp"

namespace ctnn::optim {

enum class GradNorm {
  l2,       ///< Euclidean norm ‖g‖₂
  max_abs,  ///< max_i |g_i| (PyTorch's tolerance_grad)
};

enum class LbfgsStop {
  gradient,         ///< the gradient norm fell to grad_tolerance
  max_iterations,   ///< max_iterations iterations in this call
  max_evaluations,  ///< max_evaluations function evaluations in this call
  no_descent,       ///< the directional derivative g·d rose above −change_tolerance
  step_tolerance,   ///< the step max|t d| fell to change_tolerance
  loss_change,      ///< the loss changed by less than change_tolerance
  non_finite,       ///< f or ∇f was NaN/Inf at the start (x untouched), or at the step the line search returned:
                    ///< x is back where that iteration started (the last accepted iterate), not at a finite trial
};

inline const char* to_string(LbfgsStop s) noexcept {
  switch (s) {
    case LbfgsStop::gradient: return "gradient norm";
    case LbfgsStop::max_iterations: return "max iterations";
    case LbfgsStop::max_evaluations: return "max evaluations";
    case LbfgsStop::no_descent: return "no descent direction";
    case LbfgsStop::step_tolerance: return "step below tolerance";
    case LbfgsStop::loss_change: return "loss change below tolerance";
    case LbfgsStop::non_finite: return "non-finite loss or gradient";
  }
  return "?";
}

struct LbfgsOptions {
  std::size_t history = 10;          ///< m, the number of (s, y) pairs kept
  double lr = 1;                     ///< the line search's first trial step (after the first iteration)
  std::size_t max_iterations = 1000;  ///< per minimize() call
  std::size_t max_evaluations = 0;   ///< per call; 0 = max_iterations·5/4 (PyTorch's default rule)
  double grad_tolerance = 1e-7;
  GradNorm grad_norm = GradNorm::l2;
  double change_tolerance = 1e-9;    ///< for no_descent, step_tolerance and loss_change (0 disables them)
  /// A pair (s, y) is stored only if s·y > curvature_threshold. PyTorch's 1e-10 is absolute: once
  /// the steps are small (s·y ≈ 2·(decrease of f), so near a minimum where f changes by < 1e-10)
  /// no pair is stored any more and convergence becomes linear. 0 keeps every pair with s·y > 0
  /// (still enough for a positive-definite H) for runs to high accuracy.
  double curvature_threshold = 1e-10;
  StrongWolfeOptions line_search{};
};

template <class T>
struct LbfgsResult {
  LbfgsStop stopped_by = LbfgsStop::max_iterations;
  T loss = 0;                    ///< f at the returned point
  T grad_norm = 0;               ///< the norm chosen by LbfgsOptions::grad_norm, at the returned point
  std::size_t iterations = 0;    ///< in this call
  std::size_t evaluations = 0;   ///< in this call (the evaluation at the start included)
  std::size_t total_iterations = 0, total_evaluations = 0;  ///< since construction / reset()
};

/// What minimize() passes to its observer after every iteration.
template <class T>
struct LbfgsIterate {
  std::size_t iteration;    ///< cumulative (since reset)
  std::size_t evaluations;  ///< cumulative
  std::span<const T> x;
  T loss;
  std::span<const T> grad;
  T step;                   ///< the accepted line-search step t
};

template <class T>
T norm_of(std::span<const T> g, GradNorm which) {
  T s = 0;
  if (which == GradNorm::max_abs) {
    for (T v : g) s = std::max(s, std::abs(v));
    return s;
  }
  for (T v : g) s += v * v;
  return std::sqrt(s);
}

template <class T>
class Lbfgs {
 public:
  Lbfgs(std::size_t n, LbfgsOptions options = {})
      : opt_(options), n_(n), m_(options.history), s_(options.history * n), y_(options.history * n),
        rho_(options.history), alpha_(options.history), d_(n), g_(n), g_prev_(n), x0_(n),
        line_search_(n, options.line_search) {
    if (n == 0) throw std::invalid_argument("ctnn::optim::Lbfgs: the dimension n must be > 0");
    if (m_ == 0) throw std::invalid_argument("ctnn::optim::Lbfgs: history must be > 0");
    if (options.max_iterations == 0) throw std::invalid_argument("ctnn::optim::Lbfgs: max_iterations must be > 0");
    if (!(options.lr > 0)) throw std::invalid_argument("ctnn::optim::Lbfgs: lr must be > 0");
    if (opt_.max_evaluations == 0) opt_.max_evaluations = std::max<std::size_t>(1, opt_.max_iterations * 5 / 4);
  }

  const LbfgsOptions& options() const noexcept { return opt_; }
  std::size_t dimension() const noexcept { return n_; }
  std::size_t pairs_stored() const noexcept { return count_; }

  /// Forgets the history: the next minimize() starts with steepest descent.
  void reset() noexcept {
    total_iterations_ = total_evaluations_ = count_ = 0;
    head_ = 0;
    h_diag_ = 1;
    t_ = 0;
    prev_loss_ = 0;
  }

  /// Minimises f from x (updated in place). f(x, grad) returns f(x) and writes ∇f(x) to grad;
  /// during the line search x holds the trial point (x_k + t d), and it is restored to the
  /// accepted point after each iteration. observe(const LbfgsIterate<T>&) is called after every
  /// iteration.
  template <class F, class Observer>
  LbfgsResult<T> minimize(F&& f, std::span<T> x, Observer&& observe) {
    if (x.size() != n_) throw std::invalid_argument("ctnn::optim::Lbfgs::minimize: x has the wrong size");
    const T lr = T(opt_.lr), tol_change = T(opt_.change_tolerance);
    LbfgsResult<T> r;
    const std::span<T> g = g_.span(), d = d_.span();
    T loss = f(std::span<const T>(x), g);
    r.evaluations = 1;
    ++total_evaluations_;
    auto finish = [&](LbfgsStop why) {
      r.stopped_by = why;
      r.loss = loss;
      r.grad_norm = norm_of<T>(g, opt_.grad_norm);
      r.total_iterations = total_iterations_;
      r.total_evaluations = total_evaluations_;
      return r;
    };
    if (!finite(loss, g)) return finish(LbfgsStop::non_finite);
    if (norm_of<T>(g, opt_.grad_norm) <= T(opt_.grad_tolerance)) return finish(LbfgsStop::gradient);

    while (true) {
      ++r.iterations;
      ++total_iterations_;
      if (total_iterations_ == 1) {
        for (std::size_t i = 0; i < n_; ++i) d[i] = -g[i];
        count_ = head_ = 0;
        h_diag_ = 1;
      } else {
        update_history(g);
        two_loop(g);
      }
      std::copy(g.begin(), g.end(), g_prev_.begin());
      prev_loss_ = loss;

      T t = lr;
      if (total_iterations_ == 1) {
        T l1 = 0;
        for (T v : g) l1 += std::abs(v);
        t = std::min(T(1), T(1) / l1) * lr;
      }
      T gtd = 0;
      for (std::size_t i = 0; i < n_; ++i) gtd += g[i] * d[i];
      if (gtd > -tol_change) {
        t_ = t;
        return finish(LbfgsStop::no_descent);
      }

      std::copy(x.begin(), x.end(), x0_.begin());
      auto phi = [&](T step, std::span<T> g_out) {
        move_to(x, step);
        return f(std::span<const T>(x), g_out);
      };
      const auto ls = line_search_.search(phi, std::span<const T>(d), t, loss, std::span<const T>(g), gtd, g);
      r.evaluations += ls.evaluations;
      total_evaluations_ += ls.evaluations;
      if (!finite(ls.f, g) || !std::isfinite(ls.t)) {  // back to the start of the iteration
        std::copy(x0_.begin(), x0_.end(), x.begin());
        std::copy(g_prev_.begin(), g_prev_.end(), g.begin());
        return finish(LbfgsStop::non_finite);
      }
      t = t_ = ls.t;
      loss = ls.f;
      move_to(x, t);
      const LbfgsIterate<T> it{total_iterations_, total_evaluations_, std::span<const T>(x), loss, std::span<const T>(g), t};
      observe(it);

      // PyTorch tests the budgets first; the gradient goes first here so that a run that has
      // converged says so (the iterates are the same either way).
      if (norm_of<T>(g, opt_.grad_norm) <= T(opt_.grad_tolerance)) return finish(LbfgsStop::gradient);
      if (r.iterations == opt_.max_iterations) return finish(LbfgsStop::max_iterations);
      if (r.evaluations >= opt_.max_evaluations) return finish(LbfgsStop::max_evaluations);
      T step = 0;
      for (T v : d) step = std::max(step, std::abs(v * t));
      if (step <= tol_change) return finish(LbfgsStop::step_tolerance);
      if (std::abs(loss - prev_loss_) < tol_change) return finish(LbfgsStop::loss_change);
    }
  }
  template <class F>
  LbfgsResult<T> minimize(F&& f, std::span<T> x) {
    return minimize(std::forward<F>(f), x, [](const LbfgsIterate<T>&) {});
  }

 private:
  static bool finite(T f, std::span<const T> g) noexcept {
    if (!std::isfinite(f)) return false;
    for (T v : g)
      if (!std::isfinite(v)) return false;
    return true;
  }
  // x = x0 + t d, computed from the saved start so that every trial and the accepted point are
  // rounded the same way.
  void move_to(std::span<T> x, T t) const noexcept {
    for (std::size_t i = 0; i < n_; ++i) x[i] = x0_[i] + t * d_[i];
  }
  T* s_at(std::size_t k) noexcept { return s_.data() + ((head_ + k) % m_) * n_; }  // k-th oldest pair
  T* y_at(std::size_t k) noexcept { return y_.data() + ((head_ + k) % m_) * n_; }
  T& rho_at(std::size_t k) noexcept { return rho_[(head_ + k) % m_]; }

  // Adds the pair (s, y) = (t d, g − g_prev) of the last step if s·y > curvature_threshold (else skips it),
  // dropping the oldest when m are kept, and rescales H0 = (s·y)/(y·y).
  void update_history(std::span<const T> g) {
    T ys = 0;
    for (std::size_t i = 0; i < n_; ++i) ys += (g[i] - g_prev_[i]) * (d_[i] * t_);
    if (!(ys > T(opt_.curvature_threshold))) return;
    const std::size_t slot = (head_ + count_) % m_;  // after the newest; the oldest when full
    T* s = s_.data() + slot * n_;
    T* y = y_.data() + slot * n_;
    T yy = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      y[i] = g[i] - g_prev_[i];
      s[i] = d_[i] * t_;
      yy += y[i] * y[i];
    }
    rho_[slot] = T(1) / ys;
    if (count_ == m_) head_ = (head_ + 1) % m_;
    else ++count_;
    h_diag_ = ys / yy;
  }
  // d = −H g by the two-loop recursion (newest pair first, then oldest first).
  void two_loop(std::span<const T> g) {
    T* q = d_.data();
    for (std::size_t i = 0; i < n_; ++i) q[i] = -g[i];
    for (std::size_t k = count_; k-- > 0;) {
      const T* s = s_at(k);
      const T* y = y_at(k);
      T a = 0;
      for (std::size_t i = 0; i < n_; ++i) a += s[i] * q[i];
      a *= rho_at(k);
      alpha_[k] = a;
      for (std::size_t i = 0; i < n_; ++i) q[i] += -a * y[i];
    }
    for (std::size_t i = 0; i < n_; ++i) q[i] *= h_diag_;
    for (std::size_t k = 0; k < count_; ++k) {
      const T* s = s_at(k);
      const T* y = y_at(k);
      T b = 0;
      for (std::size_t i = 0; i < n_; ++i) b += y[i] * q[i];
      b *= rho_at(k);
      for (std::size_t i = 0; i < n_; ++i) q[i] += (alpha_[k] - b) * s[i];
    }
  }

  LbfgsOptions opt_;
  std::size_t n_, m_;
  AlignedBuffer<T> s_, y_, rho_, alpha_;  // ring of m pairs: oldest at head_, count_ stored
  AlignedBuffer<T> d_, g_, g_prev_, x0_;
  StrongWolfe<T> line_search_;
  std::size_t head_ = 0, count_ = 0;
  std::size_t total_iterations_ = 0, total_evaluations_ = 0;
  T h_diag_ = 1, t_ = 0, prev_loss_ = 0;
};

/// A network's mean loss over its B training samples as a function of its parameter vector, for
/// Lbfgs (or any optimiser that takes f(x, grad)): one full-batch pass net.gradient<B>. X is
/// B x Net::inputs, Y is B x Net::outputs, row-major, kept alive by the caller. If x is not
/// net.params() itself it is copied into the network first. For a sample count that is not a
/// compile-time constant, pass Lbfgs a lambda over ctnn::full_batch_gradient<Chunk>
/// (train/gradient_descent.hpp) instead, as tests/curvature/test_lbfgs.cpp does.
template <std::size_t B, class Net, class Loss>
class NetworkObjective {
  using T = typename Net::scalar;

 public:
  NetworkObjective(Net& net, Loss loss, const T* X, const T* Y) : net_(net), loss_(std::move(loss)), X_(X), Y_(Y) {}
  T operator()(std::span<const T> x, std::span<T> grad) {
    if (x.size() != Net::num_params || grad.size() != Net::num_params)
      throw std::invalid_argument("ctnn::optim::NetworkObjective: x and grad must have Net::num_params values");
    auto p = net_.params();
    if (x.data() != p.data()) std::copy(x.begin(), x.end(), p.begin());
    const T l = net_.template gradient<B>(loss_, X_, Y_);
    const auto gr = net_.grads();
    std::copy(gr.begin(), gr.end(), grad.begin());
    return l;
  }

 private:
  Net& net_;
  Loss loss_;
  const T* X_;
  const T* Y_;
};

/// L-BFGS on a network's mean loss over B samples (see NetworkObjective), in place on
/// net.params(). After it returns, net.grads() holds the gradient of the last trial point, which
/// need not be the returned one.
template <std::size_t B, class Net, class Loss>
LbfgsResult<typename Net::scalar> minimize_loss(Lbfgs<typename Net::scalar>& opt, Net& net, const Loss& loss,
                                                const typename Net::scalar* X, const typename Net::scalar* Y) {
  NetworkObjective<B, Net, Loss> f(net, loss, X, Y);
  return opt.minimize(f, net.params());
}

}  // namespace ctnn::optim
