// ctnn/io/runtime_model.hpp: a JSON model file (io::save_model_json, `ctnn train --save`,
// tools/torch-export) loaded into a RuntimeNetwork, its topology read from the file: for a program
// that serves models it does not know at compile time (a compiled Network loads the same file with
// io::load_model_json and checks it against its own type).
//   auto [net, st] = ctnn::io::load_runtime_network<float>("model.json");
//   if (st) st->apply(x);  // x: rows of features; the standardisation it was trained with
//   net.forward(rows, x.data(), y.data());
// The layers a file lists must be what a RuntimeNetwork is: Dense layers whose sizes chain, each
// followed by at most one activation it knows (an "identity" next to another activation applies
// nothing and gives way, as torch.nn.Identity; "leaky_relu(s)" gives a slope other than 0.01).
// The topology is checked before the network is built, the weights after (io::load_model_json:
// a file too small for its parameter count is refused before; DataError naming the file and the
// JSON pointer); nothing half-built is returned.
// Layer: io (includes nn/runtime_network.hpp; compiled parts in ctnn_io_dep).
#pragma once
#include <charconv>
#include <cmath>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/io/weights.hpp"
#include "ctnn/nn/runtime_network.hpp"

namespace ctnn::io {

/// A topology in a RuntimeNetwork's terms: layer sizes [n0, ..., nL], L activation names and the
/// leaky ReLU slope.
struct RuntimeTopology {
  std::vector<std::size_t> layer_sizes;
  std::vector<std::string> activations;
  double leaky_slope = 0.01;
};

/// A leaky ReLU's token in a model file: "leaky_relu" for PyTorch's default slope 0.01 (what a
/// compiled ctnn::LeakyReLU is), else "leaky_relu(s)" with s written to round-trip exactly
/// ("leaky_relu(0.2)"): a file of another slope then never loads into a network of the default one.
inline std::string leaky_relu_token(double slope) {
  if (slope == 0.01) return "leaky_relu";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, slope);
  return "leaky_relu(" + std::string(buf, r.ptr) + ")";
}

/// A RuntimeNetwork's layer list as a model file records it (what io::save_model_json(path, spec,
/// net.params()) writes and load_runtime_network reads back): per layer Dense(in, out) and its
/// activation unless identity, a leaky ReLU as leaky_relu_token(slope).
template <class T>
ModelSpec runtime_model_spec(const RuntimeNetwork<T>& net) {
  ModelSpec s{dtype_name<T>(), {}};
  const auto& n = net.layer_sizes();
  for (std::size_t l = 0; l < net.num_layers(); ++l) {
    s.layers.push_back({"Dense", n[l], n[l + 1]});
    const RuntimeActivation a = net.activations()[l];
    if (a == RuntimeActivation::leaky_relu)
      s.layers.push_back({leaky_relu_token(net.leaky_slope()), 0, 0});
    else if (a != RuntimeActivation::identity)
      s.layers.push_back({std::string(runtime_activation_name(a)), 0, 0});
  }
  return s;
}

/// The RuntimeNetwork form of a file's layer list (spec.layers[i] is the file's /layers/i): each
/// Dense layer with the activation after it ("identity" when none follows; an "identity" next to
/// another activation applies nothing and gives way, as torch.nn.Identity). Throws
/// std::invalid_argument with a message starting with the layer's JSON pointer for a list a
/// RuntimeNetwork cannot be: no Dense layer or an activation before the first, Dense sizes that
/// do not chain, two activations after one Dense layer, an unknown layer type, leaky ReLUs of
/// different slopes.
inline RuntimeTopology runtime_topology(const ModelSpec& spec) {
  RuntimeTopology t;
  auto& sizes = t.layer_sizes;
  auto& acts = t.activations;
  std::size_t last_dense = 0;    // its index in the file
  std::string leaky_token;       // the first leaky ReLU's, which the others must equal
  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    const LayerSpec& l = spec.layers[i];
    const std::string at = "/layers/" + std::to_string(i) + ": ";
    if (l.has_params()) {
      if (l.type != "Dense") throw std::invalid_argument(at + "\"" + l.type + "\" is not a layer a RuntimeNetwork has");
      if (!sizes.empty() && l.in != sizes.back())
        throw std::invalid_argument(at + "Dense(" + std::to_string(l.in) + "," + std::to_string(l.out) + ") takes " +
                                    std::to_string(l.in) + " inputs, but the layers before it (/layers/" +
                                    std::to_string(last_dense) + ") give " + std::to_string(sizes.back()));
      if (sizes.empty()) sizes.push_back(l.in);
      else if (acts.size() < sizes.size() - 1) acts.push_back("identity");
      sizes.push_back(l.out);
      last_dense = i;
      continue;
    }
    std::string name = l.type;
    if (name.starts_with("leaky_relu(") && name.ends_with(")")) {
      const std::string num = name.substr(11, name.size() - 12);
      double s = 0;
      const auto r = std::from_chars(num.data(), num.data() + num.size(), s);
      if (r.ec != std::errc() || r.ptr != num.data() + num.size() || !std::isfinite(s))
        throw std::invalid_argument(at + "\"" + l.type + "\": expected leaky_relu(slope) with a finite number");
      name = "leaky_relu";
      t.leaky_slope = s;
    }
    if (name == "leaky_relu") {
      if (!leaky_token.empty() && leaky_token != l.type)
        throw std::invalid_argument(at + "\"" + l.type + "\" after \"" + leaky_token +
                                    "\": a RuntimeNetwork has one leaky ReLU slope for all its layers");
      leaky_token = l.type;
    }
    if (!find_runtime_activation(name))
      throw std::invalid_argument(at + "unknown layer \"" + l.type +
                                  "\" (a RuntimeNetwork has Dense and the activations " + runtime_activation_names() +
                                  ")");
    if (sizes.size() < 2) throw std::invalid_argument(at + "\"" + l.type + "\" does not follow a Dense layer");
    if (acts.size() == sizes.size() - 2) {
      acts.push_back(name);  // the Dense layer's activation
    } else if (name != "identity") {  // a second one: identity (nn.Identity) applies nothing, so it gives way
      if (acts.back() != "identity")
        throw std::invalid_argument(at + "\"" + l.type + "\" is a second activation after the Dense layer /layers/" +
                                    std::to_string(last_dense) + " (a RuntimeNetwork applies one after each)");
      acts.back() = name;
    }
  }
  if (sizes.size() < 2) throw std::invalid_argument("/layers: no Dense layer");
  if (acts.size() < sizes.size() - 1) acts.push_back("identity");
  return t;
}

/// A network loaded from a model file, with the feature standardisation the file carries (nullopt
/// without one: then its inputs are raw features).
template <class T>
struct LoadedRuntimeNetwork {
  RuntimeNetwork<T> net;
  std::optional<Standardizer> standardizer;
};

/// Reads the model file at `path` into a RuntimeNetwork<T> of the file's topology (T = float or
/// double; a float64 file into float is refused, it would round). Throws DataError naming the file.
template <class T>
LoadedRuntimeNetwork<T> load_runtime_network(const std::string& path) {
  const ModelFileInfo info = read_model_info(path);
  RuntimeTopology topo;
  try {
    topo = runtime_topology(info.spec);
  } catch (const std::invalid_argument& e) {
    throw DataError(path + ": " + e.what(), path);
  }
  LoadedRuntimeNetwork<T> m{RuntimeNetwork<T>(topo.layer_sizes, topo.activations, topo.leaky_slope), std::nullopt};
  if (m.net.num_params() != info.spec.num_params())  // the sizes chain: as many parameters
    throw std::logic_error("ctnn::io::load_runtime_network: the network built from " + path +
                           " has another parameter count");
  m.standardizer = load_model_json<T>(path, info.spec, m.net.params(), with_standardizer);
  return m;
}

}  // namespace ctnn::io
