// ctnn/optim/natural_gradient.hpp: the damped natural gradient θ ← θ − lr·(F + λI)⁻¹ g, with F the
// empirical or the true Fisher of the network's predictive distribution (fisher.hpp) on the
// samples of the step and g the mean gradient of their negative log-likelihood.
// Two solvers for (F + λI) x = g:
//   cholesky            forms F (P x P) and factorises it: O(R P² + P³) per step, for small P;
//   conjugate_gradient  never forms F: each CG iteration is one Fisher-vector product
//                       Fv = Σ_r w_r v_r (v_rᵀ v) over the R stored gradient rows, O(R P).
// automatic picks Cholesky up to cholesky_max_params parameters. λ > 0 is required: F is
// singular (softmax is unchanged by adding the same vector to every class's weights; the
// empirical Fisher has rank <= N).
// Allocation: at construction only (rows, F if it may be formed, CG workspace).
// Layer: optim (includes nn through fisher.hpp).
#pragma once
#include <algorithm>
#include <cstddef>
#include <span>
#include <stdexcept>

#include "ctnn/core/aligned.hpp"
#include "ctnn/optim/cg.hpp"
#include "ctnn/optim/cholesky.hpp"
#include "ctnn/optim/fisher.hpp"

namespace ctnn::optim {

enum class NgSolver { automatic, cholesky, conjugate_gradient };

struct NaturalGradientOptions {
  double lr = 1;
  double damping = 1e-3;  ///< λ
  FisherKind fisher = FisherKind::true_fisher;
  NgSolver solver = NgSolver::automatic;
  /// automatic: Cholesky when P <= this, else CG. Forming F costs R·P² (R gradient rows) and the
  /// factorisation P³/3; CG costs ~2·R·P per iteration: on 547 parameters CG took 2-27 ms per
  /// direction and Cholesky 100-110 ms (tests/curvature/test_natural_gradient_large.cpp).
  std::size_t cholesky_max_params = 128;
  double cg_tolerance = 1e-10;            ///< relative residual ‖(F + λI)x − g‖ / ‖g‖
  std::size_t cg_max_iterations = 0;      ///< 0 = P
};

template <class T>
struct NaturalGradientStep {
  T loss = 0;                 ///< mean negative log-likelihood before the step
  NgSolver solver = NgSolver::cholesky;  ///< the one used
  CgResult cg{};              ///< CG's iterations and residual (conjugate_gradient only)
};

template <class Net, class Likelihood>
class NaturalGradient {
 public:
  using T = typename Net::scalar;
  static constexpr std::size_t P = Net::num_params;

  /// max_samples: the most samples a step will see (the Fisher's rows are allocated for it).
  NaturalGradient(std::size_t max_samples, NaturalGradientOptions options = {})
      : opt_(options), solver_(resolve(options)), fisher_(max_samples, options.fisher), grad_(P), dir_(P),
        F_(solver_ == NgSolver::cholesky ? P * P : 0), cg_(solver_ == NgSolver::conjugate_gradient ? P : 0) {
    if (!(options.damping > 0))
      throw std::invalid_argument("ctnn::optim::NaturalGradient: damping must be > 0 (the Fisher is singular)");
  }

  const NaturalGradientOptions& options() const noexcept { return opt_; }
  NgSolver solver() const noexcept { return solver_; }
  FisherFactors<Net, Likelihood>& fisher() noexcept { return fisher_; }
  std::span<const T> gradient() const noexcept { return grad_.span(); }
  /// (F + λI)⁻¹ g of the last direction() or step().
  std::span<const T> direction() const noexcept { return dir_.span(); }

  /// Computes g and (F + λI)⁻¹ g at the network's parameters on n samples (X: n x inputs, Y: n x
  /// outputs as FisherFactors::compute) without changing the parameters.
  NaturalGradientStep<T> compute_direction(Net& net, const T* X, const T* Y, std::size_t n) {
    NaturalGradientStep<T> s;
    s.loss = fisher_.compute(net, X, Y, n, grad_.span());
    s.solver = solver_;
    const T lambda = T(opt_.damping);
    if (solver_ == NgSolver::cholesky) {
      fisher_.form(F_.span());
      for (std::size_t i = 0; i < P; ++i) F_[i * P + i] += lambda;
      cholesky_factor<T>(F_.span(), P);
      cholesky_solve<T>(F_.span(), P, grad_.span(), dir_.span());
    } else {
      std::fill(dir_.begin(), dir_.end(), T(0));
      auto apply = [&](std::span<const T> v, std::span<T> out) {
        fisher_.multiply(v, out);
        for (std::size_t i = 0; i < P; ++i) out[i] += lambda * v[i];
      };
      s.cg = cg_.solve(apply, grad_.span(), dir_.span(), opt_.cg_tolerance, opt_.cg_max_iterations);
    }
    return s;
  }

  /// One step θ ← θ − lr (F + λI)⁻¹ g on n samples; returns the loss before it.
  NaturalGradientStep<T> step(Net& net, const T* X, const T* Y, std::size_t n) {
    const auto s = compute_direction(net, X, Y, n);
    auto p = net.params();
    const T lr = T(opt_.lr);
    for (std::size_t i = 0; i < P; ++i) p[i] -= lr * dir_[i];
    return s;
  }

 private:
  static NgSolver resolve(const NaturalGradientOptions& o) {
    if (o.solver != NgSolver::automatic) return o.solver;
    return P <= o.cholesky_max_params ? NgSolver::cholesky : NgSolver::conjugate_gradient;
  }

  NaturalGradientOptions opt_;
  NgSolver solver_;
  FisherFactors<Net, Likelihood> fisher_;
  AlignedBuffer<T> grad_, dir_, F_;
  ConjugateGradient<T> cg_;
};

}  // namespace ctnn::optim
