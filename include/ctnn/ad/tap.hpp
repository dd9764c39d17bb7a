// ctnn/ad/tap.hpp: Tap<A>, an identity node that also writes its value to an external buffer
// during the forward sweep. A gradient pass uses it to hand back the network's output (for
// metrics) without a second forward pass. Its adjoint passes through unchanged: the tape lets its
// operand share the adjoint slot, so the backward sweep does no work for it.
// Layer: ad.
#pragma once
#include <array>
#include <cstddef>
#include <utility>

#include "ctnn/ad/expr.hpp"
#include "ctnn/kernel/map.hpp"

namespace ctnn::ad {

template <class A>
struct Tap : NodeBase<typename A::scalar, A::rows, A::cols> {
  using T = typename A::scalar;
  using children = meta::TypeList<A>;
  static constexpr bool needs_own_value = false;
  static constexpr std::array<bool, 2> needs_child_values{false, false};
  static constexpr std::array<bool, 2> pass_through{true, false};
  A a;
  T* out;
  Tap(A a_, T* out_) : a(std::move(a_)), out(out_) {}
  bool same_payload(const Tap& o) const noexcept { return out == o.out; }
  static constexpr bool has_payload = true;
  CTNN_INLINE void forward(T* y, const T* x) const noexcept {
    kernel::copy<A::size>(y, x);
    kernel::copy<A::size>(out, x);
  }
  template <bool Acc>
  CTNN_INLINE void backward_a(const T* g, const T*, const T*, T* dx) const noexcept {
    kernel::copy<A::size, Acc>(dx, g);
  }
};

template <Expression A>
CTNN_INLINE auto tap(A a, typename A::scalar* out) {
  return Tap<std::remove_cvref_t<A>>(std::move(a), out);
}

}  // namespace ctnn::ad
