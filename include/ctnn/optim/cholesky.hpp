// ctnn/optim/cholesky.hpp: in-place Cholesky factorisation A = L Lᵀ of a small dense symmetric
// positive-definite matrix (row-major, n x n) and the solve L Lᵀ x = b; used by the natural
// gradient to solve (F + λI) x = g when F is formed.
// Written by hand (25 lines): the libraries already in ctnn's build offer no dense factorisation
// (xtensor's linear algebra is xtensor-blas, not a dependency; Eigen is only an optional
// benchmark dependency and not one of the header-only library's).
// Layer: optim (includes nothing of ctnn).
#pragma once
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>

namespace ctnn::optim {

/// Overwrites the lower triangle of A (n x n, row-major) with L, A = L Lᵀ (the upper triangle is
/// left as it was). Throws std::domain_error naming the pivot if A is not positive definite.
template <class T>
void cholesky_factor(std::span<T> A, std::size_t n) {
  if (A.size() != n * n) throw std::invalid_argument("ctnn::optim::cholesky_factor: A must have n*n values");
  for (std::size_t j = 0; j < n; ++j) {
    T d = A[j * n + j];
    for (std::size_t k = 0; k < j; ++k) d -= A[j * n + k] * A[j * n + k];
    if (!(d > T(0)))
      throw std::domain_error("ctnn::optim::cholesky_factor: matrix not positive definite (pivot " + std::to_string(j) +
                              " = " + std::to_string(static_cast<double>(d)) + ")");
    const T ljj = std::sqrt(d);
    A[j * n + j] = ljj;
    for (std::size_t i = j + 1; i < n; ++i) {
      T s = A[i * n + j];
      for (std::size_t k = 0; k < j; ++k) s -= A[i * n + k] * A[j * n + k];
      A[i * n + j] = s / ljj;
    }
  }
}

/// Solves L Lᵀ x = b with L from cholesky_factor; x may alias b.
template <class T>
void cholesky_solve(std::span<const T> L, std::size_t n, std::span<const T> b, std::span<T> x) {
  for (std::size_t i = 0; i < n; ++i) {  // L z = b
    T s = b[i];
    for (std::size_t k = 0; k < i; ++k) s -= L[i * n + k] * x[k];
    x[i] = s / L[i * n + i];
  }
  for (std::size_t i = n; i-- > 0;) {  // Lᵀ x = z
    T s = x[i];
    for (std::size_t k = i + 1; k < n; ++k) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
  }
}

}  // namespace ctnn::optim
