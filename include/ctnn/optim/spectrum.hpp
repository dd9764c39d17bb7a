// ctnn/optim/spectrum.hpp: spectra for gradient diagnostics: singular values of a matrix (e.g. a
// layer's input-output Jacobian, nn/gradient_diagnostics.hpp), eigenvalues of a symmetric matrix,
// all P eigenvalues of a Fisher (optim/fisher.hpp) — for P above the number of gradient rows R
// through the R x R Gram matrix of its rows (F = Vᵀ diag(w) V and diag(√w) V Vᵀ diag(√w) share their
// nonzero eigenvalues; the other P − R are exactly 0) — and the condition number over the
// numerical rank (conditioning: over |λ|, with the count of negative eigenvalues, so an indefinite
// Hessian is reported as such rather than losing its negative half).
// The decompositions are Eigen 3's (JacobiSVD, SelfAdjointEigenSolver), compiled once in
// src/optim/spectrum.cpp: Eigen's solvers cost ~40 s of compiling per translation unit, and this
// header includes no Eigen. So a program that calls singular_values, symmetric_eigenvalues,
// gram_eigenvalues or fisher_eigenvalues must link that library, libctnn_spectrum.a (built when
// ctnn's configure finds Eigen 3), or it fails to link with undefined references to them: in meson,
// dependency('ctnn-spectrum') — the installed pkg-config file, or ctnn as a subproject
// (fallback : ['ctnn', 'ctnn_spectrum_dep']); elsewhere `pkg-config --cflags --libs ctnn-spectrum`.
// conditioning() is inline and needs no library. Docs: docs/api-quick.md.
// Not in the umbrella. Layer: optim (includes nn).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "ctnn/optim/fisher.hpp"

namespace ctnn::optim {

/// Singular values of the rows x cols row-major matrix A, largest first (Eigen's JacobiSVD).
std::vector<double> singular_values(const double* A, std::size_t rows, std::size_t cols);
std::vector<double> singular_values(const float* A, std::size_t rows, std::size_t cols);

/// Eigenvalues of the symmetric n x n matrix S, ascending (Eigen's SelfAdjointEigenSolver).
std::vector<double> symmetric_eigenvalues(const double* S, std::size_t n);
std::vector<double> symmetric_eigenvalues(const float* S, std::size_t n);

/// Eigenvalues of V Vᵀ for the rows x cols row-major V, ascending (the Gram matrix of V's rows).
std::vector<double> gram_eigenvalues(const double* V, std::size_t rows, std::size_t cols);

/// All P eigenvalues of the Fisher F = Σ_r w_r v_r v_rᵀ held by f (after f.compute), ascending.
/// Forms F when P <= rows, else the rows x rows Gram matrix of the weighted rows.
template <class Net, class Likelihood>
std::vector<double> fisher_eigenvalues(const FisherFactors<Net, Likelihood>& f) {
  constexpr std::size_t P = Net::num_params;
  const std::size_t R = f.rows();
  if (P <= R) {
    std::vector<typename Net::scalar> F(P * P);
    f.form(F);
    return symmetric_eigenvalues(F.data(), P);
  }
  std::vector<double> V(R * P);
  for (std::size_t r = 0; r < R; ++r) {
    const double s = std::sqrt(std::max(0.0, static_cast<double>(f.weight(r))));
    const auto row = f.row(r);
    for (std::size_t j = 0; j < P; ++j) V[r * P + j] = s * static_cast<double>(row[j]);
  }
  std::vector<double> ev(P - R, 0.0);
  const std::vector<double> g = gram_eigenvalues(V.data(), R, P);
  ev.insert(ev.end(), g.begin(), g.end());
  std::sort(ev.begin(), ev.end());
  return ev;
}

/// Conditioning of a symmetric matrix from its eigenvalues (in any order): a Fisher's or a Gram
/// matrix's (positive semi-definite), or a Hessian's, which away from a minimum is indefinite.
/// Every figure is over the magnitudes |λ|, the singular values of a symmetric matrix: `condition`
/// is its 2-norm condition number κ₂ = σ_max / σ_min on the numerical range (for a positive
/// semi-definite matrix, λ_max / the smallest eigenvalue above the tolerance). No eigenvalue is
/// dropped for its sign: `negative` counts those below −tolerance (0: positive semi-definite up to
/// rounding; > 0: indefinite or negative definite, e.g. a saddle point's Hessian) and `min_eigenvalue`
/// is the most negative curvature. A NaN or infinite eigenvalue throws std::invalid_argument.
struct Conditioning {
  double largest = 0;         ///< max |λ| (λ_max for a positive semi-definite matrix): the spectral norm
  double smallest = 0;        ///< the smallest |λ| above the tolerance
  double condition = 0;       ///< largest / smallest: κ₂ on the numerical range (∞ when the rank is 0)
  std::size_t rank = 0;       ///< eigenvalues with |λ| above the tolerance
  std::size_t negative = 0;   ///< eigenvalues below −tolerance (0 for a positive semi-definite matrix)
  double min_eigenvalue = 0;  ///< λ_min, signed: the most negative curvature when negative > 0
  double max_eigenvalue = 0;  ///< λ_max, signed
  std::size_t dimension = 0;
  double tolerance = 0;       ///< max |λ| · n · ε (NumPy's matrix_rank default)
  bool positive_semidefinite() const noexcept { return negative == 0; }
};
inline Conditioning conditioning(std::span<const double> eigenvalues) {
  Conditioning c;
  c.dimension = eigenvalues.size();
  if (eigenvalues.empty()) return c;
  for (std::size_t i = 0; i < eigenvalues.size(); ++i)
    if (!std::isfinite(eigenvalues[i]))
      throw std::invalid_argument("ctnn::optim::conditioning: eigenvalue " + std::to_string(i) + " of " +
                                  std::to_string(eigenvalues.size()) + " is " + std::to_string(eigenvalues[i]) +
                                  " (a matrix with NaN or infinite entries?)");
  const auto [lo, hi] = std::minmax_element(eigenvalues.begin(), eigenvalues.end());
  c.min_eigenvalue = *lo;
  c.max_eigenvalue = *hi;
  c.largest = std::max(std::abs(*lo), std::abs(*hi));
  c.tolerance = c.largest * static_cast<double>(eigenvalues.size()) * std::numeric_limits<double>::epsilon();
  c.smallest = c.largest;
  for (double v : eigenvalues) {
    if (std::abs(v) > c.tolerance) {
      ++c.rank;
      c.smallest = std::min(c.smallest, std::abs(v));
    }
    if (v < -c.tolerance) ++c.negative;
  }
  c.condition = c.rank > 0 ? c.largest / c.smallest : std::numeric_limits<double>::infinity();
  return c;
}

}  // namespace ctnn::optim
