// Matrix nodes against central differences and a naive scalar evaluation (see expr_check.hpp):
// matmul, transpose, A·Bᵀ (matmul(a, transpose(b)), also with one leaf on both sides: A Aᵀ), Bᵀ Aᵀ,
// and products at SIMD-awkward sizes; float twin and forward-only pass included.
#include "expr_check.hpp"

namespace ad = ctnn::ad;
using namespace ctnn::test::adcheck;
using ctnn::test::exprcheck::check_expression;
using ctnn::test::exprcheck::sig;

TEST_CASE("linalg: matmul, transpose, A Bt, and A At with one leaf on both sides") {
  Rng rng(23);
  // theta = [A (3x4), B (4x2), D (5x4), U (3x2)]
  constexpr std::size_t oA = 0, oB = 12, oD = 20, oU = 40, n = 46;
  const auto th = rng.uniform(n, -1.5, 1.5);
  auto build = [](const auto* t, auto* g) {
    auto A = ad::variable<0, 3, 4>(t + oA, g + oA);
    auto B = ad::variable<1, 4, 2>(t + oB, g + oB);
    auto D = ad::variable<2, 5, 4>(t + oD, g + oD);
    auto U = ad::variable<3, 3, 2>(t + oU, g + oU);
    return ad::sum(ad::tanh(ad::matmul(A, B)) * U) + ad::sum(ad::square(ad::matmul(A, ad::transpose(D)))) * 0.1 +
           ad::sum(ad::matmul(A, ad::transpose(A))) * 0.2 + ad::sum(ad::square(ad::transpose(U))) +
           ad::sum(ad::sigmoid(ad::matmul(ad::transpose(B), ad::transpose(A))));
  };
  auto at = [&](std::size_t o, std::size_t cols, std::size_t i, std::size_t j) { return th[o + i * cols + j]; };
  double ref = 0;
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 2; ++j) {
      double ab = 0;
      for (std::size_t k = 0; k < 4; ++k) ab += at(oA, 4, i, k) * at(oB, 2, k, j);
      ref += std::tanh(ab) * at(oU, 2, i, j) + sig(ab) + at(oU, 2, i, j) * at(oU, 2, i, j);
    }
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 5; ++j) {
      double ad_ = 0;
      for (std::size_t k = 0; k < 4; ++k) ad_ += at(oA, 4, i, k) * at(oD, 4, j, k);
      ref += 0.1 * ad_ * ad_;
    }
    for (std::size_t j = 0; j < 3; ++j) {
      double aa = 0;
      for (std::size_t k = 0; k < 4; ++k) aa += at(oA, 4, i, k) * at(oA, 4, j, k);
      ref += 0.2 * aa;
    }
  }
  check_expression("linalg", build, th, ref);
}

TEST_CASE("linalg: matmul at SIMD-awkward sizes (a 9x11 by 11x6 product, a 1x17 by 17x1 dot)") {
  Rng rng(24);
  constexpr std::size_t oA = 0, oB = 99, oX = 165, oY = 182, n = 199;
  const auto th = rng.uniform(n, -1, 1);
  auto build = [](const auto* t, auto* g) {
    auto A = ad::variable<0, 9, 11>(t + oA, g + oA);
    auto B = ad::variable<1, 11, 6>(t + oB, g + oB);
    auto x = ad::variable<2, 1, 17>(t + oX, g + oX);
    auto y = ad::variable<3, 17, 1>(t + oY, g + oY);
    return ad::sum(ad::square(ad::matmul(A, B))) + ad::sum(ad::exp(ad::matmul(x, y)));
  };
  double ref = 0;
  for (std::size_t i = 0; i < 9; ++i)
    for (std::size_t j = 0; j < 6; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < 11; ++k) s += th[oA + i * 11 + k] * th[oB + k * 6 + j];
      ref += s * s;
    }
  double d = 0;
  for (std::size_t k = 0; k < 17; ++k) d += th[oX + k] * th[oY + k];
  ref += std::exp(d);
  check_expression("matmul_sizes", build, th, ref);
}

TEST_CASE("linalg: products wider than the GEMM tiles (6x20 by 20x37, and A Dt with 19 rows of D)") {
  Rng rng(27);
  constexpr std::size_t oA = 0, oB = 120, oD = 860, n = 860 + 380;
  const auto th = rng.uniform(n, -1, 1);
  auto build = [](const auto* t, auto* g) {
    auto A = ad::variable<0, 6, 20>(t + oA, g + oA);
    auto B = ad::variable<1, 20, 37>(t + oB, g + oB);
    auto D = ad::variable<2, 19, 20>(t + oD, g + oD);
    return ad::sum(ad::tanh(ad::matmul(A, B))) + ad::sum(ad::square(ad::matmul(A, ad::transpose(D)))) * 0.05;
  };
  double ref = 0;
  for (std::size_t i = 0; i < 6; ++i) {
    for (std::size_t j = 0; j < 37; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < 20; ++k) s += th[oA + i * 20 + k] * th[oB + k * 37 + j];
      ref += std::tanh(s);
    }
    for (std::size_t j = 0; j < 19; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < 20; ++k) s += th[oA + i * 20 + k] * th[oD + j * 20 + k];
      ref += 0.05 * s * s;
    }
  }
  check_expression("wide_products", build, th, ref);
}
