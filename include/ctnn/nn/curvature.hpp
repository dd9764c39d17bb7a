// ctnn/nn/curvature.hpp: what the second-order Taylor model f(θ − ηg) ≈ f − η gᵀg + ½η² gᵀHg
// says about a gradient step, made usable from HVPs (nn/hvp.hpp):
//  * the optimal step along −g, η* = gᵀg / gᵀHg (one gradient, one HVP), with the model's
//    predicted decrease (gᵀg)² / (2 gᵀHg); when gᵀHg <= 0 the model has no minimum along −g;
//  * the gradient's local Lipschitz constant L = |λ|max of H by power iteration on HVPs (the
//    dominant eigenvalue; its Rayleigh quotient is returned with its sign), and the learning rate
//    1/L it suggests (gradient descent is stable on the quadratic model for lr < 2/L).
// Both take any HVP at a fixed point as a callable hvp(v, Hv, g) -> f (g may be null), e.g.
// NetworkHvp::at(net, loss, x, y) or ObjectiveHvp::at(θ). Buffers are allocated at construction.
// Layer: nn.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include "ctnn/core/aligned.hpp"
#include "ctnn/nn/init.hpp"

namespace ctnn {

template <class T>
struct OptimalStep {
  T loss = 0;                 ///< f(θ)
  T grad_sq = 0;              ///< gᵀg
  T curvature = 0;            ///< gᵀHg
  T eta = 0;                  ///< gᵀg / gᵀHg; +inf when gᵀHg <= 0
  T predicted_decrease = 0;   ///< f(θ) − min_η model = (gᵀg)² / (2 gᵀHg); +inf when gᵀHg <= 0
  bool positive_curvature = false;
};

template <class T>
struct LipschitzEstimate {
  T eigenvalue = 0;  ///< dominant eigenvalue of H (largest |λ|), with its sign
  T L = 0;           ///< |eigenvalue|: the gradient's Lipschitz constant on the quadratic model
  T lr = 0;          ///< 1/L, the suggested learning rate
  T residual = 0;    ///< ‖H u − λ u‖ / |λ| for the final unit vector u
  std::size_t iterations = 0;
  bool converged = false;
};

struct PowerIterationOptions {
  std::size_t max_iterations = 1000;
  double tolerance = 1e-9;  ///< stop when ‖H u − λ u‖ <= tolerance·|λ| (λ's error is about its square)
  std::uint64_t seed = 1;   ///< start vector: standard normal from this seed
};

template <class T>
class CurvatureProbe {
 public:
  explicit CurvatureProbe(std::size_t n) : g_(n), hv_(n), u_(n), zero_(n) {}
  std::size_t size() const noexcept { return g_.size(); }

  /// η* = gᵀg / gᵀHg at the HVP's point: one pass for g (v = 0), one HVP with v = g.
  template <class Hvp>
  OptimalStep<T> optimal_step(Hvp&& hvp) {
    OptimalStep<T> r;
    r.loss = hvp(zero_.data(), hv_.data(), g_.data());
    hvp(g_.data(), hv_.data(), nullptr);
    for (std::size_t i = 0; i < size(); ++i) {
      r.grad_sq += g_[i] * g_[i];
      r.curvature += g_[i] * hv_[i];
    }
    r.positive_curvature = r.curvature > T(0);
    const T inf = std::numeric_limits<T>::infinity();
    r.eta = r.positive_curvature ? r.grad_sq / r.curvature : inf;
    r.predicted_decrease = r.positive_curvature ? r.grad_sq * r.grad_sq / (T(2) * r.curvature) : inf;
    return r;
  }

  /// L = |λ|max of H by power iteration: u ← Hu / ‖Hu‖, λ = uᵀHu.
  template <class Hvp>
  LipschitzEstimate<T> lipschitz(Hvp&& hvp, const PowerIterationOptions& opt = {}) {
    LipschitzEstimate<T> r;
    Random rng(opt.seed);
    for (auto& x : u_) x = static_cast<T>(rng.normal());
    normalise();
    for (r.iterations = 1; r.iterations <= opt.max_iterations; ++r.iterations) {
      hvp(u_.data(), hv_.data(), nullptr);
      T lambda = 0;
      for (std::size_t i = 0; i < size(); ++i) lambda += u_[i] * hv_[i];
      T res = 0;
      for (std::size_t i = 0; i < size(); ++i) res += (hv_[i] - lambda * u_[i]) * (hv_[i] - lambda * u_[i]);
      r.eigenvalue = lambda;
      r.residual = lambda != T(0) ? std::sqrt(res) / std::abs(lambda) : std::numeric_limits<T>::infinity();
      if (r.residual <= static_cast<T>(opt.tolerance)) {
        r.converged = true;
        break;
      }
      for (std::size_t i = 0; i < size(); ++i) u_[i] = hv_[i];
      if (!normalise()) break;  // H u = 0: λ = 0
    }
    if (r.iterations > opt.max_iterations) r.iterations = opt.max_iterations;
    r.L = std::abs(r.eigenvalue);
    r.lr = r.L > T(0) ? T(1) / r.L : std::numeric_limits<T>::infinity();
    return r;
  }

  std::span<const T> gradient() const noexcept { return g_.span(); }     ///< g from optimal_step
  std::span<const T> eigenvector() const noexcept { return u_.span(); }  ///< u from lipschitz (unit)

 private:
  bool normalise() {
    T s = 0;
    for (const T x : u_) s += x * x;
    if (!(s > T(0))) return false;
    const T inv = T(1) / std::sqrt(s);
    for (auto& x : u_) x *= inv;
    return true;
  }
  AlignedBuffer<T> g_, hv_, u_, zero_;
};

}  // namespace ctnn
