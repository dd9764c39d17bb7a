// PyTorch interchange: the shipped file written by tools/torch-export loads into the matching
// compile-time network, and its outputs on the shipped inputs match PyTorch's: float network vs
// PyTorch float32 to 1e-6, double network vs PyTorch float64 to the team's double tolerance
// (|a - r| <= 1e-10 |r| + 1e-12 max|r|).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "ctnn/ctnn.hpp"
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

Io read_io() {
  const auto j = nlohmann::json::parse(persist::read_bytes(data("mlp_io.json")));
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
  io.y32 = flat(j["outputs_float32"], 4);
  io.y64 = flat(j["outputs_float64"], 4);
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
