// The JSON model file: bit-exact round trips (float and double, awkward values included), the
// file's layout ([out, in] row-major, as torch.nn.Linear.weight) and every bad-file case of
// docs/errors.md: exact message, and the network keeps its previous weights. A model file loaded
// into a RuntimeNetwork of the file's topology (io::load_runtime_network) computes what the
// compiled network computes.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "ctnn/ctnn.hpp"
#include "ctnn/io/runtime_model.hpp"
#include "ctnn/io/weights.hpp"
#include "persist_check.hpp"

using namespace ctnn;
using persist::check_rejected;
using ojson = nlohmann::ordered_json;

namespace {

using NetF = Network<float, Dense<3, 4>, ReLU, Dense<4, 2>, Softmax>;
using NetD = NetF::rebind<double>;

const auto save_file = [](const auto& net, const std::string& path) { io::save_model_json(net, path); };
const auto load_file = [](auto& net, const std::string& path) { io::load_model_json(net, path); };

ojson read_json(const std::string& file) { return ojson::parse(persist::read_bytes(file)); }
void write_json(const std::string& file, const ojson& j) { persist::write_bytes(file, j.dump()); }

}  // namespace

TEST_CASE("JSON model file round-trips bit for bit (float and double)") {
  persist::TempDir dir("json-rt");
  persist::check_round_trip<NetF>(dir / "m.json", save_file, load_file);
  persist::check_round_trip<NetD>(dir / "m.json", save_file, load_file);
}

TEST_CASE("JSON model file records topology, dtype and W as [out, in] rows") {
  persist::TempDir dir("json-layout");
  NetF net(3, Init::xavier_normal);
  io::save_model_json(net, dir / "m.json");
  const ojson j = read_json(dir / "m.json");
  CHECK(j["format"] == "ctnn-model");
  CHECK(j["version"] == 1);
  CHECK(j["dtype"] == "float32");
  REQUIRE(j["layers"].size() == 4);
  CHECK(j["layers"][1]["type"] == "relu");
  CHECK(j["layers"][3]["type"] == "softmax");
  const auto& d = j["layers"][2];
  CHECK(d["type"] == "Dense");
  CHECK(d["in"] == 4);
  CHECK(d["out"] == 2);
  const auto p = net.params();
  const std::size_t w2 = NetF::block_offset[2], b2 = NetF::block_offset[3];
  for (std::size_t r = 0; r < 2; ++r) {
    for (std::size_t c = 0; c < 4; ++c) CHECK(d["W"][r][c].get<double>() == double(p[w2 + r * 4 + c]));
    CHECK(d["b"][r].get<double>() == double(p[b2 + r]));
  }
  CHECK(io::model_spec<NetF>().signature() == "float32 Dense(3,4) relu Dense(4,2) softmax");
}

TEST_CASE("a float32 file loads exactly into a double network") {
  persist::TempDir dir("json-widen");
  persist::check_widening<NetF>(dir / "m.json", save_file, load_file);
}

TEST_CASE("saving a non-finite weight is refused") {
  persist::TempDir dir("json-save-nan");
  NetF net(5);
  net.params()[NetF::block_offset[2] + 5] = std::numeric_limits<float>::quiet_NaN();
  std::string msg;
  try {
    io::save_model_json(net, dir / "m.json");
  } catch (const io::DataError& e) {
    msg = e.what();
  }
  CHECK(msg == dir / "m.json" + ": cannot save: layer 2 (Dense(4,2)) W value 5 is non-finite (nan)");
  CHECK(!std::filesystem::exists(dir / "m.json"));
}

TEST_CASE("a write error names the file and the step, and leaves no file behind") {
  persist::TempDir dir("json-write-error");
  NetF net(5);
  const std::string p = dir / "no-such-folder/m.json";
  std::string msg, file;
  try {
    io::save_model_json(net, p);
  } catch (const io::WriteError& e) {  // not a DataError: the input is fine, the destination is not
    msg = e.what();
    file = e.file();
  }
  CHECK(msg == p + ": cannot write (create temporary file: No such file or directory)");
  CHECK(file == p);
  CHECK(!std::filesystem::exists(dir / "no-such-folder"));
}

TEST_CASE("check_writable refuses before any work what the save would refuse after it, and writes nothing") {
  persist::TempDir dir("json-check-writable");
  const auto message = [](const std::filesystem::path& p) {
    try {
      io::check_writable(p);
    } catch (const io::WriteError& e) {
      return std::string(e.what());
    }
    return std::string("writable");
  };
  const std::string missing = dir / "no-such-folder/m.json";
  CHECK(message(missing) == missing + ": cannot write (create temporary file: No such file or directory)");
  std::filesystem::create_directory(dir / "sub");
  CHECK(message(dir / "sub") == (dir / "sub") + ": cannot write (the path is a folder: Is a directory)");
  CHECK(message(dir / "m.json") == "writable");
  CHECK(std::filesystem::is_empty(dir / "sub"));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path)) ++files;
  CHECK(files == 1);  // "sub": the probe's temporary is gone and m.json was not created
  // a file that exists is left as it was
  persist::write_bytes(dir / "m.json", "old");
  CHECK(message(dir / "m.json") == "writable");
  CHECK(persist::read_bytes(dir / "m.json") == "old");
  // save_model_json into the folder itself fails the same way
  NetF net(5);
  std::string msg;
  try {
    io::save_model_json(net, dir / "sub");
  } catch (const io::WriteError& e) {
    msg = e.what();
  }
  CHECK(msg == message(dir / "sub"));
}

TEST_CASE("model_json_text is the text save_model_json writes") {
  persist::TempDir dir("json-text");
  NetF net(9, Init::xavier_normal);
  io::save_model_json(net, dir / "m.json");
  CHECK(io::model_json_text<float>(io::model_spec<NetF>(), net.params(), "m.json") ==
        persist::read_bytes(dir / "m.json"));
  net.params()[3] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(io::model_json_text<float>(io::model_spec<NetF>(), net.params(), "m.json"), io::DataError);
}

TEST_CASE("a feature standardisation in the file: returned by with_standardizer, refused by the plain load") {
  persist::TempDir dir("json-standardize");
  const std::string with = dir / "with.json", without = dir / "without.json";
  NetF trained(5, Init::xavier_normal);
  // awkward floats: they must come back bit for bit
  const io::Standardizer st{{0.1f, -3.25f, 1e-7f}, {1.0f / 3.0f, 7.5f, 1e5f}};
  io::save_model_json(trained, with, st);
  io::save_model_json(trained, without);
  CHECK(read_json(with)["ctnn_tool"]["standardize"]["mean"].size() == 3);

  NetF net(1, Init::xavier_normal);
  const auto params = std::span<const float>(net.params());
  SUBCASE("the plain load refuses it, says what it holds and which overload reads it, loads nothing") {
    check_rejected(params, [&] { io::load_model_json(net, with); },
                   with + ": /ctnn_tool/standardize: the file holds the feature standardisation the network was "
                          "trained with (3 means and inverse standard deviations); on raw inputs its outputs are "
                          "wrong. Load it with io::load_model_json(net, path, io::with_standardizer) and apply the "
                          "Standardizer it returns to the inputs (st->apply(data): x' = (x - mean) * inv_std)");
  }
  SUBCASE("with_standardizer returns it, bit for bit, with the weights") {
    const std::optional<io::Standardizer> got = io::load_model_json(net, with, io::with_standardizer);
    REQUIRE(got.has_value());
    CHECK(persist::same_bits<float>(got->mean, st.mean));
    CHECK(persist::same_bits<float>(got->inv_std, st.inv_std));
    CHECK(persist::same_bits<float>(std::vector<float>(net.params().begin(), net.params().end()),
                                    std::span<const float>(trained.params())));
  }
  SUBCASE("a file without one: the plain load reads it, with_standardizer returns nullopt") {
    io::load_model_json(net, without);
    CHECK(persist::same_bits<float>(std::vector<float>(net.params().begin(), net.params().end()),
                                    std::span<const float>(trained.params())));
    NetF again(2, Init::xavier_normal);
    CHECK_FALSE(io::load_model_json(again, without, io::with_standardizer).has_value());
  }
  SUBCASE("read_model_info: the topology and whether a standardisation is there, without a network") {
    const io::ModelFileInfo a = io::read_model_info(with), b = io::read_model_info(without);
    CHECK(a.spec.signature() == io::model_spec<NetF>().signature());
    CHECK(a.has_standardizer);
    CHECK_FALSE(b.has_standardizer);
    CHECK(b.tool.empty());
    CHECK(nlohmann::json::parse(a.tool).contains("standardize"));
  }
  SUBCASE("a standardisation that does not fit the network is refused on save and on load") {
    CHECK_THROWS_WITH_AS(io::save_model_json(trained, dir / "x.json", io::Standardizer{{1, 2}, {1, 2}}),
                         doctest::Contains("the standardizer has 2 means and 2 inv_std values, the network 3 inputs"),
                         io::DataError);
    ojson j = read_json(with);
    j["ctnn_tool"]["standardize"]["inv_std"][2] = 1e300;
    write_json(dir / "big.json", j);
    check_rejected(params, [&] { (void)io::load_model_json(net, dir / "big.json", io::with_standardizer); },
                   dir / "big.json" + ": /ctnn_tool/standardize/inv_std/2: value 1.0000000000000001e+300 is out of "
                                      "range for float32");
  }
}

TEST_CASE("load_runtime_network: a model file as a RuntimeNetwork of its topology, with its standardisation") {
  persist::TempDir dir("json-runtime");
  const std::string with = dir / "with.json";
  NetF trained(5, Init::xavier_normal);
  const io::Standardizer st{{0.1f, -3.25f, 1e-7f}, {1.0f / 3.0f, 7.5f, 1e5f}};
  io::save_model_json(trained, with, st);

  auto [net, got] = io::load_runtime_network<float>(with);
  CHECK(net.layer_sizes() == std::vector<std::size_t>{3, 4, 2});
  CHECK(net.activations() == std::vector<RuntimeActivation>{RuntimeActivation::relu, RuntimeActivation::softmax});
  CHECK(persist::same_bits<float>(std::vector<float>(net.params().begin(), net.params().end()),
                                  std::span<const float>(trained.params())));
  REQUIRE(got.has_value());
  CHECK(persist::same_bits<float>(got->inv_std, st.inv_std));
  const float x[6] = {0.5f, -1.0f, 2.0f, -0.25f, 0.75f, 1.5f};  // two rows
  float yr[4], yc[4];
  net.forward(2, x, yr);
  trained.forward<2>(x, yc);
  for (int i = 0; i < 4; ++i) CHECK(yr[i] == doctest::Approx(yc[i]).epsilon(1e-6));

  const auto dn = io::load_runtime_network<double>(with);  // a float32 file into double: exact
  for (std::size_t i = 0; i < NetF::num_params; ++i) CHECK(dn.net.params()[i] == double(trained.params()[i]));

  ojson j = read_json(with);  // an identity after the relu gives way; a second activation does not fit
  j["layers"].insert(j["layers"].begin() + 2, ojson{{"type", "identity"}});
  write_json(dir / "id.json", j);
  CHECK(io::load_runtime_network<float>(dir / "id.json").net.activations().front() == RuntimeActivation::relu);
  j["layers"][2]["type"] = "tanh";
  write_json(dir / "two.json", j);
  const auto refused = [&](const std::string& name, const std::string& why) {
    CHECK_THROWS_WITH_AS(io::load_runtime_network<float>(dir / name), (dir / name + ": " + why).c_str(), io::DataError);
  };
  refused("two.json", "/layers/2: \"tanh\" is a second activation after the Dense layer /layers/0 (a RuntimeNetwork "
                      "applies one after each)");
  j = read_json(with);
  j["layers"][1]["type"] = "mish";
  write_json(dir / "mish.json", j);
  refused("mish.json", "/layers/1: unknown layer \"mish\" (a RuntimeNetwork has Dense and the activations identity, "
                       "sigmoid, tanh, relu, leaky_relu, softplus, silu, gelu, step, softmax)");
  j = read_json(with);  // Dense(3,4) relu Dense(4,2), the second Dense made to claim 5 inputs
  j["layers"].erase(3);
  j["layers"][2]["in"] = 5;
  write_json(dir / "chain.json", j);
  refused("chain.json", "/layers/2: Dense(5,2) takes 5 inputs, but the layers before it (/layers/0) give 4");
  j = read_json(with);  // a layer list far larger than the file: refused before anything that size is built
  j["layers"][0]["in"] = 10000;
  j["layers"][0]["out"] = 10000;
  write_json(dir / "huge.json", j);
  j = read_json(with);
  j["layers"] = ojson::array();
  write_json(dir / "empty.json", j);
  refused("empty.json", "/layers: expected at least one layer, found none");
  j = read_json(with);
  j["ctnn_tool"]["standardize"]["inv_std"][0] = 1e-50;
  write_json(dir / "tiny.json", j);
  refused("tiny.json", "/ctnn_tool/standardize/inv_std/0: expected a positive number (1 / the feature's standard "
                       "deviation), found 1e-50 (0 as a float32)");
  CHECK_THROWS_WITH_AS(io::load_runtime_network<float>(dir / "huge.json"),
                       doctest::Contains(": /layers: the layers have 100010010 parameters, more than a file of "),
                       io::DataError);
  // A leaky ReLU of another slope than 0.01 is "leaky_relu(s)": a RuntimeNetwork of that slope, which a compiled
  // LeakyReLU network (slope 0.01) refuses.
  j = read_json(with);
  j["layers"][1]["type"] = "leaky_relu(0.25)";
  write_json(dir / "leaky.json", j);
  const auto leaky = io::load_runtime_network<double>(dir / "leaky.json");
  CHECK(leaky.net.leaky_slope() == 0.25);
  CHECK(leaky.net.activations().front() == RuntimeActivation::leaky_relu);
  CHECK(io::leaky_relu_token(0.25) == "leaky_relu(0.25)");
  CHECK(io::leaky_relu_token(0.01) == "leaky_relu");
  // A RuntimeNetwork saved through runtime_model_spec comes back whole: sizes, activations, slope, weights.
  const RuntimeNetwork<double> rt({3, 5, 2}, {"leaky_relu", "softmax"}, 0.3, 7);
  io::save_model_json<double>(dir / "rt.json", io::runtime_model_spec(rt), rt.params());
  const auto back = io::load_runtime_network<double>(dir / "rt.json");
  CHECK(back.net.layer_sizes() == rt.layer_sizes());
  CHECK(back.net.activations() == rt.activations());
  CHECK(back.net.leaky_slope() == 0.3);
  CHECK(std::equal(rt.params().begin(), rt.params().end(), back.net.params().begin()));
  using Leaky = Network<float, Dense<3, 4>, LeakyReLU, Dense<4, 2>, Softmax>;
  Leaky lk(1);
  CHECK_THROWS_WITH_AS((void)io::load_model_json(lk, dir / "leaky.json", io::with_standardizer),
                       doctest::Contains("expected \"leaky_relu\", found \"leaky_relu(0.25)\""), io::DataError);
  j = read_json(with);
  j["layers"][0]["W"][1][2] = "x";  // the weights are checked as load_model_json checks them
  write_json(dir / "bad.json", j);
  CHECK_THROWS_WITH_AS(io::load_runtime_network<float>(dir / "bad.json"), doctest::Contains("/layers/0/W/1/2"),
                       io::DataError);
}

TEST_CASE("bad JSON model files are rejected whole with a message naming file and place") {
  persist::TempDir dir("json-bad");
  const std::string good = dir / "good.json", p = dir / "bad.json";
  {
    NetF other(77, Init::xavier_normal);  // the file's weights differ from the network's
    io::save_model_json(other, good);
  }
  NetF net(1, Init::xavier_normal);
  NetD netd(1, Init::xavier_normal);
  const auto params = std::span<const float>(net.params());
  const auto load = [&] { io::load_model_json(net, p); };
  const auto mutate = [&](auto&& f) {
    ojson j = read_json(good);
    f(j);
    write_json(p, j);
  };
  const auto text_replace = [&](const std::string& from, const std::string& to) {
    std::string t = persist::read_bytes(good);
    const auto at = t.find(from);
    REQUIRE(at != std::string::npos);
    persist::write_bytes(p, t.replace(at, from.size(), to));
  };

  SUBCASE("missing file") {
    check_rejected(params, load, p + ": cannot open file (No such file or directory)");
  }
  SUBCASE("truncated") {
    persist::write_bytes(p, persist::read_bytes(good).substr(0, 150));
    check_rejected(params, load,
                   p + ":1:151: invalid JSON: syntax error while parsing object - unexpected end of input; "
                       "expected '}'");
  }
  SUBCASE("NaN literal") {
    text_replace("\"W\":[[", "\"W\":[[NaN,");
    check_rejected(params, load,
                   p + ":1:199: invalid JSON: syntax error while parsing value - invalid literal; last read: "
                       "'\"W\":[[N'");
  }
  SUBCASE("top level not an object") {
    write_json(p, ojson::array({1, 2}));
    check_rejected(params, load, p + ": /: expected an object, found array");
  }
  SUBCASE("missing format") {
    mutate([](ojson& j) { j.erase("format"); });
    check_rejected(params, load, p + ": /format: missing key");
  }
  SUBCASE("wrong format") {
    mutate([](ojson& j) { j["format"] = "keras"; });
    check_rejected(params, load, p + ": /format: expected \"ctnn-model\", found \"keras\"");
  }
  SUBCASE("unsupported version") {
    mutate([](ojson& j) { j["version"] = 2; });
    check_rejected(params, load, p + ": /version: unsupported version 2 (this build reads version 1)");
  }
  SUBCASE("unknown dtype") {
    mutate([](ojson& j) { j["dtype"] = "int8"; });
    check_rejected(params, load, p + ": /dtype: expected \"float32\" or \"float64\", found \"int8\"");
  }
  SUBCASE("float64 file into a float network") {
    mutate([](ojson& j) { j["dtype"] = "float64"; });
    check_rejected(params, load,
                   p + ": /dtype: the file holds float64 weights, the network is float32 (narrowing would round; "
                       "load it into a double network)");
  }
  SUBCASE("missing layers") {
    mutate([](ojson& j) { j.erase("layers"); });
    check_rejected(params, load, p + ": /layers: missing key");
  }
  SUBCASE("layers of the wrong type") {
    mutate([](ojson& j) { j["layers"] = ojson::object(); });
    check_rejected(params, load, p + ": /layers: expected an array, found object");
  }
  SUBCASE("one layer too few") {
    mutate([](ojson& j) { j["layers"].erase(3); });
    check_rejected(params, load,
                   p + ": /layers: expected 4 layers (float32 Dense(3,4) relu Dense(4,2) softmax), found 3");
  }
  SUBCASE("other activation") {
    mutate([](ojson& j) { j["layers"][1]["type"] = "sigmoid"; });
    check_rejected(params, load, p + ": /layers/1/type: layer 1: expected \"relu\", found \"sigmoid\"");
  }
  SUBCASE("type not a string") {
    mutate([](ojson& j) { j["layers"][1]["type"] = 5; });
    check_rejected(params, load, p + ": /layers/1/type: expected a string, found number");
  }
  SUBCASE("Dense sizes differ") {
    mutate([](ojson& j) { j["layers"][2]["in"] = 5; });
    check_rejected(params, load, p + ": /layers/2: layer 2 (Dense(4,2)): expected in 4, out 2, found in 5, out 2");
  }
  SUBCASE("size not an integer") {
    mutate([](ojson& j) { j["layers"][2]["out"] = "2"; });
    check_rejected(params, load, p + ": /layers/2/out: expected a non-negative integer, found string");
  }
  SUBCASE("missing W") {
    mutate([](ojson& j) { j["layers"][2].erase("W"); });
    check_rejected(params, load, p + ": /layers/2/W: missing key");
  }
  SUBCASE("W of the wrong shape") {
    mutate([](ojson& j) {
      for (auto& row : j["layers"][2]["W"]) row.erase(3);
    });
    check_rejected(params, load, p + ": /layers/2/W: layer 2 (Dense(4,2)) W: expected shape [2, 4], found [2, 3]");
  }
  SUBCASE("W transposed") {
    mutate([](ojson& j) {
      ojson t = ojson::array();
      for (std::size_t c = 0; c < 4; ++c) {
        ojson row = ojson::array();
        for (std::size_t r = 0; r < 2; ++r) row.push_back(j["layers"][2]["W"][r][c]);
        t.push_back(row);
      }
      j["layers"][2]["W"] = t;
    });
    check_rejected(params, load, p + ": /layers/2/W: layer 2 (Dense(4,2)) W: expected shape [2, 4], found [4, 2]");
  }
  SUBCASE("ragged W") {
    mutate([](ojson& j) { j["layers"][2]["W"][1].erase(0); });
    check_rejected(params, load,
                   p + ": /layers/2/W/1: layer 2 (Dense(4,2)) W: expected a row of 4 numbers, found a row of 3");
  }
  SUBCASE("W not an array") {
    mutate([](ojson& j) { j["layers"][2]["W"] = "weights"; });
    check_rejected(params, load, p + ": /layers/2/W: expected an array of rows, found string");
  }
  SUBCASE("a weight that is a string") {
    mutate([](ojson& j) { j["layers"][2]["W"][1][2] = "0.5"; });
    check_rejected(params, load, p + ": /layers/2/W/1/2: expected a number, found string");
  }
  SUBCASE("null where a writer put NaN") {
    mutate([](ojson& j) { j["layers"][2]["W"][1][2] = nullptr; });
    check_rejected(params, load,
                   p + ": /layers/2/W/1/2: expected a number, found null (JSON has no NaN or Infinity; writers put "
                       "null in their place)");
  }
  SUBCASE("b of the wrong size") {
    mutate([](ojson& j) { j["layers"][2]["b"].push_back(0.5); });
    check_rejected(params, load, p + ": /layers/2/b: layer 2 (Dense(4,2)) b: expected shape [2], found [3]");
  }
  SUBCASE("a bias too large for float32") {
    mutate([](ojson& j) { j["layers"][2]["b"][1] = 1e300; });
    check_rejected(params, load, p + ": /layers/2/b/1: value 1.0000000000000001e+300 is out of range for float32");
  }
  SUBCASE("a bias that overflows double") {
    text_replace("\"b\":[", "\"b\":[1e999,");
    check_rejected(params, load, p + ": invalid JSON: number overflow parsing '1e999'");
  }
  SUBCASE("the double network refuses bad files the same way") {
    mutate([](ojson& j) { j["layers"][2]["W"][1][2] = nullptr; });
    check_rejected(std::span<const double>(netd.params()), [&] { io::load_model_json(netd, p); },
                   p + ": /layers/2/W/1/2: expected a number, found null (JSON has no NaN or Infinity; writers put "
                       "null in their place)");
  }
}
