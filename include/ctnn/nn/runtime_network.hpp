// ctnn/nn/runtime_network.hpp: a network whose layer sizes and activations are known only at run
// time (given as vectors or read from a JSON description), trained on the runtime tape
// (ad/tape_runtime.hpp). Same flat parameter layout as ctnn::Network (per layer W [out, in]
// row-major, then b) and the same losses as nn/loss.hpp, written on the runtime tape by the same
// formulas, term for term in the same order, so both tapes compute the same things.
//
// The graph of a pass (network + loss) is recorded once per batch size (and loss) and then re-run:
// forward() and gradient() with new inputs allocate nothing once each batch size in use has been
// seen. The network keeps the graphs of the 4 training passes and the 17 forward passes used last
// (a forward graph per thread running at once, too), dropping the least recently used; a graph's
// memory grows with its batch size (intermediate values, ~4 bytes x batch x the hidden widths in
// float): release_graphs() frees them all.
// Threads: forward() is const and re-entrant, as the compiled network's: any number of threads may
// call it at once on one network (each pass runs a forward graph of its own, taken from the
// network's pool and given back: two atomic exchanges when one thread is alone, a mutex when
// batch sizes alternate or threads collide). gradient(), loss() and anything writing params()
// mutate the network: one thread at a time, and not while others run forward().
// Layer: nn (includes ad, core; nlohmann-json for the description).
#pragma once
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ctnn/ad/tape_runtime.hpp"
#include "ctnn/core/aligned.hpp"
#include "ctnn/core/text.hpp"
#include "ctnn/nn/init.hpp"
#include "ctnn/nn/probability_floor.hpp"

namespace ctnn {

/// The activations a runtime network knows (the ctnn::Activation layers and Softmax).
enum class RuntimeActivation { identity, sigmoid, tanh, relu, leaky_relu, softplus, silu, gelu, step, softmax };

/// Each activation with its name in descriptions and model files: the one list of them.
inline constexpr std::pair<std::string_view, RuntimeActivation> runtime_activation_table[] = {
    {"identity", RuntimeActivation::identity}, {"sigmoid", RuntimeActivation::sigmoid},
    {"tanh", RuntimeActivation::tanh},         {"relu", RuntimeActivation::relu},
    {"leaky_relu", RuntimeActivation::leaky_relu}, {"softplus", RuntimeActivation::softplus},
    {"silu", RuntimeActivation::silu},         {"gelu", RuntimeActivation::gelu},
    {"step", RuntimeActivation::step},         {"softmax", RuntimeActivation::softmax}};

/// The activation of that name, or nullopt.
constexpr std::optional<RuntimeActivation> find_runtime_activation(std::string_view name) noexcept {
  for (const auto& [n, a] : runtime_activation_table)
    if (n == name) return a;
  return std::nullopt;
}
/// Its name ("leaky_relu").
constexpr std::string_view runtime_activation_name(RuntimeActivation a) noexcept {
  for (const auto& [n, k] : runtime_activation_table)
    if (k == a) return n;
  return "?";
}
/// Every name, for messages: "identity, sigmoid, ..., softmax".
inline std::string runtime_activation_names() {
  std::string s;
  for (const auto& [n, a] : runtime_activation_table) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

inline RuntimeActivation runtime_activation(std::string_view name, std::string_view where) {
  if (const auto a = find_runtime_activation(name)) return *a;
  throw std::invalid_argument(std::string(where) + ": unknown activation \"" + std::string(name) + "\" (" +
                              runtime_activation_names() + ")");
}

/// A loss chosen at run time: the losses of nn/loss.hpp (names as loss.type in the reference
/// figures), plus an optional L2 penalty on the weight matrices.
struct RuntimeLoss {
  enum class Kind {
    mse_half_sum,
    mse_mean,
    bce_prob,
    bce_logits,
    softmax_ce_logits,                      // loss::softmax_cross_entropy
    ce_prob,                                // loss::cross_entropy
    softmax_ce_logits_weighted_pytorch,     // loss::weighted_softmax_cross_entropy
    softmax_ce_logits_weighted_plain_mean,  // loss::weighted_softmax_cross_entropy_mean
    huber,                                  // mean of m (|r| − m/2), m = min(|r|, δ)
  };
  Kind kind = Kind::mse_half_sum;
  std::vector<double> class_weights;  // weighted CE: one per output
  double huber_delta = 1.0;
  double l2_lambda = 0.0;  // > 0: + λ/2 Σ_l ‖W_l‖²_F (loss::with_l2)

  /// A class-weighted softmax cross-entropy (it needs class_weights, one per output).
  bool weighted() const noexcept {
    return kind == Kind::softmax_ce_logits_weighted_pytorch || kind == Kind::softmax_ce_logits_weighted_plain_mean;
  }

  /// By name: mse_half_sum, mse_mean, bce_prob, bce_logits, softmax_ce_logits (or
  /// softmax_cross_entropy), ce_prob (or cross_entropy), softmax_ce_logits_weighted_pytorch,
  /// softmax_ce_logits_weighted_plain_mean, huber.
  static RuntimeLoss named(std::string_view name, std::string_view where = "loss") {
    static constexpr std::pair<std::string_view, Kind> known[] = {
        {"mse_half_sum", Kind::mse_half_sum},
        {"mse_mean", Kind::mse_mean},
        {"bce_prob", Kind::bce_prob},
        {"bce_logits", Kind::bce_logits},
        {"softmax_ce_logits", Kind::softmax_ce_logits},
        {"softmax_cross_entropy", Kind::softmax_ce_logits},
        {"ce_prob", Kind::ce_prob},
        {"cross_entropy", Kind::ce_prob},
        {"softmax_ce_logits_weighted_pytorch", Kind::softmax_ce_logits_weighted_pytorch},
        {"softmax_ce_logits_weighted_plain_mean", Kind::softmax_ce_logits_weighted_plain_mean},
        {"huber", Kind::huber}};
    for (const auto& [n, k] : known)
      if (n == name) return RuntimeLoss{k, {}, 1.0, 0.0};
    std::string names;
    for (const auto& [n, k] : known) names += (names.empty() ? "" : ", ") + std::string(n);
    throw std::invalid_argument(std::string(where) + ": unknown loss \"" + std::string(name) + "\" (" + names + ")");
  }
  /// From {"type": name, "class_weights": [...], "delta": δ, "l2_lambda": λ} (the reference's
  /// loss object; the optional keys as the loss needs them; "formula" and "l2_formula", the
  /// reference's descriptions, are read as text and ignored). Refused (std::invalid_argument naming
  /// `where` and the key): another key, class_weights on an unweighted loss, delta on any but huber,
  /// delta <= 0, l2_lambda < 0.
  static RuntimeLoss from_json(const nlohmann::json& j, std::string_view where = "loss") {
    const std::string w(where);
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
      throw std::invalid_argument(w + ": expected an object with a string \"type\"");
    for (const auto& [key, value] : j.items()) {
      if (key == "formula" || key == "l2_formula") {
        if (!value.is_string()) throw std::invalid_argument(w + "." + key + ": expected a string (a description)");
      } else if (key != "type" && key != "class_weights" && key != "delta" && key != "l2_lambda") {
        throw std::invalid_argument(w + "." + key +
                                    ": unknown key (a loss has type, class_weights, delta, l2_lambda; "
                                    "formula, l2_formula as descriptions)");
      }
    }
    const std::string type = j["type"].get<std::string>();
    RuntimeLoss l = named(type, w + ".type");
    const auto number = [&](const char* key) {
      if (!j[key].is_number()) throw std::invalid_argument(w + "." + key + ": expected a number");
      return j[key].get<double>();
    };
    if (j.contains("class_weights") && !l.weighted())
      throw std::invalid_argument(w + ".class_weights: " + type + " takes no class weights (the weighted losses "
                                  "softmax_ce_logits_weighted_pytorch and softmax_ce_logits_weighted_plain_mean do)");
    if (j.contains("delta")) {
      if (l.kind != Kind::huber) throw std::invalid_argument(w + ".delta: " + type + " takes no delta (huber's threshold)");
      l.huber_delta = number("delta");
      if (!(l.huber_delta > 0))
        throw std::invalid_argument(w + ".delta: must be > 0, got " + text::number(l.huber_delta));
    }
    if (j.contains("l2_lambda")) {
      l.l2_lambda = number("l2_lambda");
      if (!(l.l2_lambda >= 0))
        throw std::invalid_argument(w + ".l2_lambda: must be >= 0, got " + text::number(l.l2_lambda));
    }
    if (j.contains("class_weights")) {
      const auto& cw = j["class_weights"];
      if (!cw.is_array()) throw std::invalid_argument(w + ".class_weights: expected a list of numbers");
      for (std::size_t i = 0; i < cw.size(); ++i) {
        if (!cw[i].is_number())
          throw std::invalid_argument(w + ".class_weights[" + std::to_string(i) + "]: expected a number");
        l.class_weights.push_back(cw[i].get<double>());
      }
    }
    if (l.weighted() && l.class_weights.empty())
      throw std::invalid_argument(w + ".class_weights: required by " + type);
    return l;
  }
  friend bool operator==(const RuntimeLoss&, const RuntimeLoss&) = default;
};

namespace runtime_loss {

using ad::runtime::Var;

/// The losses of nn/loss.hpp on the runtime tape: the same formulas, recorded in the order the
/// static tape walks them (post-order), so that a node with two parents receives its adjoints in
/// the same order. `weights` are the weight-matrix leaves (for L2), `w` the class-weight leaf.
template <class T>
Var<T> data_loss(const RuntimeLoss& l, Var<T> p, Var<T> y, Var<T> w) {
  using K = RuntimeLoss::Kind;
  namespace rt = ad::runtime;
  const double n = static_cast<double>(p.rows());
  switch (l.kind) {
    case K::mse_half_sum: return rt::sum(rt::square(p - y)) * (0.5 / n);
    case K::mse_mean: return rt::mean(rt::square(p - y));
    case K::bce_prob: {
      const double floor = loss::probability_floor<T>;
      const Var<T> pos = y * rt::log(rt::maximum(p, floor));
      const Var<T> not_y = 1.0 - y;
      const Var<T> neg = not_y * rt::log(rt::maximum(1.0 - p, floor));
      return -rt::mean(pos + neg);
    }
    case K::bce_logits: {
      const Var<T> sp = rt::softplus(p);
      return rt::mean(sp - y * p);
    }
    case K::softmax_ce_logits: {
      const Var<T> lse = rt::logsumexp(p);
      return rt::sum(lse - rt::row_sum(y * p)) * (1.0 / n);
    }
    case K::ce_prob: return -rt::sum(rt::log(rt::maximum(rt::row_sum(y * p), loss::probability_floor<T>))) * (1.0 / n);
    case K::softmax_ce_logits_weighted_pytorch:
    case K::softmax_ce_logits_weighted_plain_mean: {
      const Var<T> wn = rt::row_sum(y * w);  // w[c_n], N x 1
      const Var<T> lse = rt::logsumexp(p);
      const Var<T> ln = lse - rt::row_sum(y * p);  // per-sample CE, N x 1
      const Var<T> total = rt::sum(wn * ln);
      if (l.kind == K::softmax_ce_logits_weighted_plain_mean) return total * (1.0 / n);
      return total / rt::sum(wn);
    }
    case K::huber: {
      const Var<T> a = rt::abs(p - y);
      const Var<T> m = rt::minimum(a, l.huber_delta);
      const Var<T> half_m = 0.5 * m;
      return rt::mean(m * (a - half_m));
    }
  }
  throw std::logic_error("ctnn runtime loss: unhandled kind");
}

/// λ/2 Σ_l ‖W_l‖²_F, folded as loss::l2_penalty folds it: s_0 + (s_1 + (… + s_{L−1})).
template <class T>
Var<T> l2_penalty(const std::vector<Var<T>>& weights, double lambda) {
  namespace rt = ad::runtime;
  std::vector<Var<T>> s;
  for (const Var<T>& w : weights) s.push_back(rt::sum(rt::square(w)));
  Var<T> acc = s.back();
  for (std::size_t i = s.size() - 1; i-- > 0;) acc = s[i] + acc;
  return acc * (0.5 * lambda);
}

}  // namespace runtime_loss

/// A fully connected network with run-time sizes: layer l maps sizes[l] to sizes[l + 1] (Dense)
/// and applies activations[l].
template <class T>
class RuntimeNetwork {
 public:
  using scalar = T;

  /// Layer sizes [n0, ..., nL] and L activation names (identity, sigmoid, tanh, relu, leaky_relu,
  /// softplus, silu, gelu, step, softmax); parameters initialised from `seed` as ctnn::Network does.
  RuntimeNetwork(const std::vector<std::size_t>& layer_sizes, const std::vector<std::string>& activations,
                 double leaky_slope = 0.01, std::uint64_t seed = 0, Init how = Init::automatic)
      : RuntimeNetwork(Parsed{}, layer_sizes, parse_activations(activations, "activations"), leaky_slope, seed, how) {}
  /// The same with activations as enumerators.
  static RuntimeNetwork with_activations(const std::vector<std::size_t>& layer_sizes,
                                         std::vector<RuntimeActivation> activations, double leaky_slope = 0.01,
                                         std::uint64_t seed = 0, Init how = Init::automatic) {
    return RuntimeNetwork(Parsed{}, layer_sizes, std::move(activations), leaky_slope, seed, how);
  }

 private:
  struct Parsed {};
  RuntimeNetwork(Parsed, std::vector<std::size_t> layer_sizes, std::vector<RuntimeActivation> activations,
                 double leaky_slope, std::uint64_t seed, Init how)
      : sizes_(std::move(layer_sizes)), acts_(std::move(activations)), leaky_slope_(leaky_slope) {
    if (sizes_.size() < 2) throw std::invalid_argument("ctnn RuntimeNetwork: needs at least two layer sizes");
    if (acts_.size() + 1 != sizes_.size())
      throw std::invalid_argument("ctnn RuntimeNetwork: " + std::to_string(sizes_.size()) + " layer sizes need " +
                                  std::to_string(sizes_.size() - 1) + " activations, got " +
                                  std::to_string(acts_.size()));
    for (std::size_t i = 0; i < sizes_.size(); ++i)
      if (sizes_[i] == 0)
        throw std::invalid_argument("ctnn RuntimeNetwork: layer size " + std::to_string(i) + " is 0");
    offsets_.push_back(0);
    for (std::size_t l = 0; l + 1 < sizes_.size(); ++l) {
      offsets_.push_back(offsets_.back() + sizes_[l + 1] * sizes_[l]);
      offsets_.push_back(offsets_.back() + sizes_[l + 1]);
    }
    params_ = AlignedBuffer<T>(offsets_.back());
    grads_ = AlignedBuffer<T>(offsets_.back());
    initialize(seed, how);
  }

 public:
  // Copies and moves start without recorded graphs (a graph points at its network's buffers).
  ~RuntimeNetwork() { drop_graphs(); }
  RuntimeNetwork(const RuntimeNetwork& o)
      : sizes_(o.sizes_), acts_(o.acts_), leaky_slope_(o.leaky_slope_), offsets_(o.offsets_), params_(o.params_),
        grads_(o.grads_) {}
  RuntimeNetwork(RuntimeNetwork&& o) noexcept
      : sizes_(std::move(o.sizes_)), acts_(std::move(o.acts_)), leaky_slope_(o.leaky_slope_),
        offsets_(std::move(o.offsets_)), params_(std::move(o.params_)), grads_(std::move(o.grads_)) {}
  RuntimeNetwork& operator=(RuntimeNetwork o) noexcept {
    std::swap(sizes_, o.sizes_);
    std::swap(acts_, o.acts_);
    std::swap(leaky_slope_, o.leaky_slope_);
    std::swap(offsets_, o.offsets_);
    std::swap(params_, o.params_);
    std::swap(grads_, o.grads_);
    drop_graphs();
    return *this;
  }

  /// From a description {"layer_sizes": [n0, ..., nL], "activations": [L names],
  /// "leaky_relu_negative_slope": s (optional), "layers": [{"W": [[...]], "b": [...]}, ...]
  /// (optional: the parameters; otherwise initialised from seed)} — the reference figures'
  /// "network" object. Errors name the offending key (`where` prefixes them, e.g. a file name).
  static RuntimeNetwork from_json(const nlohmann::json& j, std::string_view where = "network",
                                  std::uint64_t seed = 0, Init how = Init::automatic) {
    const std::string w(where);
    if (!j.is_object()) throw std::invalid_argument(w + ": expected an object");
    for (const char* key : {"layer_sizes", "activations"})
      if (!j.contains(key) || !j[key].is_array())
        throw std::invalid_argument(w + "." + key + ": missing or not a list");
    std::vector<std::size_t> sizes;
    for (std::size_t i = 0; i < j["layer_sizes"].size(); ++i) {
      const auto& v = j["layer_sizes"][i];
      if (!v.is_number_unsigned() || v.get<std::size_t>() == 0)
        throw std::invalid_argument(w + ".layer_sizes[" + std::to_string(i) + "]: expected a positive integer");
      sizes.push_back(v.get<std::size_t>());
    }
    std::vector<RuntimeActivation> acts;
    for (std::size_t i = 0; i < j["activations"].size(); ++i) {
      const auto& v = j["activations"][i];
      const std::string at = w + ".activations[" + std::to_string(i) + "]";
      if (!v.is_string()) throw std::invalid_argument(at + ": expected a name");
      acts.push_back(runtime_activation(v.get<std::string>(), at));
    }
    if (acts.size() + 1 != sizes.size())
      throw std::invalid_argument(w + ".activations: " + std::to_string(sizes.size()) + " layer sizes need " +
                                  std::to_string(sizes.size() == 0 ? 0 : sizes.size() - 1) + " activations, got " +
                                  std::to_string(acts.size()));
    double slope = 0.01;
    if (j.contains("leaky_relu_negative_slope")) {
      if (!j["leaky_relu_negative_slope"].is_number())
        throw std::invalid_argument(w + ".leaky_relu_negative_slope: expected a number");
      slope = j["leaky_relu_negative_slope"].get<double>();
    }
    RuntimeNetwork net(Parsed{}, std::move(sizes), std::move(acts), slope, seed, how);
    if (j.contains("param_count") &&
        (!j["param_count"].is_number_unsigned() || j["param_count"].get<std::size_t>() != net.num_params()))
      throw std::invalid_argument(w + ".param_count: the sizes give " + std::to_string(net.num_params()) +
                                  " parameters");
    if (j.contains("layers")) net.load_layers(j["layers"], w + ".layers");
    return net;
  }
  /// The same from JSON text or a file (errors name the file).
  static RuntimeNetwork parse(std::string_view text, std::string_view where = "network") {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw std::invalid_argument(std::string(where) + ": " + e.what());
    }
    return from_json(j, where);
  }
  static RuntimeNetwork from_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::invalid_argument(path + ": cannot open");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return parse(text, path);
  }

  void initialize(std::uint64_t seed, Init how = Init::automatic) {
    Random rng(seed);
    std::fill(params_.begin(), params_.end(), T(0));
    for (std::size_t l = 0; l < num_layers(); ++l) {
      Init h = how;
      if (h == Init::automatic) {
        const bool relu_next = acts_[l] == RuntimeActivation::relu || acts_[l] == RuntimeActivation::leaky_relu;
        h = relu_next ? Init::he_normal : Init::xavier_uniform;
      }
      nn::init_weights(params_.data() + offsets_[2 * l], offsets_[2 * l + 1] - offsets_[2 * l], sizes_[l],
                       sizes_[l + 1], h, rng);
    }
  }

  std::size_t num_layers() const noexcept { return acts_.size(); }
  std::size_t inputs() const noexcept { return sizes_.front(); }
  std::size_t outputs() const noexcept { return sizes_.back(); }
  std::size_t num_params() const noexcept { return offsets_.back(); }
  const std::vector<std::size_t>& layer_sizes() const noexcept { return sizes_; }
  const std::vector<RuntimeActivation>& activations() const noexcept { return acts_; }
  double leaky_slope() const noexcept { return leaky_slope_; }
  /// Records the network on a caller's tape over an input leaf x (batch x inputs) and returns its
  /// output: parameter leaves read params() and receive their gradients in grads(). For
  /// objectives of one's own on the runtime tape (Jacobians, nn/runtime_jacobian.hpp). The tape
  /// points into this network's buffers: after the network is assigned (net = other, which frees
  /// them), record again on a new tape (RuntimeJacobian checks and does so itself).
  ad::runtime::Var<T> record_output(ad::runtime::Tape<T>& tape, ad::runtime::Var<T> x) {
    std::vector<ad::runtime::Var<T>> weights;
    return record_network(tape, x, weights, grads_.data());
  }
  /// Where block k starts (layer l's W is block 2l, its b block 2l + 1); block_offset(2L) = total.
  std::size_t block_offset(std::size_t k) const { return offsets_.at(k); }
  std::span<T> params() noexcept { return params_.span(); }
  std::span<const T> params() const noexcept { return params_.span(); }
  std::span<const T> grads() const noexcept { return grads_.span(); }
  /// The gradient buffer, writable (clipping, averaging over processes before a step).
  std::span<T> grads_mutable() noexcept { return grads_.span(); }
  /// Frees every recorded graph (after a pass of an unusual batch size, say); the next calls record
  /// again. Not while other threads run forward().
  void release_graphs() noexcept { drop_graphs(); }

  /// Batch forward: x is batch x inputs, y batch x outputs (row-major, one sample per row).
  /// Re-entrant (see the header): threads may share one network, as long as none writes params().
  void forward(std::size_t batch, const T* x, T* y) const {
    if (batch == 0) throw std::invalid_argument("ctnn RuntimeNetwork: batch size 0");
    const ForwardLease g(*this, batch);
    g->tape.rebind(g->x, x);
    g->tape.forward();
    const T* out = g->tape.value(g->out);
    std::copy(out, out + batch * outputs(), y);
  }
  /// The same on spans: x holds whole rows of inputs() values, y their outputs. Throws
  /// std::invalid_argument (nothing written) when x is empty or not whole rows, or y has another
  /// size; it checks sizes only (20 values of 5-feature rows pass as 5 rows of 4 features).
  void forward(std::span<const T> x, std::span<T> y) const {
    if (x.empty() || x.size() % inputs() != 0)
      throw std::invalid_argument("ctnn RuntimeNetwork::forward: x holds " + std::to_string(x.size()) +
                                  " values, not a whole, non-zero number of rows of " + std::to_string(inputs()) +
                                  " inputs");
    const std::size_t rows = x.size() / inputs();
    if (y.size() != rows * outputs())
      throw std::invalid_argument("ctnn RuntimeNetwork::forward: y holds " + std::to_string(y.size()) + " values; " +
                                  std::to_string(rows) + " rows need " + std::to_string(rows * outputs()) + " (" +
                                  std::to_string(outputs()) + " outputs each)");
    forward(rows, x.data(), y.data());
  }
  /// loss(output, target) on a batch: returns the loss and leaves dLoss/dθ in grads(); with dx,
  /// also dLoss/dx (batch x inputs).
  T gradient(const RuntimeLoss& loss, std::size_t batch, const T* x, const T* y, T* dx = nullptr) {
    Graph& g = train_graph(batch, loss);
    g.tape.rebind(g.x, x, dx);
    g.tape.rebind(g.y, y);
    g.tape.forward();
    return g.tape.backward(g.root);
  }
  /// gradient() that also copies the batch's outputs (batch x outputs) into `out`: the forward sweep
  /// computed them anyway (a training loop's accuracy on its batches).
  T gradient_and_output(const RuntimeLoss& loss, std::size_t batch, const T* x, const T* y, T* out) {
    const T l = gradient(loss, batch, x, y);
    const T* o = train_.front()->tape.value(train_.front()->out);
    std::copy(o, o + batch * outputs(), out);
    return l;
  }
  /// loss() that also copies the batch's outputs into `out`: one forward sweep for both (an
  /// evaluation's loss and predictions).
  T loss_and_output(const RuntimeLoss& loss, std::size_t batch, const T* x, const T* y, T* out) {
    const T l = this->loss(loss, batch, x, y);
    const T* o = train_.front()->tape.value(train_.front()->out);
    std::copy(o, o + batch * outputs(), out);
    return l;
  }
  /// The loss alone (forward sweep only).
  T loss(const RuntimeLoss& loss, std::size_t batch, const T* x, const T* y) {
    Graph& g = train_graph(batch, loss);
    g.tape.rebind(g.x, x, nullptr);
    g.tape.rebind(g.y, y);
    g.tape.forward();
    return g.tape.value(g.root)[0];
  }

 private:
  static std::vector<RuntimeActivation> parse_activations(const std::vector<std::string>& names,
                                                          std::string_view where) {
    std::vector<RuntimeActivation> a;
    for (std::size_t i = 0; i < names.size(); ++i)
      a.push_back(runtime_activation(names[i], std::string(where) + "[" + std::to_string(i) + "]"));
    return a;
  }
  // Parameters from [{"W": [[...]], "b": [...]}, ...]: all validated before any is copied.
  void load_layers(const nlohmann::json& layers, const std::string& w) {
    if (!layers.is_array() || layers.size() != num_layers())
      throw std::invalid_argument(w + ": expected a list of " + std::to_string(num_layers()) + " layers");
    std::vector<T> theta;
    theta.reserve(num_params());
    for (std::size_t l = 0; l < num_layers(); ++l) {
      const std::string at = w + "[" + std::to_string(l) + "]";
      const auto& L = layers[l];
      if (!L.is_object() || !L.contains("W") || !L.contains("b"))
        throw std::invalid_argument(at + ": expected an object with \"W\" and \"b\"");
      const auto& W = L["W"];
      if (!W.is_array() || W.size() != sizes_[l + 1])
        throw std::invalid_argument(at + ".W: expected " + std::to_string(sizes_[l + 1]) + " rows");
      for (std::size_t r = 0; r < W.size(); ++r) {
        if (!W[r].is_array() || W[r].size() != sizes_[l])
          throw std::invalid_argument(at + ".W[" + std::to_string(r) + "]: expected " + std::to_string(sizes_[l]) +
                                      " numbers");
        for (std::size_t c = 0; c < W[r].size(); ++c) {
          if (!W[r][c].is_number())
            throw std::invalid_argument(at + ".W[" + std::to_string(r) + "][" + std::to_string(c) +
                                        "]: expected a number");
          theta.push_back(static_cast<T>(W[r][c].get<double>()));
        }
      }
      const auto& b = L["b"];
      if (!b.is_array() || b.size() != sizes_[l + 1])
        throw std::invalid_argument(at + ".b: expected " + std::to_string(sizes_[l + 1]) + " numbers");
      for (std::size_t i = 0; i < b.size(); ++i) {
        if (!b[i].is_number())
          throw std::invalid_argument(at + ".b[" + std::to_string(i) + "]: expected a number");
        theta.push_back(static_cast<T>(b[i].get<double>()));
      }
    }
    std::copy(theta.begin(), theta.end(), params_.begin());
  }

  // One recorded pass: the network on a batch (and, for training, its loss). The leaves x and y
  // are rebound to the caller's buffers on every call (x with or without a gradient buffer).
  struct Graph {
    std::size_t batch = 0;
    bool has_loss = false;
    RuntimeLoss loss;
    std::vector<T> class_weights;
    ad::runtime::Tape<T> tape;
    ad::runtime::Var<T> x, y, out, root;
    std::uint64_t last_use = 0;  // forward graphs: the pool's clock when it was last given back
  };
  // Records the network on `batch` rows: with a loss, the training pass (parameter leaves write
  // grads()); without, the forward pass (constant parameter leaves: it writes nothing but its own
  // buffers, so threads may run forward graphs of one network at once).
  std::unique_ptr<Graph> record_graph(std::size_t batch, const RuntimeLoss* loss, T* grad_base) const {
    auto g = std::make_unique<Graph>();
    g->batch = batch;
    // Zero inputs to record over (the tape computes as it records), freed on return: every pass
    // rebinds x (and a training pass y) to the caller's buffers before it runs.
    const std::vector<T> x0(batch * inputs(), T(0)), y0(batch * outputs(), T(0));
    g->x = g->tape.leaf(batch, inputs(), x0.data());
    g->y = g->tape.leaf(batch, outputs(), y0.data());
    std::vector<ad::runtime::Var<T>> weights;
    g->out = record_network(g->tape, g->x, weights, grad_base);
    if (loss != nullptr) {
      g->has_loss = true;
      g->loss = *loss;
      ad::runtime::Var<T> w{};
      if (!loss->class_weights.empty()) {
        g->class_weights.assign(loss->class_weights.begin(), loss->class_weights.end());
        w = g->tape.leaf(1, outputs(), g->class_weights.data());
      }
      g->root = runtime_loss::data_loss(*loss, g->out, g->y, w);
      if (loss->l2_lambda != 0) g->root = g->root + runtime_loss::l2_penalty(weights, loss->l2_lambda);
    }
    return g;
  }
  // The training graph of (batch, loss), most recently used first; recorded on a miss, dropping
  // the least recently used beyond max_train_graphs.
  Graph& train_graph(std::size_t batch, const RuntimeLoss& loss) {
    if (batch == 0) throw std::invalid_argument("ctnn RuntimeNetwork: batch size 0");
    check_loss(loss);
    for (std::size_t i = 0; i < train_.size(); ++i)
      if (train_[i]->batch == batch && train_[i]->loss == loss) {
        std::rotate(train_.begin(), train_.begin() + static_cast<std::ptrdiff_t>(i),
                    train_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        return *train_.front();
      }
    auto g = record_graph(batch, &loss, grads_.data());
    if (train_.size() == max_train_graphs) train_.pop_back();
    train_.insert(train_.begin(), std::move(g));
    return *train_.front();
  }

  // Forward graphs. A pass holds one graph for its duration (ForwardLease): it takes the graph in
  // `hot_` (one atomic exchange) if that has its batch size, else one from `pool_` (under
  // pool_mutex_), else records one; when the pass ends the graph goes back to hot_ and what hot_
  // held then goes to the pool (deleted if the pool is full). So a thread alone at one batch size
  // locks nothing, and two threads never run one graph.
  class ForwardLease {
   public:
    ForwardLease(const RuntimeNetwork& net, std::size_t batch)
        : net_(net), g_(net.hot_.exchange(nullptr, std::memory_order_acq_rel)) {
      if (g_ == nullptr || g_->batch != batch) g_ = net.take_forward_graph(batch, g_);
    }
    ~ForwardLease() {
      Graph* prev = net_.hot_.exchange(g_, std::memory_order_acq_rel);
      if (prev != nullptr) {
        const std::lock_guard lock(net_.pool_mutex_);
        net_.park(prev);
      }
    }
    ForwardLease(const ForwardLease&) = delete;
    ForwardLease& operator=(const ForwardLease&) = delete;
    Graph* operator->() const noexcept { return g_; }

   private:
    const RuntimeNetwork& net_;
    Graph* g_;
  };
  // Takes a graph of `batch` from the pool and parks `held` (the hot graph of another batch size, or
  // null) in its place, in that order: parking first into a full pool could drop the very graph
  // wanted (17 sizes used in turn would then re-record every call). Records one when the pool has
  // none (outside the lock: recording allocates).
  Graph* take_forward_graph(std::size_t batch, Graph* held) const {
    {
      const std::lock_guard lock(pool_mutex_);
      Graph* found = nullptr;
      for (std::size_t i = 0; i < pooled_ && found == nullptr; ++i)
        if (pool_[i]->batch == batch) {
          found = pool_[i].release();
          pool_[i] = std::move(pool_[--pooled_]);
        }
      if (held != nullptr) park(held);
      if (found != nullptr) return found;
    }
    return record_graph(batch, nullptr, nullptr).release();
  }
  // Into the pool (pool_mutex_ held); a full pool drops its least recently used graph for it.
  void park(Graph* g) const noexcept {
    g->last_use = ++clock_;
    if (pooled_ < pool_.size()) {
      pool_[pooled_++].reset(g);
      return;
    }
    std::size_t oldest = 0;
    for (std::size_t i = 1; i < pooled_; ++i)
      if (pool_[i]->last_use < pool_[oldest]->last_use) oldest = i;
    pool_[oldest].reset(g);
  }
  // Every recorded graph (destruction, assignment: they point at the old buffers).
  void drop_graphs() noexcept {
    delete hot_.exchange(nullptr, std::memory_order_acq_rel);
    for (std::size_t i = 0; i < pooled_; ++i) pool_[i].reset();
    pooled_ = 0;
    train_.clear();
  }
  void check_loss(const RuntimeLoss& l) const {
    const bool weighted = l.kind == RuntimeLoss::Kind::softmax_ce_logits_weighted_pytorch ||
                          l.kind == RuntimeLoss::Kind::softmax_ce_logits_weighted_plain_mean;
    if (weighted && l.class_weights.size() != outputs())
      throw std::invalid_argument("ctnn RuntimeNetwork: " + std::to_string(l.class_weights.size()) +
                                  " class weights for " + std::to_string(outputs()) + " outputs");
  }
  // The network's expression, as Network builds it: per layer X Wᵀ + b, then the activation.
  // grad_base: grads_.data() for parameter leaves that receive their gradients, null for constants.
  ad::runtime::Var<T> record_network(ad::runtime::Tape<T>& tape, ad::runtime::Var<T> x,
                                     std::vector<ad::runtime::Var<T>>& weights, T* grad_base) const {
    namespace rt = ad::runtime;
    rt::Var<T> e = x;
    const T* p = params_.data();
    const auto grad = [&](std::size_t k) { return grad_base == nullptr ? nullptr : grad_base + offsets_[k]; };
    for (std::size_t l = 0; l < num_layers(); ++l) {
      const rt::Var<T> W = tape.leaf(sizes_[l + 1], sizes_[l], p + offsets_[2 * l], grad(2 * l));
      const rt::Var<T> b = tape.leaf(1, sizes_[l + 1], p + offsets_[2 * l + 1], grad(2 * l + 1));
      weights.push_back(W);
      e = rt::matmul_nt(e, W) + b;
      switch (acts_[l]) {
        case RuntimeActivation::identity: break;
        case RuntimeActivation::sigmoid: e = rt::sigmoid(e); break;
        case RuntimeActivation::tanh: e = rt::tanh(e); break;
        case RuntimeActivation::relu: e = rt::relu(e); break;
        case RuntimeActivation::leaky_relu: e = rt::leaky_relu(e, leaky_slope_); break;
        case RuntimeActivation::softplus: e = rt::softplus(e); break;
        case RuntimeActivation::silu: e = rt::silu(e); break;
        case RuntimeActivation::gelu: e = rt::gelu(e); break;
        case RuntimeActivation::step: e = rt::step(e); break;
        case RuntimeActivation::softmax: e = rt::softmax(e); break;
      }
    }
    return e;
  }

  std::vector<std::size_t> sizes_;
  std::vector<RuntimeActivation> acts_;
  double leaky_slope_ = 0.01;
  std::vector<std::size_t> offsets_;
  AlignedBuffer<T> params_, grads_;
  static constexpr std::size_t max_train_graphs = 4;
  std::vector<std::unique_ptr<Graph>> train_;  // most recently used first
  mutable std::atomic<Graph*> hot_{nullptr};   // owned: deleted by drop_graphs
  mutable std::mutex pool_mutex_;
  mutable std::array<std::unique_ptr<Graph>, 16> pool_;  // [0, pooled_) hold graphs
  mutable std::size_t pooled_ = 0;
  mutable std::uint64_t clock_ = 0;  // counts park()s
};

}  // namespace ctnn
