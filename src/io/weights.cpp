// Weight files, JSON model file (nlohmann-json) and the helpers shared with weights_npy.cpp and
// checkpoint.cpp. The loader parses and validates the whole file into a temporary buffer first and
// copies it into the caller's parameters only at the end, so a bad file leaves them untouched.
// Hand-written here: the checks against the compile-time topology.
#include "ctnn/io/weights.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ctnn/io/atomic_file.hpp"
#include "ctnn/io/json_file.hpp"
#include "weights_detail.hpp"

namespace ctnn::io {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

// ---- ModelSpec ---------------------------------------------------------------------------------
std::size_t ModelSpec::num_params() const noexcept {
  std::size_t n = 0;
  for (const auto& l : layers) n += l.out * l.in + l.out;
  return n;
}
std::string ModelSpec::describe(const LayerSpec& l) {
  if (!l.has_params()) return l.type;
  return l.type + "(" + std::to_string(l.in) + "," + std::to_string(l.out) + ")";
}
std::string ModelSpec::signature() const {
  std::string s = dtype;
  for (const auto& l : layers) {
    s += ' ';
    s += describe(l);
  }
  return s;
}

namespace detail {

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw DataError(path + ": cannot open file (Is a directory)", path);
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open file (" + std::strerror(errno ? errno : ENOENT) + ")", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw DataError(path + ": read error", path);
  return std::move(ss).str();
}

[[noreturn]] void bad(const std::string& path, const std::string& place, const std::string& what) {
  throw DataError(path + ": " + place + ": " + what, path);
}

std::string shape_string(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string number_string(double v) {
  std::ostringstream ss;
  ss.precision(17);
  ss << v;
  return ss.str();
}

std::vector<Block> blocks_of(const ModelSpec& spec) {
  std::vector<Block> b;
  std::size_t at = 0;
  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    const auto& l = spec.layers[i];
    if (!l.has_params()) continue;
    b.push_back({i, 'W', {l.out, l.in}, at});
    at += l.out * l.in;
    b.push_back({i, 'b', {l.out}, at});
    at += l.out;
  }
  return b;
}

std::string block_name(const ModelSpec& spec, const Block& b) {
  return "layer " + std::to_string(b.layer) + " (" + ModelSpec::describe(spec.layers[b.layer]) + ") " + b.which;
}

void check_size(const ModelSpec& spec, std::size_t n, const char* what) {
  if (n != spec.num_params())
    throw DataError(std::string(what) + ": the parameter buffer has " + std::to_string(n) + " values, the topology " +
                    spec.signature() + " needs " + std::to_string(spec.num_params()));
}

}  // namespace detail

using namespace detail;

// ---- JSON model file -----------------------------------------------------------------------------
namespace {

constexpr const char* json_format = "ctnn-model";
constexpr int json_version = 1;
constexpr const char* layout_note =
    "Dense: W is [out, in] row-major (torch.nn.Linear.weight, not transposed), then b [out]";

const char* type_of(const json& v) { return v.type_name(); }

const json& member(const std::string& path, const json& obj, const std::string& at, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end()) bad(path, at + "/" + key, "missing key");
  return *it;
}

std::size_t size_value(const std::string& path, const json& v, const std::string& at) {
  if (!v.is_number_unsigned()) bad(path, at, std::string("expected a non-negative integer, found ") + type_of(v));
  return v.get<std::size_t>();
}

// One number of the file, as the file's dtype holds it (float32 values are rounded to float).
double file_number(const std::string& path, const json& v, const std::string& at, bool float32) {
  if (!v.is_number()) {
    std::string msg = std::string("expected a number, found ") + type_of(v);
    if (v.is_null()) msg += " (JSON has no NaN or Infinity; writers put null in their place)";
    bad(path, at, msg);
  }
  const double d = v.get<double>();
  if (!std::isfinite(d)) bad(path, at, "non-finite value " + number_string(d));
  if (float32) {
    const float f = static_cast<float>(d);
    if (!std::isfinite(f)) bad(path, at, "value " + number_string(d) + " is out of range for float32");
    return f;
  }
  return d;
}

// The inputs of a network: the first Dense layer's `in` (0 without one).
std::size_t inputs_of(const ModelSpec& spec) {
  for (const auto& l : spec.layers)
    if (l.has_params()) return l.in;
  return 0;
}

}  // namespace

template <class T>
std::string model_json_text(const ModelSpec& spec, std::span<const T> params, const std::string& path,
                            const Standardizer* standardizer) {
  check_size(spec, params.size(), path.c_str());
  check_finite_for_save(path, spec, params);
  if (standardizer) {
    const std::size_t n = inputs_of(spec);
    if (standardizer->mean.size() != n || standardizer->inv_std.size() != n)
      throw DataError(path + ": cannot save: the standardizer has " + std::to_string(standardizer->mean.size()) +
                          " means and " + std::to_string(standardizer->inv_std.size()) + " inv_std values, the network " +
                          std::to_string(n) + " inputs",
                      path);
    for (const auto* v : {&standardizer->mean, &standardizer->inv_std})
      for (std::size_t i = 0; i < v->size(); ++i)
        if (!std::isfinite((*v)[i]))
          throw DataError(path + ": cannot save: standardizer " + (v == &standardizer->mean ? "mean" : "inv_std") +
                              " value " + std::to_string(i) + " is non-finite (" + number_string((*v)[i]) + ")",
                          path);
  }
  ordered_json j;
  j["format"] = json_format;
  j["version"] = json_version;
  j["dtype"] = dtype_name<T>();
  j["layout"] = layout_note;
  ordered_json layers = ordered_json::array();
  const T* p = params.data();
  for (const auto& l : spec.layers) {
    ordered_json e;
    e["type"] = l.type;
    if (l.has_params()) {
      e["in"] = l.in;
      e["out"] = l.out;
      ordered_json w = ordered_json::array();
      for (std::size_t r = 0; r < l.out; ++r) {
        ordered_json row = ordered_json::array();
        for (std::size_t c = 0; c < l.in; ++c) row.push_back(static_cast<double>(*p++));
        w.push_back(std::move(row));
      }
      ordered_json b = ordered_json::array();
      for (std::size_t r = 0; r < l.out; ++r) b.push_back(static_cast<double>(*p++));
      e["W"] = std::move(w);
      e["b"] = std::move(b);
    }
    layers.push_back(std::move(e));
  }
  j["layers"] = std::move(layers);
  if (standardizer) {
    ordered_json st;
    st["mean"] = standardizer->mean;
    st["inv_std"] = standardizer->inv_std;
    j["ctnn_tool"]["standardize"] = std::move(st);
  }
  // nlohmann prints a double with the shortest digits that read back to the same double, so a
  // float (widened exactly to double) and a double both round-trip bit for bit.
  return j.dump() + "\n";
}

template <class T>
void save_model_json(const std::string& path, const ModelSpec& spec, std::span<const T> params) {
  write_file_atomically(path, model_json_text(spec, params, path));
}
template <class T>
void save_model_json(const std::string& path, const ModelSpec& spec, std::span<const T> params,
                     const Standardizer& standardizer) {
  write_file_atomically(path, model_json_text(spec, params, path, &standardizer));
}

// ---- reading a model file -------------------------------------------------------------------------
namespace {

// The top level's object, format, version and dtype; returns whether the file holds float32 values.
bool check_header(const std::string& path, const json& j) {
  if (!j.is_object()) bad(path, "/", std::string("expected an object, found ") + type_of(j));
  if (!j.contains("format") && j.contains("layer_sizes"))
    bad(path, "/format",
        "missing key: this looks like a topology (it has \"layer_sizes\"), which ctnn train --topology takes; a "
        "model file is what save_model_json and ctnn train --save write");
  const json& format = member(path, j, "", "format");
  if (!format.is_string() || format.get<std::string>() != json_format)
    bad(path, "/format", std::string("expected \"") + json_format + "\", found " + format.dump());
  const json& version = member(path, j, "", "version");
  if (!version.is_number_integer() || version.get<long long>() != json_version)
    bad(path, "/version", "unsupported version " + version.dump() + " (this build reads version 1)");
  const json& dtype = member(path, j, "", "dtype");
  if (!dtype.is_string() || (dtype != "float32" && dtype != "float64"))
    bad(path, "/dtype", "expected \"float32\" or \"float64\", found " + dtype.dump());
  return dtype == "float32";
}

const json& layer_list(const std::string& path, const json& j) {
  const json& layers = member(path, j, "", "layers");
  if (!layers.is_array()) bad(path, "/layers", std::string("expected an array, found ") + type_of(layers));
  return layers;
}

// The "ctnn_tool" object, or nullptr without one.
const json* tool_object(const std::string& path, const json& j) {
  const auto it = j.find("ctnn_tool");
  if (it == j.end()) return nullptr;
  if (!it->is_object()) bad(path, "/ctnn_tool", std::string("expected an object, found ") + type_of(*it));
  // Its keys are known (save_model_json writes standardize, `ctnn train --save` preset and loss): a
  // misspelt "standardise" must not load as a network fed raw inputs.
  for (const auto& [key, value] : it->items())
    if (key != "standardize" && key != "preset" && key != "loss")
      bad(path, "/ctnn_tool/" + key, "unknown key (ctnn_tool holds standardize, preset, loss)");
  return &*it;
}

// /ctnn_tool/standardize, checked against a network of `inputs` inputs (nullopt without one).
std::optional<Standardizer> read_standardizer(const std::string& path, const json& j, std::size_t inputs) {
  const json* tool = tool_object(path, j);
  if (!tool || !tool->contains("standardize")) return std::nullopt;
  const std::string at = "/ctnn_tool/standardize";
  const json& s = (*tool)["standardize"];
  if (!s.is_object()) bad(path, at, std::string("expected an object, found ") + type_of(s));
  Standardizer st;
  for (const char* key : {"mean", "inv_std"}) {
    const json& v = member(path, s, at, key);
    const std::string vat = at + "/" + key;
    if (!v.is_array()) bad(path, vat, std::string("expected an array, found ") + type_of(v));
    if (v.size() != inputs)
      bad(path, vat, "expected " + std::to_string(inputs) + " values (one per input of the network), found " +
                         std::to_string(v.size()));
    auto& out = key[0] == 'm' ? st.mean : st.inv_std;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::string iat = vat + "/" + std::to_string(i);
      out.push_back(static_cast<float>(file_number(path, v[i], iat, true)));
      // 1 / a standard deviation: 0 would erase the feature, a negative value flip it (fit() gives 1
      // for a constant column); such a file was not written by save_model_json.
      if (&out == &st.inv_std && !(out.back() > 0))
        bad(path, iat, "expected a positive number (1 / the feature's standard deviation), found " + v[i].dump() +
                           (v[i].get<double>() > 0 ? " (0 as a float32)" : ""));
    }
  }
  return st;
}

}  // namespace

json read_json_file(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    // e.byte counts from 1; report line:column of that byte and nlohmann's explanation.
    std::size_t line = 1, col = 1;
    const std::size_t upto = std::min<std::size_t>(e.byte ? e.byte - 1 : 0, text.size());
    for (std::size_t i = 0; i < upto; ++i) {
      if (text[i] == '\n') ++line, col = 1;
      else ++col;
    }
    std::string why = e.what();
    if (const auto k = why.find(": "); k != std::string::npos && why.find("column") < k) why = why.substr(k + 2);
    else if (const auto m = why.find("] "); m != std::string::npos) why = why.substr(m + 2);
    throw DataError(path + ":" + std::to_string(line) + ":" + std::to_string(col) + ": invalid JSON: " + why, path,
                    line, col);
  } catch (const json::exception& e) {  // out_of_range.406: a number beyond double's range
    std::string why = e.what();
    if (const auto m = why.find("] "); m != std::string::npos) why = why.substr(m + 2);
    throw DataError(path + ": invalid JSON: " + why, path);
  }
}

// A count held in a double, as an integer ("100010000") or, beyond 2^53, in %g form.
static std::string text_count(double n) {
  if (n < 9007199254740992.0) return std::to_string(static_cast<std::uint64_t>(n));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", n);
  return buf;
}

ModelFileInfo read_model_info(const std::string& path) {
  const json j = read_json_file(path);
  ModelFileInfo info;
  info.spec.dtype = check_header(path, j) ? "float32" : "float64";
  const json& layers = layer_list(path, j);
  if (layers.empty()) bad(path, "/layers", "expected at least one layer, found none");
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string at = "/layers/" + std::to_string(i);
    const json& l = layers[i];
    if (!l.is_object()) bad(path, at, std::string("expected an object, found ") + type_of(l));
    const json& type = member(path, l, at, "type");
    if (!type.is_string()) bad(path, at + "/type", std::string("expected a string, found ") + type_of(type));
    LayerSpec ls{type.get<std::string>(), 0, 0};
    if (ls.type == "Dense") {
      ls.in = size_value(path, member(path, l, at, "in"), at + "/in");
      ls.out = size_value(path, member(path, l, at, "out"), at + "/out");
      if (ls.in == 0 || ls.out == 0) bad(path, at, "a Dense layer needs positive sizes, found in " +
                                                       std::to_string(ls.in) + ", out " + std::to_string(ls.out));
    }
    info.spec.layers.push_back(std::move(ls));
  }
  // Each parameter is a number and a separator in the file: 2 bytes at least. A layer list claiming
  // more than the file can hold (Dense(10000,10000) in 2 KB) is refused here, before a caller builds
  // a network of that size to load it into (counted in double: no overflow).
  double claimed = 0;
  for (const LayerSpec& l : info.spec.layers) claimed += double(l.in) * double(l.out) + double(l.out);
  std::error_code ec;
  const auto bytes = fs::file_size(path, ec);
  if (!ec && 2 * claimed > double(bytes))
    bad(path, "/layers",
        "the layers have " + text_count(claimed) + " parameters, more than a file of " + std::to_string(bytes) +
            " bytes can hold (each takes 2 bytes at least)");
  info.has_standardizer = read_standardizer(path, j, inputs_of(info.spec)).has_value();
  if (const json* tool = tool_object(path, j)) info.tool = tool->dump();
  return info;
}

namespace {

// Reads and checks the whole file into tmp; with `standardizer`, also its standardisation, else a
// file that carries one is refused.
template <class T>
void read_model(const std::string& path, const ModelSpec& spec, std::vector<T>& tmp,
                std::optional<Standardizer>* standardizer) {
  const json j = read_json_file(path);
  const bool file_f32 = check_header(path, j);
  if (!file_f32 && std::is_same_v<T, float>)
    bad(path, "/dtype",
        "the file holds float64 weights, the network is float32 (narrowing would round; load it into a double "
        "network)");
  const json& layers = layer_list(path, j);
  if (layers.size() != spec.layers.size())
    bad(path, "/layers",
        "expected " + std::to_string(spec.layers.size()) + " layers (" + spec.signature() + "), found " +
            std::to_string(layers.size()));

  T* out = tmp.data();
  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    const LayerSpec& want = spec.layers[i];
    const std::string at = "/layers/" + std::to_string(i);
    const std::string who = "layer " + std::to_string(i) + " (" + ModelSpec::describe(want) + ")";
    const json& l = layers[i];
    if (!l.is_object()) bad(path, at, std::string("expected an object, found ") + type_of(l));
    const json& type = member(path, l, at, "type");
    if (!type.is_string()) bad(path, at + "/type", std::string("expected a string, found ") + type_of(type));
    if (type.get<std::string>() != want.type)
      bad(path, at + "/type", "layer " + std::to_string(i) + ": expected \"" + want.type + "\", found " + type.dump());
    if (!want.has_params()) continue;
    const std::size_t in = size_value(path, member(path, l, at, "in"), at + "/in");
    const std::size_t o = size_value(path, member(path, l, at, "out"), at + "/out");
    if (in != want.in || o != want.out)
      bad(path, at, who + ": expected in " + std::to_string(want.in) + ", out " + std::to_string(want.out) +
                        ", found in " + std::to_string(in) + ", out " + std::to_string(o));
    const json& w = member(path, l, at, "W");
    if (!w.is_array()) bad(path, at + "/W", std::string("expected an array of rows, found ") + type_of(w));
    const std::size_t cols0 = !w.empty() && w[0].is_array() ? w[0].size() : 0;
    if (w.size() != want.out || cols0 != want.in)
      bad(path, at + "/W",
          who + " W: expected shape " + shape_string({want.out, want.in}) + ", found " +
              shape_string({w.size(), cols0}));
    for (std::size_t r = 0; r < want.out; ++r) {
      const json& row = w[r];
      const std::string rat = at + "/W/" + std::to_string(r);
      if (!row.is_array() || row.size() != want.in)
        bad(path, rat,
            who + " W: expected a row of " + std::to_string(want.in) + " numbers, found " +
                (row.is_array() ? "a row of " + std::to_string(row.size()) : std::string(type_of(row))));
      for (std::size_t c = 0; c < want.in; ++c)
        *out++ = static_cast<T>(file_number(path, row[c], rat + "/" + std::to_string(c), file_f32));
    }
    const json& b = member(path, l, at, "b");
    if (!b.is_array() || b.size() != want.out)
      bad(path, at + "/b",
          who + " b: expected shape " + shape_string({want.out}) + ", found " +
              (b.is_array() ? shape_string({b.size()}) : std::string(type_of(b))));
    for (std::size_t r = 0; r < want.out; ++r)
      *out++ = static_cast<T>(file_number(path, b[r], at + "/b/" + std::to_string(r), file_f32));
  }
  auto st = read_standardizer(path, j, inputs_of(spec));
  if (st && !standardizer)
    bad(path, "/ctnn_tool/standardize",
        "the file holds the feature standardisation the network was trained with (" + std::to_string(st->mean.size()) +
            " means and inverse standard deviations); on raw inputs its outputs are wrong. Load it with "
            "io::load_model_json(net, path, io::with_standardizer) and apply the Standardizer it returns to the "
            "inputs (st->apply(data): x' = (x - mean) * inv_std)");
  if (standardizer) *standardizer = std::move(st);
}

// Both loads: the whole file is read and checked before params is written (all or nothing).
template <class T>
void load_checked(const std::string& path, const ModelSpec& spec, std::span<T> params,
                  std::optional<Standardizer>* standardizer) {
  check_size(spec, params.size(), path.c_str());
  std::vector<T> tmp(params.size());
  read_model(path, spec, tmp, standardizer);
  std::copy(tmp.begin(), tmp.end(), params.begin());  // commit: everything has been checked
}

}  // namespace

template <class T>
void load_model_json(const std::string& path, const ModelSpec& spec, std::span<T> params) {
  load_checked(path, spec, params, nullptr);
}

template <class T>
std::optional<Standardizer> load_model_json(const std::string& path, const ModelSpec& spec, std::span<T> params,
                                            WithStandardizer) {
  std::optional<Standardizer> st;
  load_checked(path, spec, params, &st);
  return st;
}

#define CTNN_IO_WEIGHTS_INSTANTIATE(T)                                                         \
  template std::string model_json_text<T>(const ModelSpec&, std::span<const T>, const std::string&,    \
                                          const Standardizer*);                                        \
  template void save_model_json<T>(const std::string&, const ModelSpec&, std::span<const T>);  \
  template void save_model_json<T>(const std::string&, const ModelSpec&, std::span<const T>,   \
                                   const Standardizer&);                                       \
  template void load_model_json<T>(const std::string&, const ModelSpec&, std::span<T>);        \
  template std::optional<Standardizer> load_model_json<T>(const std::string&, const ModelSpec&, std::span<T>, \
                                                          WithStandardizer);
CTNN_IO_WEIGHTS_INSTANTIATE(float)
CTNN_IO_WEIGHTS_INSTANTIATE(double)

}  // namespace ctnn::io
