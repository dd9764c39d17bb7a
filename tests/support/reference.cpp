// Loader for the reference figures; the only translation unit that includes nlohmann/json.hpp.
#include "reference.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace ctnn::test::ref {

using json = nlohmann::json;

namespace {

[[noreturn]] void fail(const std::string& msg) {
  throw std::runtime_error("ctnn reference data: " + msg);
}

std::string type_name(const json& j) { return j.type_name(); }

json load_file(std::string_view file) {
  const std::string path = data_path(file);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open '" + path + "'");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    fail("cannot parse '" + path + "': " + e.what());
  }
}

bool parse_index(std::string_view s, std::size_t& out) {
  if (s.empty()) return false;
  const auto* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && p == end;
}

// Walks a dotted path; returns nullptr (and the failing prefix in *where) if absent.
const json* walk(const json& j, std::string_view path, std::string* where) {
  const json* cur = &j;
  std::size_t pos = 0;
  while (pos < path.size()) {
    std::size_t dot = path.find('.', pos);
    if (dot == std::string_view::npos) dot = path.size();
    const std::string_view part = path.substr(pos, dot - pos);
    const json* next = nullptr;
    if (cur->is_object()) {
      auto it = cur->find(std::string(part));
      if (it != cur->end()) next = &*it;
    } else if (cur->is_array()) {
      std::size_t i = 0;
      if (parse_index(part, i) && i < cur->size()) next = &(*cur)[i];
    }
    if (next == nullptr) {
      if (where) *where = std::string(path.substr(0, dot));
      return nullptr;
    }
    cur = next;
    pos = dot + 1;
  }
  return cur;
}

// Name of a case for error messages, if it has one.
std::string label_of(const json& j) {
  if (j.is_object()) {
    auto it = j.find("name");
    if (it != j.end() && it->is_string()) return "case '" + it->get<std::string>() + "'";
  }
  return "JSON " + type_name(j);
}

double number_of(const json& j, const char* what) {
  if (!j.is_number()) fail(std::string("expected a number in ") + what + ", got " + type_name(j));
  return j.get<double>();
}

std::vector<std::size_t> sizes_of(const json& j) {
  std::vector<std::size_t> out;
  for (const auto& v : j) out.push_back(v.get<std::size_t>());
  return out;
}

std::string fmt(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

// Core of close_array: `index_name(i)` formats the index of element i.
template <class IndexName>
bool close_impl(const double* actual, const double* expected, std::size_t n, double rel,
                double abs_frac, std::string* why, IndexName index_name) {
  double max_ref = 0;
  for (std::size_t i = 0; i < n; ++i) max_ref = std::max(max_ref, std::fabs(expected[i]));
  const double abs_tol = abs_frac * max_ref;
  std::size_t bad = 0, worst = 0;
  double worst_ratio = -1;
  for (std::size_t i = 0; i < n; ++i) {
    const double diff = std::fabs(actual[i] - expected[i]);
    const double tol = rel * std::fabs(expected[i]) + abs_tol;
    const bool ok = diff <= tol;  // false for NaN
    if (!ok) ++bad;
    double ratio;
    if (!ok && !(diff < std::numeric_limits<double>::infinity()))
      ratio = std::numeric_limits<double>::infinity();  // NaN or Inf
    else if (tol > 0)
      ratio = diff / tol;
    else
      ratio = diff > 0 ? std::numeric_limits<double>::infinity() : 0.0;
    if (ratio > worst_ratio) worst_ratio = ratio, worst = i;
  }
  if (why) {
    if (n == 0) {
      *why = "empty array";
    } else {
      const double diff = std::fabs(actual[worst] - expected[worst]);
      const double tol = rel * std::fabs(expected[worst]) + abs_tol;
      *why = std::to_string(bad) + " of " + std::to_string(n) + " outside tolerance; worst at " +
             index_name(worst) + ": actual " + fmt(actual[worst]) + ", expected " +
             fmt(expected[worst]) + ", |diff| " + fmt(diff) + ", tol " + fmt(tol) + " (rel " +
             fmt(rel) + ", abs_frac " + fmt(abs_frac) + ", max|r| " + fmt(max_ref) + ")";
    }
  }
  return bad == 0;
}

}  // namespace

// ---- Mat ----------------------------------------------------------------------------------------

Vec Mat::row(std::size_t r) const {
  return Vec(data.begin() + static_cast<std::ptrdiff_t>(r * cols),
             data.begin() + static_cast<std::ptrdiff_t>((r + 1) * cols));
}

// ---- files --------------------------------------------------------------------------------------

std::string data_path(std::string_view file) {
  const char* dir = std::getenv("CTNN_TEST_DATA");
  if (dir == nullptr || *dir == '\0')
    fail("environment variable CTNN_TEST_DATA is not set (it must name the folder holding "
         "gradients.json and optimizers.json, i.e. tests/data; `meson test` sets it)");
  const std::filesystem::path p = std::filesystem::path(dir) / std::string(file);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec))
    fail("'" + p.string() + "' not found (CTNN_TEST_DATA=" + dir + ")");
  return p.string();
}

const json& gradients() {
  static const json j = load_file("gradients.json");
  return j;
}

const json& optimizers() {
  static const json j = load_file("optimizers.json");
  return j;
}

static const json& gradient_section(std::string_view section) {
  const json& g = gradients();
  auto it = g.find(std::string(section));
  if (it == g.end() || !it->is_array())
    fail("gradients.json has no case list '" + std::string(section) +
         "' (sections: primitives, composites, losses, networks, perceptron)");
  return *it;
}

const json& gradient_case(std::string_view section, std::string_view name) {
  for (const auto& c : gradient_section(section)) {
    auto it = c.find("name");
    if (it != c.end() && it->is_string() && it->get_ref<const std::string&>() == name) return c;
  }
  fail("gradients.json: no case '" + std::string(name) + "' in section '" + std::string(section) +
       "'");
}

std::vector<std::string> case_names(std::string_view section) {
  std::vector<std::string> out;
  for (const auto& c : gradient_section(section)) out.push_back(c.at("name").get<std::string>());
  return out;
}

const json& optimizer_case(std::string_view problem, std::string_view name) {
  for (const auto& c : optimizers().at("optimizers")) {
    if (c.at("problem").get_ref<const std::string&>() == problem &&
        c.at("name").get_ref<const std::string&>() == name)
      return c;
  }
  fail("optimizers.json: no optimiser case '" + std::string(problem) + "/" + std::string(name) +
       "'");
}

// ---- accessors ----------------------------------------------------------------------------------

const json& at(const json& j, std::string_view path) {
  std::string where;
  const json* r = walk(j, path, &where);
  if (r == nullptr)
    fail(label_of(j) + ": no '" + where + "'" +
         (where.size() < path.size() ? " (looking up '" + std::string(path) + "')" : ""));
  return *r;
}

bool has(const json& j, std::string_view path) { return walk(j, path, nullptr) != nullptr; }

std::size_t length(const json& j) {
  if (j.is_array() || j.is_object()) return j.size();
  return 1;
}

const json& element(const json& j, std::size_t i) {
  if (!j.is_array()) fail("element(): expected an array, got " + type_name(j));
  if (i >= j.size())
    fail("element(): index " + std::to_string(i) + " out of range (size " +
         std::to_string(j.size()) + ")");
  return j[i];
}

std::vector<std::string> keys(const json& j) {
  if (!j.is_object()) fail("keys(): expected an object, got " + type_name(j));
  std::vector<std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it) out.push_back(it.key());
  return out;
}

Mat as_mat(const json& j) {
  Mat m;
  if (j.is_number()) {
    m.rows = m.cols = 1;
    m.data = {j.get<double>()};
    return m;
  }
  if (!j.is_array()) fail("as_mat(): expected a number or list, got " + type_name(j));
  if (j.empty()) return m;
  if (!j.front().is_array()) {  // 1-D list: 1 x n
    m.rows = 1;
    m.cols = j.size();
    m.data.reserve(j.size());
    for (const auto& v : j) m.data.push_back(number_of(v, "as_mat() 1-D list"));
    return m;
  }
  m.rows = j.size();
  m.cols = j.front().size();
  m.data.reserve(m.rows * m.cols);
  for (const auto& row : j) {
    if (!row.is_array() || row.size() != m.cols)
      fail("as_mat(): ragged 2-D list (expected rows of " + std::to_string(m.cols) + ")");
    for (const auto& v : row) m.data.push_back(number_of(v, "as_mat() 2-D list"));
  }
  return m;
}

Vec as_vec(const json& j) {
  if (j.is_number()) return {j.get<double>()};
  if (!j.is_array()) fail("as_vec(): expected a number or list, got " + type_name(j));
  if (!j.empty() && j.front().is_array()) return as_mat(j).data;
  Vec v;
  v.reserve(j.size());
  for (const auto& x : j) v.push_back(number_of(x, "as_vec() list"));
  return v;
}

std::vector<Mat> as_mats(const json& j) {
  if (!j.is_array()) fail("as_mats(): expected a list, got " + type_name(j));
  std::vector<Mat> out;
  out.reserve(j.size());
  for (const auto& m : j) out.push_back(as_mat(m));
  return out;
}

double as_number(const json& j) { return number_of(j, "as_number()"); }

long long as_int(const json& j) {
  if (!j.is_number_integer()) fail("as_int(): expected an integer, got " + type_name(j));
  return j.get<long long>();
}

std::string as_string(const json& j) {
  if (!j.is_string()) fail("as_string(): expected a string, got " + type_name(j));
  return j.get<std::string>();
}

Mat mat_at(const json& j, std::string_view path) { return as_mat(at(j, path)); }
Vec vec_at(const json& j, std::string_view path) { return as_vec(at(j, path)); }
std::vector<Mat> mats_at(const json& j, std::string_view path) { return as_mats(at(j, path)); }
double num_at(const json& j, std::string_view path) { return as_number(at(j, path)); }
long long int_at(const json& j, std::string_view path) { return as_int(at(j, path)); }
std::string str_at(const json& j, std::string_view path) { return as_string(at(j, path)); }

// ---- network cases ------------------------------------------------------------------------------

static NetworkCase make_network_case(const json& c) {
  NetworkCase n;
  try {
    n.raw = &c;
    n.name = c.at("name").get<std::string>();

    const json& net = c.at("network");
    n.layer_sizes = sizes_of(net.at("layer_sizes"));
    n.activations = net.at("activations").get<std::vector<std::string>>();
    if (auto it = net.find("leaky_relu_negative_slope"); it != net.end())
      n.leaky_slope = it->get<double>();
    n.param_count = net.at("param_count").get<std::size_t>();
    for (const auto& layer : net.at("layers")) {
      n.W.push_back(as_mat(layer.at("W")));
      n.b.push_back(as_vec(layer.at("b")));
    }

    n.X = as_mat(c.at("X"));
    if (auto it = c.find("Y"); it != c.end()) n.Y = as_mat(*it);
    if (auto it = c.find("labels"); it != c.end()) n.labels = it->get<std::vector<int>>();
    if (auto it = c.find("Y_onehot"); it != c.end()) n.Y_onehot = as_mat(*it);

    const json& loss = c.at("loss");
    n.loss_type = loss.at("type").get<std::string>();
    if (auto it = loss.find("class_weights"); it != loss.end()) n.class_weights = as_vec(*it);
    if (auto it = loss.find("l2_lambda"); it != loss.end()) n.l2_lambda = it->get<double>();
    if (auto it = loss.find("delta"); it != loss.end()) n.huber_delta = it->get<double>();

    for (const auto& f : c.at("forward")) {
      n.forward_z.push_back(as_mat(f.at("z")));
      n.forward_a.push_back(as_mat(f.at("a")));
    }
    n.output = as_mat(c.at("output"));
    n.loss_value = c.at("loss_value").get<double>();

    for (const auto& g : c.at("grad")) {
      n.grad_W.push_back(as_mat(g.at("W")));
      n.grad_b.push_back(as_vec(g.at("b")));
    }
    n.grad_flat = as_vec(c.at("grad_flat"));
    n.grad_X = as_mat(c.at("grad_X"));

    const json& jac = c.at("jacobian");
    n.jac_sample = jac.at("sample").get<std::size_t>();
    n.jacobian = as_mat(jac.at("J"));

    const json& hvp = c.at("hvp");
    n.hvp_v = as_vec(hvp.at("v"));
    n.hvp_Hv = as_vec(hvp.at("Hv"));

    if (auto it = c.find("hessian"); it != c.end()) {
      n.hessian = as_mat(*it);
      n.has_hessian = true;
    }
    if (auto it = c.find("per_sample"); it != c.end()) {
      n.per_sample_losses = as_vec(it->at("losses"));
      n.per_sample_grads = as_mat(it->at("grads_flat"));
      n.has_per_sample = true;
    }
  } catch (const json::exception& e) {
    fail("network case '" + n.name + "': " + e.what());
  }
  return n;
}

NetworkCase network_case(std::string_view name) {
  return make_network_case(gradient_case("networks", name));
}

std::vector<NetworkCase> all_network_cases() {
  std::vector<NetworkCase> out;
  for (const auto& c : gradient_section("networks")) out.push_back(make_network_case(c));
  return out;
}

Vec flat_params(const NetworkCase& c) {
  Vec theta;
  for (std::size_t l = 0; l < c.W.size(); ++l) {
    theta.insert(theta.end(), c.W[l].data.begin(), c.W[l].data.end());
    if (l < c.b.size()) theta.insert(theta.end(), c.b[l].begin(), c.b[l].end());
  }
  return theta;
}

// ---- tolerance ----------------------------------------------------------------------------------

bool close_array(const double* actual, const Vec& expected, double rel, double abs_frac,
                 std::string* why) {
  return close_impl(actual, expected.data(), expected.size(), rel, abs_frac, why,
                    [](std::size_t i) { return "[" + std::to_string(i) + "]"; });
}

bool close_array(const double* actual, const Mat& expected, double rel, double abs_frac,
                 std::string* why) {
  const std::size_t cols = expected.cols == 0 ? 1 : expected.cols;
  return close_impl(actual, expected.data.data(), expected.data.size(), rel, abs_frac, why,
                    [cols](std::size_t i) {
                      return "[" + std::to_string(i / cols) + ", " + std::to_string(i % cols) + "]";
                    });
}

bool close_array(const Vec& actual, const Vec& expected, double rel, double abs_frac,
                 std::string* why) {
  if (actual.size() != expected.size()) {
    if (why)
      *why = "size mismatch: actual " + std::to_string(actual.size()) + ", expected " +
             std::to_string(expected.size());
    return false;
  }
  return close_array(actual.data(), expected, rel, abs_frac, why);
}

bool close_array(const Mat& actual, const Mat& expected, double rel, double abs_frac,
                 std::string* why) {
  if (actual.rows != expected.rows || actual.cols != expected.cols ||
      actual.data.size() != expected.data.size()) {
    if (why)
      *why = "shape mismatch: actual " + std::to_string(actual.rows) + "x" +
             std::to_string(actual.cols) + ", expected " + std::to_string(expected.rows) + "x" +
             std::to_string(expected.cols);
    return false;
  }
  return close_array(actual.data.data(), expected, rel, abs_frac, why);
}

}  // namespace ctnn::test::ref
