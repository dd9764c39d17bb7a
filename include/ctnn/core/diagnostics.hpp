// ctnn/core/diagnostics.hpp: every compile-time error message of ctnn, in one place.
// Each check is a struct whose template arguments carry the data (positions, layers, sizes),
// so g++ prints them in the instantiation line next to the message, e.g.
//   required from 'struct ctnn::diagnostic::layer_input_size_mismatch<3, ctnn::Dense<6, 1>, 5, 6>'
//   error: static assertion failed: ctnn: layer input size mismatch ...
//   note: the comparison reduces to '(5 == 6)'
// `value` is the check's result, so callers can go on with an inert fallback (one mistake, one
// error). The list with explanations is docs/errors.md.
// Layer: core.
#pragma once
#include <cstddef>

namespace ctnn::diagnostic {

/// Position is 1-based in the Sequential<...> list; Previous is the width arriving at the layer
/// (the previous layer's output size), Expected the layer's declared input size.
template <std::size_t Position, class Layer, std::size_t Previous, std::size_t Expected>
struct layer_input_size_mismatch {
  static_assert(Previous == Expected,
                "ctnn: layer input size mismatch: the layer at <Position> declares input size <Expected> "
                "but the previous layer outputs <Previous> values (template arguments: <Position, Layer, "
                "Previous, Expected>)");
  static constexpr bool value = Previous == Expected;
};

template <bool HasSize, class FirstLayer>
struct first_layer_needs_input_size {
  static_assert(HasSize,
                "ctnn: the first layer of a Sequential must fix the input size (e.g. Dense<In, Out>); an "
                "activation first has no size to start from");
  static constexpr bool value = HasSize;
};

template <class Op, std::size_t RowsA, std::size_t ColsA, std::size_t RowsB, std::size_t ColsB>
struct broadcast_mismatch {
  static constexpr bool value = (RowsA == RowsB || RowsA == 1 || RowsB == 1) &&
                                (ColsA == ColsB || ColsA == 1 || ColsB == 1);
  static_assert(value,
                "ctnn: element-wise operands cannot be broadcast: each dimension must be equal or 1 "
                "(template arguments: <Op, RowsA, ColsA, RowsB, ColsB>)");
};

template <std::size_t RowsA, std::size_t ColsA, std::size_t RowsB, std::size_t ColsB>
struct matmul_inner_mismatch {
  static_assert(ColsA == RowsB,
                "ctnn: matrix product of incompatible shapes: A is RowsA x ColsA, B is RowsB x ColsB, "
                "ColsA must equal RowsB (template arguments: <RowsA, ColsA, RowsB, ColsB>)");
  static constexpr bool value = ColsA == RowsB;
};

template <std::size_t Rows, std::size_t Cols>
struct loss_not_scalar {
  static_assert(Rows == 1 && Cols == 1,
                "ctnn: a loss must be a scalar (1 x 1) expression; reduce it with sum() or mean() "
                "(template arguments: <Rows, Cols> of the loss expression)");
  static constexpr bool value = Rows == 1 && Cols == 1;
};

template <std::size_t InputCols, std::size_t NetworkInput>
struct input_size_mismatch {
  static_assert(InputCols == NetworkInput,
                "ctnn: input has the wrong number of features for this network (template arguments: "
                "<features given, features expected>)");
  static constexpr bool value = InputCols == NetworkInput;
};

template <std::size_t TargetCols, std::size_t NetworkOutput>
struct target_size_mismatch {
  static_assert(TargetCols == NetworkOutput,
                "ctnn: target has the wrong number of columns for this network's output (template "
                "arguments: <target columns, network outputs>)");
  static constexpr bool value = TargetCols == NetworkOutput;
};

template <bool IsLeaf>
struct expression_is_leaf {
  static_assert(!IsLeaf, "ctnn: the expression is a single leaf; there is nothing to evaluate or differentiate");
  static constexpr bool value = !IsLeaf;
};

/// A loss on logits given an output that already went through the matching squashing function.
template <bool OutputIsSoftmax>
struct softmax_applied_twice {
  static_assert(!OutputIsSoftmax,
                "ctnn: softmax applied twice: this loss takes logits (softmax_cross_entropy and its weighted forms "
                "apply the softmax themselves), but the network already ends with a Softmax layer; drop that layer "
                "(stabler), or train the probabilities with loss::cross_entropy");
  static constexpr bool value = !OutputIsSoftmax;
};
template <bool OutputIsSigmoid>
struct sigmoid_applied_twice {
  static_assert(!OutputIsSigmoid,
                "ctnn: sigmoid applied twice: loss::bce_logits takes logits (it applies the sigmoid itself), but "
                "the network already ends with a Sigmoid layer; drop that layer (stabler), or train the "
                "probabilities with loss::bce_prob");
  static constexpr bool value = !OutputIsSigmoid;
};

template <std::size_t NumLayers>
struct empty_network {
  static_assert(NumLayers > 0, "ctnn: a Sequential needs at least one layer");
  static constexpr bool value = NumLayers > 0;
};

template <std::size_t In, std::size_t Out>
struct dense_size_zero {
  static_assert(In > 0 && Out > 0, "ctnn: Dense<In, Out> needs positive sizes (template arguments: <In, Out>)");
  static constexpr bool value = In > 0 && Out > 0;
};

template <std::size_t Weights, std::size_t Outputs>
struct class_weight_count_mismatch {
  static_assert(Weights == Outputs,
                "ctnn: the number of class weights differs from the number of outputs (template arguments: "
                "<weights, outputs>)");
  static constexpr bool value = Weights == Outputs;
};

}  // namespace ctnn::diagnostic
