// ctnn/nn/init.hpp: seeded, reproducible parameter initialisers (Xavier/Glorot, He). The random
// numbers come from std::mt19937_64's raw output turned into uniforms and normals here (the
// standard distributions are implementation-defined, so a seed would not give the same
// network on another standard library).
// Layer: nn.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>

namespace ctnn {

enum class Init {
  automatic,       ///< He (normal) for a layer followed by ReLU/LeakyReLU, Xavier (uniform) otherwise
  xavier_uniform,  ///< U(-a, a), a = sqrt(6 / (in + out))       (Glorot & Bengio 2010)
  xavier_normal,   ///< N(0, 2 / (in + out))
  he_normal,       ///< N(0, 2 / in)                             (He et al. 2015)
  he_uniform,      ///< U(-a, a), a = sqrt(6 / in)
  zeros,
};

/// A small portable random source: uniform in [0, 1) and standard normal (Box-Muller).
class Random {
 public:
  explicit Random(std::uint64_t seed) : gen_(seed) {}
  double uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1)), t = 6.283185307179586 * u2;
    spare_ = r * std::sin(t);
    has_spare_ = true;
    return r * std::cos(t);
  }
  /// Uniform integer in [0, n).
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(uniform() * static_cast<double>(n)); }
  std::mt19937_64& engine() { return gen_; }

 private:
  std::mt19937_64 gen_;
  double spare_ = 0;
  bool has_spare_ = false;
};

namespace nn {
/// Fills a weight block of a layer with fan-in `in` and fan-out `out`.
template <class T>
void init_weights(T* w, std::size_t n, std::size_t in, std::size_t out, Init how, Random& rng) {
  const double fi = static_cast<double>(in), fo = static_cast<double>(out);
  for (std::size_t i = 0; i < n; ++i) {
    double v = 0;
    switch (how) {
      case Init::xavier_uniform: { const double a = std::sqrt(6.0 / (fi + fo)); v = rng.uniform(-a, a); break; }
      case Init::xavier_normal: v = rng.normal() * std::sqrt(2.0 / (fi + fo)); break;
      case Init::he_normal: v = rng.normal() * std::sqrt(2.0 / fi); break;
      case Init::he_uniform: { const double a = std::sqrt(6.0 / fi); v = rng.uniform(-a, a); break; }
      case Init::zeros: case Init::automatic: v = 0; break;
    }
    w[i] = static_cast<T>(v);
  }
}
}  // namespace nn

}  // namespace ctnn
