// ctnn/io/weights.hpp: save and load a network's parameters, as one JSON model file (format
// "ctnn-model": topology, dtype and weights) or as a folder of .npy files (xtensor's xnpy), one per
// tensor: "layer<i>.Dense.W.npy" [out, in] and "layer<i>.Dense.b.npy" [out], i counting every
// layer from 0 (activations included). Layout on both sides: a Dense W is [out, in] row-major,
// exactly torch.nn.Linear.weight (nothing is transposed), then b [out].
// Loading checks the file against the compile-time topology (layer types by name, Dense sizes)
// and dtype; it parses and validates everything into a temporary buffer and copies it into the
// network only when all of it is good, so a bad file (truncated, corrupt, wrong dtype or shape,
// NaN/Inf) throws DataError naming the file and the place and leaves the network as it was.
// A float32 file loads into a double network exactly; a float64 file into a float network is
// refused (it would round). The parsing is compiled (src/io/weights.cpp, ctnn_io_dep); this header
// only describes a Network type to it. Layer: io (needs no nn header: it reads Net's members).
//
// A model file may also carry the feature standardisation its network was trained with (the key
// "ctnn_tool": {"standardize": {"mean": [...], "inv_std": [...]}}, one value per input; `ctnn train
// --save` writes it): such a network gives wrong outputs on raw inputs. load_model_json(net, path)
// refuses such a file, naming the overload that reads it:
//   std::optional<io::Standardizer> st = io::load_model_json(net, path, io::with_standardizer);
//   if (st) st->apply(data);  // x' = (x - mean) * inv_std, column by column, before net.forward
// save_model_json(net, path, standardizer) writes one.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "ctnn/core/type_list.hpp"
#include "ctnn/io/atomic_file.hpp"  // WriteError
#include "ctnn/io/dataset.hpp"

namespace ctnn::io {

/// One layer as a file records it: its name ("Dense", "relu", "sigmoid", ...) and, for a Dense,
/// its sizes (in = out = 0 for a layer without parameters).
struct LayerSpec {
  std::string type;
  std::size_t in = 0, out = 0;
  bool has_params() const noexcept { return in != 0; }
};

/// A network's topology and dtype at run time, what the loaders check a file against.
struct ModelSpec {
  std::string dtype;  // "float32" or "float64"
  std::vector<LayerSpec> layers;
  std::size_t num_params() const noexcept;
  /// e.g. "float32 Dense(4,8) relu Dense(8,3)": the topology a checkpoint must match.
  std::string signature() const;
  /// e.g. "Dense(4,8)" or "relu".
  static std::string describe(const LayerSpec& l);
};

template <class T>
constexpr const char* dtype_name() {
  static_assert(sizeof(T) == 0 || std::is_same_v<T, float> || std::is_same_v<T, double>,
                "ctnn: weight files hold float or double parameters");
  return std::is_same_v<T, float> ? "float32" : "float64";
}

namespace detail {
template <class L>
concept NamedLayer = requires { L::name; };
template <class L>
concept SizedLayer = requires {
  L::in;
  L::out;
};
template <class L>
LayerSpec layer_spec() {
  static_assert(NamedLayer<L>,
                "ctnn: saving or loading weights needs every layer type to have a `static constexpr const char* "
                "name` (the file records layers by name)");
  if constexpr (NamedLayer<L>) {
    if constexpr (SizedLayer<L>) {
      using Blocks = typename L::blocks;
      static_assert(Blocks::size == 2 && meta::at_t<0, Blocks>::rows == L::out && meta::at_t<0, Blocks>::cols == L::in &&
                        meta::at_t<1, Blocks>::size == L::out,
                    "ctnn: weight files know layers shaped like Dense: a W block [out, in] and a b block [out]");
      return {L::name, L::in, L::out};
    }
    else return {L::name, 0, 0};
  } else {
    return {};
  }
}
template <class List>
struct layer_specs;
template <class... Ls>
struct layer_specs<meta::TypeList<Ls...>> {
  static std::vector<LayerSpec> get() { return {layer_spec<Ls>()...}; }
};
}  // namespace detail

/// The spec of a compile-time network type (any Network<T, Layers...>).
template <class Net>
ModelSpec model_spec() {
  ModelSpec s{dtype_name<typename Net::scalar>(), detail::layer_specs<typename Net::layers>::get()};
  return s;
}

/// Selects the load_model_json overload that also returns the file's feature standardisation.
struct WithStandardizer {};
inline constexpr WithStandardizer with_standardizer{};

/// What a JSON model file says about itself, read without a network (read_model_info): to pick or
/// build the network to load it into.
struct ModelFileInfo {
  ModelSpec spec;                 ///< the file's dtype and layers, Dense sizes included
  bool has_standardizer = false;  ///< it carries /ctnn_tool/standardize (load it with with_standardizer)
  std::string tool;               ///< its "ctnn_tool" object as JSON text ("" without one): the ctnn tool's record
};

// ---- the compiled parts (T = float or double) ------------------------------------------------
/// Writes the JSON model file atomically (temporary + rename). params: the flat buffer, spec.num_params() values.
/// Throws DataError for non-finite parameters (nothing written), WriteError when the file cannot be written.
template <class T>
void save_model_json(const std::string& path, const ModelSpec& spec, std::span<const T> params);
/// The same with the feature standardisation the network was trained with (one mean and inv_std per
/// input, finite), under "ctnn_tool": {"standardize": ...}.
template <class T>
void save_model_json(const std::string& path, const ModelSpec& spec, std::span<const T> params,
                     const Standardizer& standardizer);
/// The text save_model_json writes (for a caller that adds keys of its own before writing it); `path`
/// only names the file in the errors (a size mismatch, a non-finite parameter: DataError).
template <class T>
std::string model_json_text(const ModelSpec& spec, std::span<const T> params, const std::string& path,
                            const Standardizer* standardizer = nullptr);
/// Reads, checks against spec and, only if all is good, overwrites params. Throws DataError; also for
/// a file that carries a feature standardisation (the network would be fed raw inputs: load it with
/// the overload below).
template <class T>
void load_model_json(const std::string& path, const ModelSpec& spec, std::span<T> params);
/// The same for a file with or without a feature standardisation: returns it (nullopt without one),
/// checked (one finite mean and inv_std per input); apply it to every input. All or nothing.
template <class T>
std::optional<Standardizer> load_model_json(const std::string& path, const ModelSpec& spec, std::span<T> params,
                                            WithStandardizer);
/// The topology a model file records and what else it carries, checked as load_model_json checks
/// them (JSON syntax, format, version, dtype, the layer list and Dense sizes; not the weights).
/// Throws DataError.
ModelFileInfo read_model_info(const std::string& path);
/// Writes one .npy per tensor into dir (created if missing; each file written atomically).
template <class T>
void save_weights_npy(const std::string& dir, const ModelSpec& spec, std::span<const T> params);
/// Reads every tensor of dir, checks them all, then overwrites params. Throws DataError.
template <class T>
void load_weights_npy(const std::string& dir, const ModelSpec& spec, std::span<T> params);
/// The .npy file name of block `which` ('W' or 'b') of layer `index`: "layer0.Dense.W.npy".
std::string npy_file_name(const ModelSpec& spec, std::size_t index, char which);

#define CTNN_IO_WEIGHTS_EXTERN(T)                                                    \
  extern template std::string model_json_text<T>(const ModelSpec&, std::span<const T>, const std::string&, \
                                                 const Standardizer*);                          \
  extern template void save_model_json<T>(const std::string&, const ModelSpec&, std::span<const T>); \
  extern template void save_model_json<T>(const std::string&, const ModelSpec&, std::span<const T>, \
                                          const Standardizer&);                                  \
  extern template void load_model_json<T>(const std::string&, const ModelSpec&, std::span<T>);       \
  extern template std::optional<Standardizer> load_model_json<T>(const std::string&, const ModelSpec&, \
                                                                 std::span<T>, WithStandardizer);   \
  extern template void save_weights_npy<T>(const std::string&, const ModelSpec&, std::span<const T>); \
  extern template void load_weights_npy<T>(const std::string&, const ModelSpec&, std::span<T>);
CTNN_IO_WEIGHTS_EXTERN(float)
CTNN_IO_WEIGHTS_EXTERN(double)
#undef CTNN_IO_WEIGHTS_EXTERN

// ---- on a network ----------------------------------------------------------------------------
template <class Net>
void save_model_json(const Net& net, const std::string& path) {
  save_model_json<typename Net::scalar>(path, model_spec<Net>(), net.params());
}
template <class Net>
void save_model_json(const Net& net, const std::string& path, const Standardizer& standardizer) {
  save_model_json<typename Net::scalar>(path, model_spec<Net>(), net.params(), standardizer);
}
/// Refuses a file that carries a feature standardisation (see the top of this file).
template <class Net>
void load_model_json(Net& net, const std::string& path) {
  load_model_json<typename Net::scalar>(path, model_spec<Net>(), net.params());
}
/// The weights and the file's feature standardisation (nullopt without one): apply it to the inputs.
template <class Net>
std::optional<Standardizer> load_model_json(Net& net, const std::string& path, WithStandardizer) {
  return load_model_json<typename Net::scalar>(path, model_spec<Net>(), net.params(), with_standardizer);
}
template <class Net>
void save_weights_npy(const Net& net, const std::string& dir) {
  save_weights_npy<typename Net::scalar>(dir, model_spec<Net>(), net.params());
}
template <class Net>
void load_weights_npy(Net& net, const std::string& dir) {
  load_weights_npy<typename Net::scalar>(dir, model_spec<Net>(), net.params());
}

}  // namespace ctnn::io
