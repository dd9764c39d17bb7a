// ctnn/io/runtime_model.hpp: a JSON model file (io::save_model_json, `ctnn train --save`,
// tools/torch-export) loaded into a RuntimeNetwork, its topology read from the file: for a program
// that serves models it does not know at compile time (a compiled Network loads the same file with
// io::load_model_json and checks it against its own type).
//   auto [net, st] = ctnn::io::load_runtime_network<float>("model.json");
//   if (st) st->apply(std::span<float>(x));  // the feature standardisation it was trained with
//   net.forward(rows, x.data(), y.data());
// The layers a file lists must be what a RuntimeNetwork is: Dense layers, each followed by at most
// one activation it knows (an "identity" next to another activation applies nothing and gives way,
// as torch.nn.Identity). Everything is checked before the network is built (DataError naming the
// file and the place, messages of io::read_model_info and io::load_model_json); nothing half-built
// is returned. Layer: io (includes nn/runtime_network.hpp; compiled parts in ctnn_io_dep).
#pragma once
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/io/weights.hpp"
#include "ctnn/nn/runtime_network.hpp"

namespace ctnn::io {

/// A topology in a RuntimeNetwork's terms: layer sizes [n0, ..., nL] and L activation names.
struct RuntimeTopology {
  std::vector<std::size_t> layer_sizes;
  std::vector<std::string> activations;
};

/// The RuntimeNetwork form of a file's layer list: each Dense layer with the activation after it
/// ("identity" when none follows). Throws std::invalid_argument, naming the layer, for a list that
/// does not start with a Dense layer or puts two activations after one (an "identity" gives way).
inline RuntimeTopology runtime_topology(const ModelSpec& spec) {
  RuntimeTopology t;
  auto& sizes = t.layer_sizes;
  auto& acts = t.activations;
  for (const auto& l : spec.layers) {
    if (l.has_params()) {
      if (sizes.empty()) sizes.push_back(l.in);
      else if (acts.size() < sizes.size() - 1) acts.push_back("identity");
      sizes.push_back(l.out);
    } else if (sizes.size() < 2) {
      throw std::invalid_argument("layer \"" + l.type + "\" does not follow a Dense layer");
    } else if (acts.size() == sizes.size() - 2) {
      acts.push_back(l.type);  // the Dense layer's activation
    } else if (l.type != "identity") {  // a second one: identity (nn.Identity) applies nothing, so it gives way
      if (acts.back() != "identity")
        throw std::invalid_argument("Dense layer " + std::to_string(sizes.size() - 1) + " is followed by \"" +
                                    acts.back() + "\" and \"" + l.type +
                                    "\"; a network of the ctnn tool applies one activation after each Dense layer");
      acts.back() = l.type;
    }
  }
  if (sizes.size() >= 2 && acts.size() < sizes.size() - 1) acts.push_back("identity");
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
    if (topo.layer_sizes.size() < 2) throw std::invalid_argument("no Dense layer");
    LoadedRuntimeNetwork<T> m{RuntimeNetwork<T>(topo.layer_sizes, topo.activations), std::nullopt};
    if (m.net.num_params() != info.spec.num_params())
      throw std::logic_error("the network built from the file has another parameter count");
    m.standardizer = load_model_json<T>(path, info.spec, m.net.params(), with_standardizer);
    return m;
  } catch (const std::invalid_argument& e) {
    throw DataError(path + ": /layers: " + e.what(), path);
  }
}

}  // namespace ctnn::io
