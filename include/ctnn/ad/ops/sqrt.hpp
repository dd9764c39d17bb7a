// ctnn/ad/ops/sqrt.hpp: primitive square root. d/dx √x = 1/(2y), reusing the output.
// Layer: ad.
#pragma once
#include "ctnn/ad/unary.hpp"
#include "ctnn/kernel/simd.hpp"

namespace ctnn::ops {
struct Sqrt {
  static constexpr const char* name = "sqrt";
  static constexpr const char* symbol = "√";
  static constexpr const char* latex = "\\sqrt";
  static constexpr bool uses_x = false, uses_y = true;  // what derivative() reads
  template <class V> V value(const V& x) const noexcept { return simd::sqrt(x); }
  template <class V> V derivative(const V&, const V& y) const noexcept { return V(0.5) / y; }
  friend constexpr bool operator==(const Sqrt&, const Sqrt&) = default;
};
}  // namespace ctnn::ops
namespace ctnn::ad {
template <Expression A> CTNN_INLINE auto sqrt(A a) { return unary<ops::Sqrt>(std::move(a)); }
}  // namespace ctnn::ad
