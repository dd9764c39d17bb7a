// ctnn/ad/ad.hpp: everything of the expression layer: nodes, primitives, the static tape, and
// leaf constructors for users who build expressions by hand.
// Layer: ad.
#pragma once
#include "ctnn/ad/binary.hpp"
#include "ctnn/ad/expr.hpp"
#include "ctnn/ad/linalg.hpp"
#include "ctnn/ad/ops/abs.hpp"
#include "ctnn/ad/ops/exp.hpp"
#include "ctnn/ad/ops/gelu.hpp"
#include "ctnn/ad/ops/leaky_relu.hpp"
#include "ctnn/ad/ops/log.hpp"
#include "ctnn/ad/ops/maximum.hpp"
#include "ctnn/ad/ops/minimum.hpp"
#include "ctnn/ad/ops/reciprocal.hpp"
#include "ctnn/ad/ops/relu.hpp"
#include "ctnn/ad/ops/sigmoid.hpp"
#include "ctnn/ad/ops/silu.hpp"
#include "ctnn/ad/ops/softplus.hpp"
#include "ctnn/ad/ops/sqrt.hpp"
#include "ctnn/ad/ops/square.hpp"
#include "ctnn/ad/ops/step.hpp"
#include "ctnn/ad/ops/tanh.hpp"
#include "ctnn/ad/reduce.hpp"
#include "ctnn/ad/tap.hpp"
#include "ctnn/ad/tape_static.hpp"

namespace ctnn::ad {

/// A leaf over R x C values at p; with a grad buffer it receives dL/dleaf.
template <int Id, std::size_t R, std::size_t C, class T>
CTNN_INLINE auto variable(const T* value, T* grad) {
  return Leaf<T, ConstantTag<Id>, R, C, true>{{}, value, grad};
}
/// A leaf over R x C constant values at p (no gradient), e.g. class weights.
template <int Id, std::size_t R, std::size_t C, class T>
CTNN_INLINE auto constant(const T* value) {
  return Leaf<T, ConstantTag<Id>, R, C, false>{{}, value, nullptr};
}

}  // namespace ctnn::ad
