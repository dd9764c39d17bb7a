// ctnn/ad/ops/silu.hpp: primitive SiLU (swish) x·σ(x), PyTorch's nn.SiLU. With s = σ(x) (the
// stable sigmoid), silu'(x) = s (1 + x (1 - s)), from x: one node instead of the three of
// x * sigmoid(x), and finite for any x (s underflows to 0 below about -745 in double, -87 in float,
// where x·s and its derivative are 0 to well under an ulp of 1).
// Layer: ad.
#pragma once
#include "ctnn/ad/ops/sigmoid.hpp"

namespace ctnn::ops {
struct Silu {
  static constexpr const char* name = "silu";
  static constexpr const char* symbol = "silu";
  static constexpr const char* latex = "\\operatorname{silu}";
  static constexpr bool uses_x = true, uses_y = false;  // what derivative() reads
  static constexpr bool transcendental = true;  // costly per lane (see StaticTape::fused_map)
  template <class V> V value(const V& x) const noexcept { return x * Sigmoid{}.value(x); }
  template <class V> V derivative(const V& x, const V&) const noexcept {
    const V s = Sigmoid{}.value(x);
    return s * (V(1) + x * (V(1) - s));
  }
  friend constexpr bool operator==(const Silu&, const Silu&) = default;
};
}  // namespace ctnn::ops
namespace ctnn::ad {
template <Expression A> CTNN_INLINE auto silu(A a) { return unary<ops::Silu>(std::move(a)); }
}  // namespace ctnn::ad
