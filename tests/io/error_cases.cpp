// tests/io/error_cases.cpp: the one list of bad-input cases behind docs/errors.md's generated tables.
// Each case writes a bad file (CSV, IDX, JSON model file, .npy folder, checkpoint), runs the loader
// and must get a DataError whose message is exactly the expected text; a weight or checkpoint case
// must also leave the previous parameters (and optimiser buffers) bit for bit as they were.
//   error_cases                 run every case (exit 1 on any mismatch)
//   error_cases --check DOC     ... and check that DOC holds the generated tables (meson test)
//   error_cases --markdown      print the generated tables (tools/gen-errors-doc splices them in)
// The files are written in a scratch folder that becomes the working directory, so messages start
// with the file name as the user passed it ("ragged.csv:3: ..."), the same on every machine.
// Written by hand: the case list and a small .npy/IDX byte builder (the bad files must be built
// byte by byte; a library writer would refuse to write them).
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "ctnn/io/checkpoint.hpp"
#include "ctnn/io/csv.hpp"
#include "ctnn/io/idx.hpp"
#include "ctnn/io/weights.hpp"

namespace fs = std::filesystem;
using ctnn::io::DataError;
using json = nlohmann::json;

namespace {

// ---- files ----------------------------------------------------------------------------------------
void write(const std::string& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + file);
}
std::string read(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void write_gz(const std::string& file, const std::string& bytes) {
  gzFile f = gzopen(file.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

std::string be32(std::uint32_t v) {
  return {char(v >> 24), char(v >> 16 & 0xff), char(v >> 8 & 0xff), char(v & 0xff)};
}
// IDX images (magic 0x803, n x h x w) and labels (magic 0x801, n), `cut` bytes removed at the end.
std::string idx_images(std::uint32_t n, std::uint32_t h, std::uint32_t w, std::uint32_t magic = 0x803) {
  return be32(magic) + be32(n) + be32(h) + be32(w) + std::string(std::size_t{n} * h * w, '\x07');
}
std::string idx_labels(std::uint32_t n, std::uint32_t magic = 0x801) {
  return be32(magic) + be32(n) + std::string(n, '\x01');
}

// A .npy v1.0 file: header dictionary padded to 64 bytes, then raw little-endian values.
std::string npy(const std::string& descr, const std::string& shape, const std::string& data, bool fortran = false) {
  std::string h = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
  h += std::string(63 - (10 + h.size()) % 64, ' ') + "\n";
  return std::string("\x93NUMPY\x01\x00", 8) + char(h.size() & 0xff) + char(h.size() >> 8) + h + data;
}
// bytes with every bit of byte i inverted (a corrupt disk block, a bad copy).
std::string flip(std::string bytes, std::size_t i) {
  if (i < bytes.size()) bytes[i] = static_cast<char>(bytes[i] ^ 0xff);
  return bytes;
}
template <class T>
std::string raw(std::initializer_list<T> v) {
  std::string s(v.size() * sizeof(T), '\0');
  std::memcpy(s.data(), std::data(v), s.size());
  return s;
}

// ---- what a case checks -----------------------------------------------------------------------------
struct Case {
  std::string section;   // "CSV", "IDX", ...
  std::string name;      // what is wrong with the file
  std::function<void()> run;  // writes the file(s), calls the loader (and checks untouched state)
  std::string expected;  // the exact what()
};

// Thrown by a case whose loader changed the caller's parameters before rejecting the file.
struct HalfLoaded : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The example network of the weight cases: Network<float, Dense<3, 4>, ReLU, Dense<4, 2>>.
const ctnn::io::ModelSpec spec_f{"float32", {{"Dense", 3, 4}, {"relu", 0, 0}, {"Dense", 4, 2}}};

std::vector<float> some_params() {
  std::vector<float> p(spec_f.num_params());
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = 0.125f * static_cast<float>(i) - 1.0f;
  return p;
}

// Runs load(params) on a fresh parameter buffer and checks it is bit for bit unchanged afterwards.
void untouched(const std::function<void(std::span<float>)>& load) {
  std::vector<float> params(spec_f.num_params(), 0.5f);
  const std::vector<float> before = params;
  try {
    load(params);
  } catch (...) {
    if (std::memcmp(before.data(), params.data(), params.size() * sizeof(float)) != 0)
      throw HalfLoaded("the parameters changed although the file was rejected");
    throw;
  }
}

// A valid JSON model file, edited by `edit`, then loaded into the example network.
std::function<void()> json_case(const std::string& file, std::function<void(json&)> edit) {
  return [=] {
    ctnn::io::save_model_json<float>(file, spec_f, some_params());
    json j = json::parse(read(file));
    edit(j);
    write(file, j.dump());
    untouched([&](std::span<float> p) { ctnn::io::load_model_json<float>(file, spec_f, p); });
  };
}
// The same loaded with io::with_standardizer (a file that may carry a feature standardisation).
std::function<void()> json_standardized_case(const std::string& file, std::function<void(json&)> edit) {
  return [=] {
    ctnn::io::save_model_json<float>(file, spec_f, some_params(), ctnn::io::Standardizer{{1, 2, 3}, {0.5f, 1, 2}});
    json j = json::parse(read(file));
    edit(j);
    write(file, j.dump());
    untouched([&](std::span<float> p) { ctnn::io::load_model_json<float>(file, spec_f, p, ctnn::io::with_standardizer); });
  };
}
// A valid JSON model file whose text is replaced by `edit(text)`.
std::function<void()> json_text_case(const std::string& file, std::function<std::string(std::string)> edit) {
  return [=] {
    ctnn::io::save_model_json<float>(file, spec_f, some_params());
    write(file, edit(read(file)));
    untouched([&](std::span<float> p) { ctnn::io::load_model_json<float>(file, spec_f, p); });
  };
}
// A valid .npy folder "w" (every tensor), with layer 2's b replaced by `b_file` (bytes), or removed.
std::function<void()> npy_case(const std::string& b_file, bool remove = false) {
  return [=] {
    ctnn::io::save_weights_npy<float>("w", spec_f, some_params());
    if (remove) fs::remove("w/layer2.Dense.b.npy");
    else write("w/layer2.Dense.b.npy", b_file);
    untouched([&](std::span<float> p) { ctnn::io::load_weights_npy<float>("w", spec_f, p); });
  };
}
// Same, layer 2's W replaced.
std::function<void()> npy_w_case(const std::string& w_file) {
  return [=] {
    ctnn::io::save_weights_npy<float>("w", spec_f, some_params());
    write("w/layer2.Dense.W.npy", w_file);
    untouched([&](std::span<float> p) { ctnn::io::load_weights_npy<float>("w", spec_f, p); });
  };
}

// A checkpoint of the example network with one optimiser buffer, edited by `edit(bytes)`, then loaded;
// parameters and the buffer must be untouched.
std::function<void()> ckpt_case(const std::string& file, std::function<std::string(std::string)> edit,
                                const std::string& topology = spec_f.signature()) {
  return [=] {
    const std::vector<float> p = some_params(), v(5, 2.0f);
    const std::vector<ctnn::io::NamedBuffer<const float>> save{{"adam.v", v}};
    ctnn::io::save_checkpoint<float>(file, spec_f.signature(), p, save, {7, 3, 1, std::mt19937_64(42)});
    write(file, edit(read(file)));
    std::vector<float> v2(5, 9.0f);
    const std::vector<float> v_before = v2;
    const std::vector<ctnn::io::NamedBuffer<float>> load{{"adam.v", v2}};
    untouched([&](std::span<float> q) { ctnn::io::load_checkpoint<float>(file, topology, q, load); });
    if (v2 != v_before) throw HalfLoaded("an optimiser buffer changed although the file was rejected");
  };
}

std::function<void()> csv_case(const std::string& file, const std::string& text) {
  return [=] {
    write(file, text);
    ctnn::io::load_csv(file);
  };
}
std::function<void()> idx_case(const std::string& images, const std::string& labels) {
  return [=] {
    write("images.idx", images);
    write("labels.idx", labels);
    ctnn::io::load_idx("images.idx", "labels.idx");
  };
}

std::vector<Case> cases() {
  std::vector<Case> c;
  auto add = [&](const char* section, const char* name, std::function<void()> run, std::string expected) {
    c.push_back({section, name, std::move(run), std::move(expected)});
  };
  // ---- CSV: load_csv(path) -------------------------------------------------------------------------
  const char* S = "CSV";
  add(S, "file missing", [] { ctnn::io::load_csv("missing.csv"); },
      "missing.csv: cannot open file (No such file or directory)");
  add(S, "empty file", csv_case("empty.csv", ""), "empty.csv: file is empty (expected a header row of column names)");
  add(S, "only a BOM and blank lines", csv_case("bom_only.csv", "\xEF\xBB\xBF\r\n\r\n"),
      "bom_only.csv: file is empty (expected a header row of column names)");
  add(S, "header only", csv_case("header.csv", "a,b,label\n"), "header.csv: no data rows after the header");
  add(S, "no label column", csv_case("nolabel.csv", "a,b,class\n1,2,0\n"),
      "nolabel.csv:1: header has no label column \"label\" (found: \"a\", \"b\", \"class\")");
  add(S, "no header row (the first row is numbers)", csv_case("noheader.csv", "4.9,3,1.4,0\n5.1,3.5,1.4,0\n"),
      "noheader.csv:1: header has no label column \"label\" (found: \"4.9\", \"3\", \"1.4\", \"0\"); the first row is "
      "all numbers: does the file lack its header row of column names?");
  add(S, "label column twice", csv_case("twice.csv", "label,a,label\n0,1,0\n"),
      "twice.csv:1: column \"label\" appears twice (columns 1 and 3)");
  add(S, "ragged row: too few fields", csv_case("ragged.csv", "a,b,label\n1,2,0\n1,0\n"),
      "ragged.csv:3: expected 3 fields, found 2");
  add(S, "ragged row: too many fields (CRLF file)", csv_case("ragged_crlf.csv", "a,b,label\r\n1,2,0\r\n1,2,3,0\r\n"),
      "ragged_crlf.csv:3: expected 3 fields, found 4");
  add(S, "trailing comma", csv_case("comma.csv", "a,label\n1,0,\n"), "comma.csv:2: expected 2 fields, found 3");
  add(S, "blank line inside the data", csv_case("blank.csv", "a,label\n1,0\n\n2,1\n"),
      "blank.csv:3: blank line inside the data (only blank lines at the end of the file are allowed)");
  add(S, "empty cell", csv_case("empty_cell.csv", "a,b,label\n1,,0\n"), "empty_cell.csv:2:2 (column \"b\"): empty cell");
  add(S, "non-numeric cell", csv_case("text.csv", "a,b,label\n1,abc,0\n"),
      "text.csv:2:2 (column \"b\"): cannot parse \"abc\" as a number");
  add(S, "non-numeric cell after a BOM, CRLF ends", csv_case("bom_crlf.csv", "\xEF\xBB\xBF" "a,b,label\r\n1,2,0\r\n3,x4,1\r\n"),
      "bom_crlf.csv:3:2 (column \"b\"): cannot parse \"x4\" as a number");
  add(S, "number with trailing text", csv_case("suffix.csv", "a,label\n1.5kg,0\n"),
      "suffix.csv:2:1 (column \"a\"): cannot parse \"1.5kg\" as a number");
  add(S, "quote not closed on its line", csv_case("open_quote.csv", "a,\"b,label\n1,2,0\n"),
      "open_quote.csv:1:2: a quoted field is not closed on its line (a field spanning lines is not supported)");
  add(S, "text after a closing quote", csv_case("after_quote.csv", "a,b,label\n1,\"2\"x,0\n"),
      "after_quote.csv:2:2: text after the closing quote of a quoted field");
  add(S, "quoted text that is not a number", csv_case("quoted.csv", "a,label\n\"1 kg\",0\n"),
      "quoted.csv:2:1 (column \"a\"): cannot parse \"1 kg\" as a number");
  add(S, "huge value 1e400", csv_case("huge.csv", "a,b,label\n1,1e400,0\n"),
      "huge.csv:2:2 (column \"b\"): value \"1e400\" is out of range for a float");
  add(S, "value beyond float (1e39)", csv_case("beyond.csv", "a,b,label\n1,-1e39,0\n"),
      "beyond.csv:2:2 (column \"b\"): value \"-1e39\" is out of range for a float");
  add(S, "NaN cell", csv_case("nan.csv", "a,b,label\n1,NaN,0\n"), "nan.csv:2:2 (column \"b\"): non-finite value \"NaN\"");
  add(S, "Inf cell", csv_case("inf.csv", "a,b,label\n-inf,1,0\n"), "inf.csv:2:1 (column \"a\"): non-finite value \"-inf\"");
  add(S, "negative label", csv_case("neg_label.csv", "a,label\n1,-1\n"),
      "neg_label.csv:2:2 (column \"label\"): label \"-1\" is not a non-negative integer");
  add(S, "fractional label", csv_case("frac_label.csv", "a,label\n1,1.5\n"),
      "frac_label.csv:2:2 (column \"label\"): label \"1.5\" is not a non-negative integer");
  add(S, "long cell text is cut at 40 characters", csv_case("long.csv", "a,label\n" + std::string(50, 'z') + ",0\n"),
      "long.csv:2:1 (column \"a\"): cannot parse \"" + std::string(40, 'z') + "...\" as a number");

  // ---- IDX: load_idx(images, labels) ---------------------------------------------------------------
  S = "IDX";
  add(S, "images file missing", [] { write("labels.idx", idx_labels(2)); ctnn::io::load_idx("none.idx", "labels.idx"); },
      "none.idx: cannot open file (No such file or directory)");
  add(S, "labels file given as images (shorter than an image header)", idx_case(idx_labels(2), idx_labels(2)),
      "images.idx: truncated header: expected 16 bytes, found 10");
  add(S, "wrong magic (images)", idx_case(idx_images(2, 2, 2, 0x801), idx_labels(2)),
      "images.idx: wrong magic number: expected 0x00000803 (IDX images: unsigned byte, 3 dimensions), found 0x00000801");
  add(S, "wrong magic (labels)", idx_case(idx_images(2, 2, 2), idx_labels(2, 0x803)),
      "labels.idx: wrong magic number: expected 0x00000801 (IDX labels: unsigned byte, 1 dimension), found 0x00000803");
  add(S, "truncated header", idx_case(idx_images(2, 2, 2).substr(0, 7), idx_labels(2)),
      "images.idx: truncated header: expected 16 bytes, found 7");
  add(S, "truncated pixel data", idx_case(idx_images(2, 2, 2).substr(0, 16 + 5), idx_labels(2)),
      "images.idx: truncated data: expected 8 bytes of pixel data, found 5");
  add(S, "truncated label data", idx_case(idx_images(2, 2, 2), idx_labels(2).substr(0, 9)),
      "labels.idx: truncated data: expected 2 bytes of label data, found 1");
  add(S, "image and label counts differ", idx_case(idx_images(2, 2, 2), idx_labels(3)),
      "labels.idx: label count 3 does not match image count 2 in images.idx");
  add(S, "zero image size", idx_case(idx_images(2, 0, 2), idx_labels(2)),
      "images.idx: implausible header: 2 images of 0 x 2 pixels");
  add(S, "no images (a large image size)", idx_case(idx_images(0, 8, 1 << 24), idx_labels(0)),
      "images.idx: no images (the header says 0 images of 8 x 16777216 pixels)");
  add(S, "absurd dimensions (more than 16 GiB)", idx_case(be32(0x803) + be32(70000) + be32(70000) + be32(70000), idx_labels(2)),
      "images.idx: implausible header: 70000 images of 70000 x 70000 pixels");
  add(S, "cut-off gzip stream",
      [] {
        write_gz("images.idx.gz", idx_images(2, 2, 2));
        const std::string gz = read("images.idx.gz");
        write("images.idx.gz", gz.substr(0, gz.size() - 12));  // the end of the deflate data and the trailer
        write("labels.idx", idx_labels(2));
        ctnn::io::load_idx("images.idx.gz", "labels.idx");
      },
      "images.idx.gz: truncated data: expected 8 bytes of pixel data, found 0 (gzip: unexpected end of file)");

  // ---- JSON model file: load_model_json(net, path) --------------------------------------------------
  S = "JSON model file";
  const std::string m = "model.json";
  add(S, "file missing", [] { untouched([](std::span<float> p) { ctnn::io::load_model_json<float>("none.json", spec_f, p); }); },
      "none.json: cannot open file (No such file or directory)");
  add(S, "empty file", json_text_case(m, [](std::string) { return std::string(); }),
      "model.json:1:1: invalid JSON: syntax error while parsing value - unexpected end of input; expected '[', '{', or a literal");
  add(S, "truncated", json_text_case(m, [](std::string t) { return t.substr(0, 60); }),
      "model.json:1:61: invalid JSON: syntax error while parsing object key - invalid string: missing closing quote; last read: "
      "'\"layout'; expected string literal");
  add(S, "NaN literal (not JSON)", json_text_case(m, [](std::string t) { return t.replace(t.find("\"b\":[") + 5, 0, "NaN,"); }),
      "model.json:1:283: invalid JSON: syntax error while parsing value - invalid literal; last read: '\"b\":[N'");
  add(S, "number beyond double (1e400)", json_text_case(m, [](std::string t) { return t.replace(t.find("\"b\":[") + 5, 0, "1e400,"); }),
      "model.json: invalid JSON: number overflow parsing '1e400'");
  add(S, "top level not an object", json_text_case(m, [](std::string) { return std::string("[1, 2]"); }),
      "model.json: /: expected an object, found array");
  add(S, "missing key: format", json_case(m, [](json& j) { j.erase("format"); }), "model.json: /format: missing key");
  add(S, "missing key: layers", json_case(m, [](json& j) { j.erase("layers"); }), "model.json: /layers: missing key");
  add(S, "missing key: a layer's W", json_case(m, [](json& j) { j["layers"][2].erase("W"); }),
      "model.json: /layers/2/W: missing key");
  add(S, "other format", json_case(m, [](json& j) { j["format"] = "keras"; }),
      "model.json: /format: expected \"ctnn-model\", found \"keras\"");
  add(S, "other version", json_case(m, [](json& j) { j["version"] = 2; }),
      "model.json: /version: unsupported version 2 (this build reads version 1)");
  add(S, "wrong type: dtype a number", json_case(m, [](json& j) { j["dtype"] = 32; }),
      "model.json: /dtype: expected \"float32\" or \"float64\", found 32");
  add(S, "float64 file, float32 network", json_case(m, [](json& j) { j["dtype"] = "float64"; }),
      "model.json: /dtype: the file holds float64 weights, the network is float32 (narrowing would round; load it "
      "into a double network)");
  add(S, "wrong type: layers an object", json_case(m, [](json& j) { j["layers"] = json::object(); }),
      "model.json: /layers: expected an array, found object");
  add(S, "layer count differs", json_case(m, [](json& j) { j["layers"].erase(1); }),
      "model.json: /layers: expected 3 layers (float32 Dense(3,4) relu Dense(4,2)), found 2");
  add(S, "other layer type", json_case(m, [](json& j) { j["layers"][1]["type"] = "sigmoid"; }),
      "model.json: /layers/1/type: layer 1: expected \"relu\", found \"sigmoid\"");
  add(S, "wrong type: layer type a number", json_case(m, [](json& j) { j["layers"][1]["type"] = 1; }),
      "model.json: /layers/1/type: expected a string, found number");
  add(S, "Dense sizes differ", json_case(m, [](json& j) { j["layers"][2]["in"] = 5; }),
      "model.json: /layers/2: layer 2 (Dense(4,2)): expected in 4, out 2, found in 5, out 2");
  add(S, "wrong type: size a string", json_case(m, [](json& j) { j["layers"][2]["out"] = "2"; }),
      "model.json: /layers/2/out: expected a non-negative integer, found string");
  add(S, "wrong shape: W transposed", json_case(m, [](json& j) {
        json t = json::array();
        for (std::size_t c = 0; c < 4; ++c) {
          json row = json::array();
          for (std::size_t r = 0; r < 2; ++r) row.push_back(j["layers"][2]["W"][r][c]);
          t.push_back(row);
        }
        j["layers"][2]["W"] = t;
      }),
      "model.json: /layers/2/W: layer 2 (Dense(4,2)) W: expected shape [2, 4], found [4, 2]");
  add(S, "wrong shape: ragged W", json_case(m, [](json& j) { j["layers"][2]["W"][1].erase(3); }),
      "model.json: /layers/2/W/1: layer 2 (Dense(4,2)) W: expected a row of 4 numbers, found a row of 3");
  add(S, "wrong shape: b too long", json_case(m, [](json& j) { j["layers"][2]["b"].push_back(1.0); }),
      "model.json: /layers/2/b: layer 2 (Dense(4,2)) b: expected shape [2], found [3]");
  add(S, "wrong type: a weight a string", json_case(m, [](json& j) { j["layers"][2]["W"][1][2] = "0.5"; }),
      "model.json: /layers/2/W/1/2: expected a number, found string");
  add(S, "NaN weight (null, as writers spell NaN)", json_case(m, [](json& j) { j["layers"][2]["W"][1][2] = nullptr; }),
      "model.json: /layers/2/W/1/2: expected a number, found null (JSON has no NaN or Infinity; writers put null in their "
      "place)");
  add(S, "value beyond float32", json_case(m, [](json& j) { j["layers"][2]["b"][1] = 1e300; }),
      "model.json: /layers/2/b/1: value 1.0000000000000001e+300 is out of range for float32");
  add(S, "a topology, not a model file", json_text_case(m, [](std::string) {
        return std::string(R"({"layer_sizes": [3, 4, 2], "activations": ["relu", "identity"]})");
      }),
      "model.json: /format: missing key: this looks like a topology (it has \"layer_sizes\"), which ctnn train "
      "--topology takes; a model file is what save_model_json and ctnn train --save write");
  add(S, "a feature standardisation, loaded without with_standardizer",
      json_case(m, [](json& j) { j["ctnn_tool"]["standardize"] = {{"mean", {1, 2, 3}}, {"inv_std", {1, 1, 1}}}; }),
      "model.json: /ctnn_tool/standardize: the file holds the feature standardisation the network was trained with "
      "(3 means and inverse standard deviations); on raw inputs its outputs are wrong. Load it with "
      "io::load_model_json(net, path, io::with_standardizer) and apply the Standardizer it returns to the inputs "
      "(st->apply(data): x' = (x - mean) * inv_std)");
  add(S, "ctnn_tool not an object", json_case(m, [](json& j) { j["ctnn_tool"] = "iris"; }),
      "model.json: /ctnn_tool: expected an object, found string");
  add(S, "ctnn_tool: an unknown key (a misspelt standardisation)",
      json_case(m, [](json& j) { j["ctnn_tool"]["standardise"] = {{"mean", {1, 2, 3}}, {"inv_std", {1, 1, 1}}}; }),
      "model.json: /ctnn_tool/standardise: unknown key (ctnn_tool holds standardize, preset, loss)");
  add(S, "standardisation: another count than the inputs",
      json_standardized_case(m, [](json& j) { j["ctnn_tool"]["standardize"]["mean"].erase(2); }),
      "model.json: /ctnn_tool/standardize/mean: expected 3 values (one per input of the network), found 2");
  add(S, "standardisation: a NaN (null)",
      json_standardized_case(m, [](json& j) { j["ctnn_tool"]["standardize"]["inv_std"][1] = nullptr; }),
      "model.json: /ctnn_tool/standardize/inv_std/1: expected a number, found null (JSON has no NaN or Infinity; "
      "writers put null in their place)");
  add(S, "standardisation: an inv_std of 0 (it would erase the feature)",
      json_standardized_case(m, [](json& j) { j["ctnn_tool"]["standardize"]["inv_std"][2] = 0; }),
      "model.json: /ctnn_tool/standardize/inv_std/2: expected a positive number (1 / the feature's standard "
      "deviation), found 0");
  add(S, "standardisation: a key missing",
      json_standardized_case(m, [](json& j) { j["ctnn_tool"]["standardize"].erase("inv_std"); }),
      "model.json: /ctnn_tool/standardize/inv_std: missing key");

  // ---- .npy folder: load_weights_npy(net, dir) --------------------------------------------------------
  S = ".npy folder";
  const std::string b = "w/layer2.Dense.b.npy";
  add(S, "tensor file missing", npy_case("", true), b + ": cannot open file (No such file or directory)");
  add(S, "wrong dtype (int64)", npy_case(npy("<i8", "(2,)", raw<std::int64_t>({1, 2}))),
      b + ": layer 2 (Dense(4,2)) b: dtype '<i8' is not little-endian float32 ('<f4') or float64 ('<f8')");
  add(S, "wrong dtype (big-endian float32)", npy_case(npy(">f4", "(2,)", raw<float>({1, 2}))),
      b + ": layer 2 (Dense(4,2)) b: dtype '>f4' is not little-endian float32 ('<f4') or float64 ('<f8')");
  add(S, "float64 file, float32 network", npy_case(npy("<f8", "(2,)", raw<double>({1, 2}))),
      b + ": layer 2 (Dense(4,2)) b: dtype '<f8' (float64) cannot be loaded into a float32 network (narrowing would round)");
  add(S, "wrong shape", npy_case(npy("<f4", "(3,)", raw<float>({1, 2, 3}))),
      b + ": layer 2 (Dense(4,2)) b: expected shape [2], found [3]");
  add(S, "wrong shape: W transposed", npy_w_case(npy("<f4", "(4, 2)", raw<float>({1, 2, 3, 4, 5, 6, 7, 8}))),
      "w/layer2.Dense.W.npy: layer 2 (Dense(4,2)) W: expected shape [2, 4], found [4, 2]");
  add(S, "Fortran order", npy_w_case(npy("<f4", "(2, 4)", raw<float>({1, 2, 3, 4, 5, 6, 7, 8}), true)),
      "w/layer2.Dense.W.npy: layer 2 (Dense(4,2)) W: fortran_order (column-major) arrays are not read; save it in C order");
  add(S, "truncated data", npy_case(npy("<f4", "(2,)", raw<float>({1, 2})).substr(0, 128 + 5)),
      b + ": truncated data: expected 8 bytes after the header, found 5");
  add(S, "truncated header", npy_case(npy("<f4", "(2,)", raw<float>({1, 2})).substr(0, 40)),
      b + ": truncated header: it declares 118 header bytes, the file has 30 after the magic");
  add(S, "shorter than the magic", npy_case("\x93NUMPY\x01"), b + ": truncated header: 7 bytes, a .npy file starts with at least 10");
  add(S, "bad magic", npy_case("PK\x03\x04 not a npy file"), b + ": bad magic: not a .npy file (it must start with \\x93NUMPY)");
  add(S, "bytes after the data", npy_case(npy("<f4", "(2,)", raw<float>({1, 2})) + "xyz"),
      b + ": 3 unexpected bytes after the data (expected 8)");
  add(S, "NaN value", npy_case(npy("<f4", "(2,)", raw<float>({1, std::numeric_limits<float>::quiet_NaN()}))),
      b + ": layer 2 (Dense(4,2)) b[1]: non-finite value nan");
  add(S, "Inf value in W", npy_w_case(npy("<f4", "(2, 4)", raw<float>({1, 2, 3, 4, 5, 6, 7, -std::numeric_limits<float>::infinity()}))),
      "w/layer2.Dense.W.npy: layer 2 (Dense(4,2)) W[1, 3]: non-finite value -inf");

  // ---- checkpoint: load_checkpoint(path, net, buffers) ---------------------------------------------
  S = "Checkpoint";
  const std::string k = "c.ckpt";
  add(S, "truncated inside the header", ckpt_case(k, [](std::string s) { return s.substr(0, 20); }),
      "c.ckpt: truncated header: 20 bytes, a checkpoint header has 32");
  add(S, "truncated payload (torn write)", ckpt_case(k, [](std::string s) { return s.substr(0, 100); }),
      "c.ckpt: truncated: the header promises 6626 payload bytes, the file has 68");
  add(S, "bytes appended", ckpt_case(k, [](std::string s) { return s + "x"; }), "c.ckpt: 1 unexpected bytes after the payload");
  add(S, "not a checkpoint (first byte flipped)", ckpt_case(k, [](std::string s) { return flip(s, 0); }),
      "c.ckpt: bad magic: not a ctnn checkpoint (it must start with \"CTNNCKPT\")");
  add(S, "byte flipped in the header", ckpt_case(k, [](std::string s) { return flip(s, 12); }),
      "c.ckpt: header checksum mismatch (the header is corrupt)");
  add(S, "byte flipped in the payload", ckpt_case(k, [](std::string s) { return flip(s, 40); }),
      "c.ckpt: payload checksum mismatch: stored 0xE89C9917, computed 0x5DAB1C75 (the file is corrupt)");
  add(S, "other network", ckpt_case(k, [](std::string s) { return s; }, "float32 Dense(3,4) tanh Dense(4,2)"),
      "c.ckpt: /topology: expected \"float32 Dense(3,4) tanh Dense(4,2)\", found \"float32 Dense(3,4) relu Dense(4,2)\"");
  return c;
}

// ---- running and printing -------------------------------------------------------------------------
struct Result {
  std::string message;  // what() of the DataError ("" if none)
  std::string problem;  // why the case failed ("" if it passed)
};

Result run(const Case& c) {
  Result r;
  try {
    c.run();
    r.problem = "no DataError thrown";
  } catch (const DataError& e) {
    r.message = e.what();
    if (r.message != c.expected) r.problem = "message differs";
  } catch (const std::exception& e) {
    r.problem = std::string("not a DataError: ") + e.what();
  }
  return r;
}

std::string cell(const std::string& s) {  // a Markdown table cell in code style
  std::string out;
  for (char ch : s) out += ch == '|' ? std::string("\\|") : std::string(1, ch);
  return "`" + out + "`";
}

const char* begin_marker = "<!-- BEGIN generated by tools/gen-errors-doc from tests/io/error_cases.cpp; do not edit -->";
const char* end_marker = "<!-- END generated -->";

std::string markdown(const std::vector<Case>& list, const std::vector<Result>& results) {
  std::string md = std::string(begin_marker) + "\n";
  std::string section;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (list[i].section != section) {
      section = list[i].section;
      md += "\n#### " + section + "\n\n| Case | Message |\n|---|---|\n";
    }
    md += "| " + list[i].name + " | " + cell(results[i].message) + " |\n";
  }
  return md + "\n" + end_marker + "\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (!(mode.empty() || mode == "--markdown" || (mode == "--check" && argc == 3))) {
    std::cerr << "usage: error_cases [--markdown | --check DOC]\n";
    return 2;
  }
  std::string doc;
  if (mode == "--check") doc = read(fs::absolute(argv[2]).string());

  const fs::path scratch = fs::temp_directory_path() / ("ctnn-error-cases-" + std::to_string(::getpid()));
  fs::create_directories(scratch);
  const fs::path home = fs::current_path();
  fs::current_path(scratch);
  const std::vector<Case> list = cases();
  std::vector<Result> results;
  int failed = 0;
  for (const Case& c : list) {
    for (const auto& e : fs::directory_iterator(scratch)) fs::remove_all(e.path());
    results.push_back(run(c));
    if (!results.back().problem.empty()) {
      ++failed;
      std::cerr << "FAIL [" << c.section << "] " << c.name << ": " << results.back().problem << "\n  expected: "
                << c.expected << "\n  got:      " << results.back().message << "\n";
    }
  }
  fs::current_path(home);
  fs::remove_all(scratch);
  if (failed) {
    std::cerr << failed << " of " << list.size() << " error cases failed\n";
    return 1;
  }
  const std::string md = markdown(list, results);
  if (mode == "--markdown") {
    std::cout << md;
    return 0;
  }
  if (mode == "--check") {
    if (doc.find(md) == std::string::npos) {
      std::cerr << argv[2] << " does not hold the generated error tables (or they are out of date): run "
                   "tools/gen-errors-doc\n";
      return 1;
    }
    std::cout << "docs: the generated tables in " << argv[2] << " are up to date\n";
  }
  std::cout << list.size() << " error cases passed\n";
  return 0;
}
