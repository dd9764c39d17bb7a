// bench/peers: FANN 2.2 (Debian libfann-dev, float build libfloatfann) on workload A only.
// FANN has sigmoid units and a squared-error training rule, so A (4-5-1 sigmoid, ½·squared error)
// maps onto it exactly: fann_run is the forward pass, fann_train one incremental backprop step.
// B, C and D are skipped: FANN has no softmax output layer and no cross-entropy loss, and it
// trains one sample at a time (no mini-batch step for C and D).
#include "peer.hpp"

#include <floatfann.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

namespace {
using namespace peers;

struct FannImpl {
  fann* ann;
  std::vector<float> x, y;
  std::vector<fann_connection> conns;
  fann_type* out = nullptr;
  const Workload* w;

  // Global neuron index of neuron j of layer l (every layer but the last has a bias neuron at its end).
  std::size_t neuron(std::size_t l, std::size_t j) const {
    std::size_t s = 0;
    for (std::size_t k = 0; k < l; ++k) s += w->sizes[k] + 1;
    return s + j;
  }

  FannImpl(const Workload& wl, const Data& d) : x(d.xf), y(d.yf), w(&wl) {
    ann = fann_create_standard(3, unsigned(wl.sizes[0]), unsigned(wl.sizes[1]), unsigned(wl.sizes[2]));
    fann_set_activation_function_hidden(ann, FANN_SIGMOID);  // 1/(1+exp(-2·s·x)), s = 0.5
    fann_set_activation_function_output(ann, FANN_SIGMOID);
    fann_set_activation_steepness_hidden(ann, 0.5f);
    fann_set_activation_steepness_output(ann, 0.5f);
    fann_set_train_error_function(ann, FANN_ERRORFUNC_LINEAR);  // plain (t − y), not FANN's tanh default
    fann_set_learning_momentum(ann, 0.0f);
    conns.resize(fann_get_total_connections(ann));
    fann_get_connection_array(ann, conns.data());
    for (auto& c : conns) c.weight = float(weight(d.params, c.from_neuron, c.to_neuron));
    fann_set_weight_array(ann, conns.data(), unsigned(conns.size()));
  }
  ~FannImpl() { fann_destroy(ann); }
  FannImpl(const FannImpl&) = delete;
  FannImpl& operator=(const FannImpl&) = delete;

  // The shared flat parameter connecting global neurons `from` -> `to`.
  double weight(const std::vector<double>& p, std::size_t from, std::size_t to) const {
    std::size_t off = 0;
    for (std::size_t l = 0; l < w->layers(); ++l) {
      const std::size_t in = w->sizes[l], o = w->sizes[l + 1];
      if (to >= neuron(l + 1, 0) && to < neuron(l + 1, o)) {
        const std::size_t j = to - neuron(l + 1, 0), i = from - neuron(l, 0);
        return i == in ? p[off + o * in + j] : p[off + j * in + i];  // i == in: the bias neuron
      }
      off += o * in + o;
    }
    return std::numeric_limits<double>::quiet_NaN();
  }

  void forward() {
    out = fann_run(ann, x.data());
    benchmark::DoNotOptimize(static_cast<const fann_type*>(out));
  }
  std::vector<float> output() { return {out, out + w->out()}; }
  double step(float lr) {
    fann_set_learning_rate(ann, lr);
    fann_reset_MSE(ann);
    fann_train(ann, x.data(), y.data());
    return 0.5 * double(fann_get_MSE(ann)) * double(w->out());  // FANN's MSE is Σ(t−y)²/outputs
  }
  std::vector<float> params() {
    fann_get_connection_array(ann, conns.data());
    std::vector<float> p(w->num_params());
    std::size_t off = 0;
    for (std::size_t l = 0; l < w->layers(); ++l) {
      const std::size_t in = w->sizes[l], o = w->sizes[l + 1];
      for (const auto& c : conns) {
        if (c.to_neuron < neuron(l + 1, 0) || c.to_neuron >= neuron(l + 1, o)) continue;
        const std::size_t j = c.to_neuron - neuron(l + 1, 0), i = c.from_neuron - neuron(l, 0);
        p[i == in ? off + o * in + j : off + j * in + i] = c.weight;
      }
      off += o * in + o;
    }
    return p;
  }
};

const Register reg{{"fann", "FANN 2.2 (float build, fann_run / fann_train), no BLAS",
                    [](const Workload& w, const Data& d) -> std::unique_ptr<CaseBase> {
                      if (w.name != "A") return nullptr;
                      return make_case<FannImpl>(w, d);
                    },
                    "FANN has no softmax output / cross-entropy loss and no mini-batch step; only A maps onto it"}};
}  // namespace
