// ctnn/optim/cg.hpp: conjugate gradient for A x = b with A symmetric positive definite, given only
// as a product v -> A v (matrix-free: e.g. a damped Fisher-vector product, see natural_gradient.hpp).
// Workspace allocated at construction; solve() allocates nothing.
// Written by hand: no Debian-packaged library already in ctnn's build offers a matrix-free CG on
// raw spans (xtensor has no linear solvers; xtensor-blas is not a dependency).
// Layer: optim (includes core).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>

#include "ctnn/core/aligned.hpp"

namespace ctnn::optim {

struct CgResult {
  std::size_t iterations = 0;
  double relative_residual = 0;  ///< ‖b − A x‖ / ‖b‖ (the recurrence's residual)
  bool converged = false;
};

template <class T>
class ConjugateGradient {
 public:
  explicit ConjugateGradient(std::size_t n) : r_(n), p_(n), ap_(n) {}

  /// Solves A x = b from the initial guess in x, until ‖r‖ <= tolerance·‖b‖ or max_iterations
  /// (0 = n) products. apply(v, out) writes A v to out.
  template <class Apply>
  CgResult solve(Apply&& apply, std::span<const T> b, std::span<T> x, double tolerance, std::size_t max_iterations = 0) {
    const std::size_t n = b.size();
    if (x.size() != n || r_.size() != n) throw std::invalid_argument("ctnn::optim::ConjugateGradient: size mismatch");
    if (max_iterations == 0) max_iterations = n;
    T* r = r_.data();
    T* p = p_.data();
    T* ap = ap_.data();
    apply(std::span<const T>(x), std::span<T>(ap, n));
    T bb = 0, rr = 0;
    for (std::size_t i = 0; i < n; ++i) {
      r[i] = b[i] - ap[i];
      p[i] = r[i];
      bb += b[i] * b[i];
      rr += r[i] * r[i];
    }
    CgResult res;
    const T b_norm = std::sqrt(bb);
    if (b_norm == T(0)) {
      std::fill(x.begin(), x.end(), T(0));
      res.converged = true;
      return res;
    }
    const T target = T(tolerance) * b_norm;
    while (std::sqrt(rr) > target && res.iterations < max_iterations) {
      apply(std::span<const T>(p, n), std::span<T>(ap, n));
      T pap = 0;
      for (std::size_t i = 0; i < n; ++i) pap += p[i] * ap[i];
      if (!(pap > T(0))) break;  // A is not positive definite along p (or p = 0)
      const T alpha = rr / pap;
      T rr_new = 0;
      for (std::size_t i = 0; i < n; ++i) {
        x[i] += alpha * p[i];
        r[i] -= alpha * ap[i];
        rr_new += r[i] * r[i];
      }
      const T beta = rr_new / rr;
      rr = rr_new;
      for (std::size_t i = 0; i < n; ++i) p[i] = r[i] + beta * p[i];
      ++res.iterations;
    }
    res.relative_residual = static_cast<double>(std::sqrt(rr) / b_norm);
    res.converged = std::sqrt(rr) <= target;
    return res;
  }

 private:
  AlignedBuffer<T> r_, p_, ap_;
};

}  // namespace ctnn::optim
