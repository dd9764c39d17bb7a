// bench/peers: dlib's DNN toolkit (Debian libdlib-dev) as a user writes it: the network is a
// template type (fc/relu/sig layers under loss_multiclass_log or loss_mean_squared); forward is
// net.forward(tensor), a step is compute_parameter_gradients + update_parameters with plain sgd
// solvers (no weight decay, no momentum). dlib's fc layers call the BLAS behind libblas.so.3.
//
// dlib's fc stores its parameters as an (in+1) x out matrix (x·W, bias in the last row); they are
// transposed from and to the shared flat order here. Inputs are converted to a tensor once, outside
// the timed loop (as a user would do when preparing a batch).
#include "peer.hpp"

#include <dlib/dnn.h>
#include <dlib/revision.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace {
using namespace peers;
using namespace dlib;

using In = input<matrix<float>>;
using TrainA = loss_mean_squared<sig<fc<1, sig<fc<5, In>>>>>;
using FwdA = sig<fc<1, sig<fc<5, In>>>>;
using TrainB = loss_multiclass_log<fc<10, relu<fc<32, In>>>>;
using FwdB = softmax<fc<10, relu<fc<32, In>>>>;
using TrainC = loss_multiclass_log<fc<10, relu<fc<128, In>>>>;
using FwdC = softmax<fc<10, relu<fc<128, In>>>>;
using TrainD = loss_multiclass_log<fc<10, relu<fc<64, relu<fc<128, relu<fc<256, In>>>>>>>>;
using FwdD = softmax<fc<10, relu<fc<64, relu<fc<128, relu<fc<256, In>>>>>>>>;

// The fc parameter tensors of a net, first layer first.
template <class Net>
std::vector<tensor*> fc_params(Net& net) {
  std::vector<tensor*> ps;
  visit_layer_parameters(net, [&](tensor& t) {
    if (t.size() > 0) ps.insert(ps.begin(), &t);  // visited from the output down
  });
  return ps;
}

template <class Net>
void load(Net& net, const Workload& w, const Data& d) {
  std::size_t off = 0, l = 0;
  for (tensor* t : fc_params(net)) {
    const std::size_t in = w.sizes[l], out = w.sizes[l + 1];
    float* p = t->host();
    for (std::size_t o = 0; o < out; ++o)
      for (std::size_t i = 0; i < in; ++i) p[i * out + o] = float(d.params[off + o * in + i]);
    for (std::size_t o = 0; o < out; ++o) p[in * out + o] = float(d.params[off + out * in + o]);
    off += out * in + out;
    ++l;
  }
}

template <class Train, class Fwd>
struct DlibImpl {
  using Label = std::conditional_t<std::is_same_v<Train, TrainA>, float, unsigned long>;
  Train train;
  Fwd fwd;
  resizable_tensor x;
  std::vector<Label> labels;
  std::vector<sgd> solvers;
  const Workload* w;
  bool half_sse;

  DlibImpl(const Workload& wl, const Data& d) : w(&wl), half_sse(wl.output == Output::sigmoid_half_sse) {
    std::vector<matrix<float>> samples(wl.batch, matrix<float>(long(wl.in()), 1));
    for (std::size_t n = 0; n < wl.batch; ++n)
      for (std::size_t i = 0; i < wl.in(); ++i) samples[n](long(i)) = d.xf[n * wl.in() + i];
    resizable_tensor scratch;
    fwd.to_tensor(samples.begin(), samples.end(), scratch);  // each net records the input layout
    train.to_tensor(samples.begin(), samples.end(), x);
    if (half_sse) labels.assign(d.yf.begin(), d.yf.end());
    else labels.assign(d.labels.begin(), d.labels.end());
    train.subnet().forward(x);  // allocates the parameters (sized from the input)
    fwd.forward(x);
    load(train, wl, d);
    load(fwd, wl, d);
    solvers.assign(Train::num_computational_layers, sgd(0.0f, 0.0f));
  }
  void forward() {
    const tensor& o = fwd.forward(x);
    benchmark::DoNotOptimize(o.host());
  }
  std::vector<float> output() {
    const tensor& o = fwd.get_output();
    return {o.host(), o.host() + o.size()};
  }
  double step(float lr) {
    const double loss = train.compute_parameter_gradients(x, labels.begin());
    train.update_parameters(solvers, lr);
    // loss_mean_squared reports mean (y−ŷ)² but back-propagates the gradient of half of it (the
    // workload's ½·squared error), so half its value is the workload's loss.
    return half_sse ? 0.5 * loss : loss;
  }
  std::vector<float> params() {
    std::vector<float> p;
    std::size_t l = 0;
    for (tensor* t : fc_params(train)) {
      const std::size_t in = w->sizes[l], out = w->sizes[l + 1];
      const float* q = t->host();
      for (std::size_t o = 0; o < out; ++o)
        for (std::size_t i = 0; i < in; ++i) p.push_back(q[i * out + o]);
      for (std::size_t o = 0; o < out; ++o) p.push_back(q[in * out + o]);
      ++l;
    }
    return p;
  }
};

const Register reg{{"dlib", "dlib " + std::to_string(DLIB_MAJOR_VERSION) + "." + std::to_string(DLIB_MINOR_VERSION) + " (DNN toolkit: fc/relu/sig, plain sgd solver), BLAS via libblas.so.3",
                    [](const Workload& w, const Data& d) -> std::unique_ptr<CaseBase> {
                      switch (w.name[0]) {
                        case 'A': return make_case<DlibImpl<TrainA, FwdA>>(w, d);
                        case 'B': return make_case<DlibImpl<TrainB, FwdB>>(w, d);
                        case 'C': return make_case<DlibImpl<TrainC, FwdC>>(w, d);
                        case 'D': return make_case<DlibImpl<TrainD, FwdD>>(w, d);
                      }
                      return nullptr;
                    },
                    ""}};
}  // namespace
