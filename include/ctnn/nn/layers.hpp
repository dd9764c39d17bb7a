// ctnn/nn/layers.hpp: layers as types. A layer is a struct with a static `apply` that builds its
// forward expression; its backward pass is derived by the reverse mode (no layer has backward
// code). A layer with parameters declares its input and output sizes and its parameter blocks
// (shapes, in flat order); a layer without declares nothing and keeps the width it is given.
// Adding an activation: one struct with `template <class X> static auto apply(X x)`.
// Layer: nn (includes ad, core).
#pragma once
#include <cstddef>

#include "ctnn/ad/ad.hpp"
#include "ctnn/core/diagnostics.hpp"
#include "ctnn/core/type_list.hpp"

namespace ctnn {

/// Shape of one parameter block.
template <std::size_t R, std::size_t C>
struct BlockShape {
  static constexpr std::size_t rows = R, cols = C, size = R * C;
};

/// Fully connected layer: z = W x + b for one sample, Z = X Wᵀ + b for a batch (one sample per
/// row). W is [Out, In] row-major, then b [Out]: PyTorch's nn.Linear layout.
template <std::size_t In, std::size_t Out>
struct Dense {
  static_assert(diagnostic::dense_size_zero<In, Out>::value || true);
  static constexpr std::size_t in = In, out = Out;
  using blocks = meta::TypeList<BlockShape<Out, In>, BlockShape<1, Out>>;
  static constexpr bool is_weight[] = {true, false};  // which blocks an L2 penalty covers
  static constexpr const char* name = "Dense";

  template <class X, class W, class B>
  CTNN_INLINE static auto apply(X x, W w, B b) {
    return ad::matmul(x, ad::transpose(w)) + b;
  }
};

/// An element-wise activation from a primitive op (ad/ops/*.hpp).
template <class Op>
struct Activation {
  static constexpr const char* name = Op::name;
  template <class X>
  CTNN_INLINE static auto apply(X x) {
    return ad::unary<Op>(x);
  }
};

using Identity = struct IdentityLayer {
  static constexpr const char* name = "identity";
  template <class X>
  CTNN_INLINE static X apply(X x) {
    return x;
  }
};
using Step = Activation<ops::Step>;
using Sigmoid = Activation<ops::Sigmoid>;
using Tanh = Activation<ops::Tanh>;
using ReLU = Activation<ops::Relu>;
using LeakyReLU = Activation<ops::LeakyRelu>;  // slope 0.01 (PyTorch's default)
using Softplus = Activation<ops::Softplus>;
using SiLU = Activation<ops::Silu>;  // x·σ(x), PyTorch's nn.SiLU
using GELU = Activation<ops::Gelu>;  // x·Φ(x), PyTorch's nn.GELU() (the exact form, not approximate="tanh")

/// Softmax over each sample's outputs.
struct Softmax {
  static constexpr const char* name = "softmax";
  template <class X>
  CTNN_INLINE static auto apply(X x) {
    return ad::softmax(x);
  }
};

namespace nn {
template <class L>
concept HasParameters = requires {
  L::in;
  L::out;
  typename L::blocks;
};
}  // namespace nn

}  // namespace ctnn
