// PyTorch interchange: the shipped file written by tools/torch-export loads into the matching
// compile-time network, and its outputs on the shipped inputs match PyTorch's: float network vs
// PyTorch float32 to 1e-6, double network vs PyTorch float64 to the team's double tolerance
// (|a - r| <= 1e-10 |r| + 1e-12 max|r|). The second shipped model has LeakyReLU(0.2), which the
// export writes "leaky_relu(0.2)": a RuntimeNetwork reads it (same tolerances), a compiled
// network's LeakyReLU (slope 0.01) refuses it. The third has SiLU and GELU (exact): both networks.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "ctnn/ctnn.hpp"
#include "ctnn/io/runtime_model.hpp"
#include "ctnn/io/weights.hpp"
#include "persist_check.hpp"

using namespace ctnn;

namespace {

using TorchMlp = Network<float, Dense<5, 16>, ReLU, Dense<16, 12>, Tanh, Dense<12, 8>, LeakyReLU, Dense<8, 6>,
                         Sigmoid, Dense<6, 4>, Identity, Softmax>;
constexpr std::size_t B = 32;

std::string data(const std::string& name) {
  const char* d = std::getenv("CTNN_TEST_DATA");
  REQUIRE(d != nullptr);
  return std::string(d) + "/torch/" + name;
}

struct Io {
  std::vector<double> x, y32, y64;
};

Io read_io(const std::string& file = "mlp_io.json", std::size_t outputs = 4) {
  const auto j = nlohmann::json::parse(persist::read_bytes(data(file)));
  Io io;
  const auto flat = [](const nlohmann::json& rows, std::size_t cols) {
    std::vector<double> v;
    REQUIRE(rows.size() == B);
    for (const auto& r : rows) {
      REQUIRE(r.size() == cols);
      for (const auto& e : r) v.push_back(e.get<double>());
    }
    return v;
  };
  io.x = flat(j["inputs"], 5);
  io.y32 = flat(j["outputs_float32"], outputs);
  io.y64 = flat(j["outputs_float64"], outputs);
  return io;
}

template <class Net>
std::vector<typename Net::scalar> run(const Net& net, const std::vector<double>& x) {
  using T = typename Net::scalar;
  std::vector<T> in(x.begin(), x.end()), out(B * Net::outputs);
  net.template forward<B>(in.data(), out.data());
  return out;
}

}  // namespace

TEST_CASE("the PyTorch export loads into Network<float, ...> and matches PyTorch float32 to 1e-6") {
  const Io io = read_io();
  TorchMlp net(1);
  io::load_model_json(net, data("mlp_float32.json"));
  const auto y = run(net, io.x);
  double worst = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    CHECK(std::abs(double(y[i]) - io.y32[i]) <= 1e-6);
    worst = std::max(worst, std::abs(double(y[i]) - io.y32[i]));
  }
  MESSAGE("float: max |ctnn - torch| = " << worst);
}

TEST_CASE("the PyTorch export loads into Network<double, ...> and matches PyTorch float64") {
  const Io io = read_io();
  TorchMlp::rebind<double> net(1);
  io::load_model_json(net, data("mlp_float32.json"));
  const auto y = run(net, io.x);
  double scale = 0, worst = 0;
  for (double r : io.y64) scale = std::max(scale, std::abs(r));
  for (std::size_t i = 0; i < y.size(); ++i) {
    CHECK(std::abs(y[i] - io.y64[i]) <= 1e-6);
    CHECK(std::abs(y[i] - io.y64[i]) <= 1e-10 * std::abs(io.y64[i]) + 1e-12 * scale);
    worst = std::max(worst, std::abs(y[i] - io.y64[i]));
  }
  MESSAGE("double: max |ctnn - torch| = " << worst);
}

TEST_CASE("the exported file has PyTorch's layout: W is Linear.weight [out, in], not transposed") {
  // A network that reads W as [in, out] would compute other outputs: check that the loaded first
  // block is the file's first row-major [16, 5] matrix, row by row.
  const auto j = nlohmann::json::parse(persist::read_bytes(data("mlp_float32.json")));
  TorchMlp net(1);
  io::load_model_json(net, data("mlp_float32.json"));
  const auto& w = j["layers"][0]["W"];
  REQUIRE(w.size() == 16);
  for (std::size_t r = 0; r < 16; ++r)
    for (std::size_t c = 0; c < 5; ++c) CHECK(double(net.params()[r * 5 + c]) == w[r][c].get<double>());
}

TEST_CASE("a LeakyReLU slope other than 0.01 exported by PyTorch loads into a RuntimeNetwork and matches PyTorch") {
  const Io io = read_io("mlp_leaky_io.json", 3);
  {
    auto [net, st] = io::load_runtime_network<float>(data("mlp_leaky.json"));
    CHECK(!st);
    CHECK(net.leaky_slope() == 0.2);
    REQUIRE(net.layer_sizes() == std::vector<std::size_t>{5, 9, 7, 3});
    std::vector<float> x(io.x.begin(), io.x.end()), y(B * 3);
    net.forward(B, x.data(), y.data());
    double worst = 0;
    for (std::size_t i = 0; i < y.size(); ++i) worst = std::max(worst, std::abs(double(y[i]) - io.y32[i]));
    CHECK(worst <= 1e-6);
    MESSAGE("float: max |ctnn - torch| = " << worst);
  }
  {
    auto [net, st] = io::load_runtime_network<double>(data("mlp_leaky.json"));
    std::vector<double> y(B * 3);
    net.forward(B, io.x.data(), y.data());
    double scale = 0;
    for (double r : io.y64) scale = std::max(scale, std::abs(r));
    for (std::size_t i = 0; i < y.size(); ++i)
      CHECK(std::abs(y[i] - io.y64[i]) <= 1e-10 * std::abs(io.y64[i]) + 1e-12 * scale);
  }
  // PyTorch's slope changes the outputs here: the inputs reach the negative side of both layers.
  double moved = 0;
  {
    auto [net, st] = io::load_runtime_network<double>(data("mlp_leaky.json"));
    auto other = RuntimeNetwork<double>::with_activations(net.layer_sizes(), net.activations(), 0.01);
    std::copy(net.params().begin(), net.params().end(), other.params().begin());
    std::vector<double> y(B * 3);
    other.forward(B, io.x.data(), y.data());
    for (std::size_t i = 0; i < y.size(); ++i) moved = std::max(moved, std::abs(y[i] - io.y64[i]));
  }
  CHECK(moved > 1e-2);
  // The compiled LeakyReLU has slope 0.01: it refuses the file, naming the layer.
  Network<float, Dense<5, 9>, LeakyReLU, Dense<9, 7>, LeakyReLU, Dense<7, 3>> compiled(1);
  const auto before = std::vector<float>(compiled.params().begin(), compiled.params().end());
  CHECK_THROWS_AS(io::load_model_json(compiled, data("mlp_leaky.json")), io::DataError);
  try {
    io::load_model_json(compiled, data("mlp_leaky.json"));
  } catch (const io::DataError& e) {
    MESSAGE(std::string(e.what()));
    CHECK(std::string(e.what()).find("leaky_relu(0.2)") != std::string::npos);
  }
  CHECK(std::equal(before.begin(), before.end(), compiled.params().begin()));
}

TEST_CASE("SiLU and GELU exported by PyTorch load into a compiled network and a RuntimeNetwork and match PyTorch") {
  const Io io = read_io("mlp_silu_gelu_io.json", 3);
  double scale = 0;
  for (double r : io.y64) scale = std::max(scale, std::abs(r));
  const auto check = [&](const auto& y, const std::vector<double>& want, bool is_double, const char* what) {
    double worst = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
      const double e = std::abs(double(y[i]) - want[i]);
      worst = std::max(worst, e);
      if (is_double) CHECK(e <= 1e-10 * std::abs(want[i]) + 1e-12 * scale);
      else CHECK(e <= 1e-6);
    }
    MESSAGE(what << ": max |ctnn - torch| = " << worst);
  };
  using Smooth = Network<float, Dense<5, 9>, SiLU, Dense<9, 7>, GELU, Dense<7, 3>>;
  Smooth f(1);
  io::load_model_json(f, data("mlp_silu_gelu.json"));
  check(run(f, io.x), io.y32, false, "compiled float");
  Smooth::rebind<double> d(1);
  io::load_model_json(d, data("mlp_silu_gelu.json"));
  check(run(d, io.x), io.y64, true, "compiled double");
  auto [rf, st] = io::load_runtime_network<float>(data("mlp_silu_gelu.json"));
  REQUIRE(rf.activations() == std::vector<RuntimeActivation>{RuntimeActivation::silu, RuntimeActivation::gelu,
                                                              RuntimeActivation::identity});
  std::vector<float> xf(io.x.begin(), io.x.end()), yf(B * 3);
  rf.forward(B, xf.data(), yf.data());
  check(yf, io.y32, false, "runtime float");
  auto [rd, st2] = io::load_runtime_network<double>(data("mlp_silu_gelu.json"));
  std::vector<double> yd(B * 3);
  rd.forward(B, io.x.data(), yd.data());
  check(yd, io.y64, true, "runtime double");
  // The two activations are not interchangeable here (a swapped file gives other outputs).
  Network<double, Dense<5, 9>, GELU, Dense<9, 7>, SiLU, Dense<7, 3>> swapped(1);
  std::copy(d.params().begin(), d.params().end(), swapped.params().begin());
  const auto ys = run(swapped, io.x);
  double moved = 0;
  for (std::size_t i = 0; i < ys.size(); ++i) moved = std::max(moved, std::abs(ys[i] - io.y64[i]));
  CHECK(moved > 1e-3);
}
