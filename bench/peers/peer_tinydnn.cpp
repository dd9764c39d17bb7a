// bench/peers: tiny-dnn (Debian tiny-dnn, header-only) as a user writes it: network<sequential>
// of fully_connected_layer<activation> (this version fuses the activation into the layer); forward is predict(batch), a step is fit() on
// the batch for one epoch with gradient_descent (tiny-dnn divides the summed gradient by the batch
// size, as the workloads do). Built single-threaded (CNN_SINGLE_THREAD, one task) with its AVX
// kernels enabled where the build targets AVX.
//
// tiny-dnn's fc stores W as in x out (W[i·out + o]); converted from and to the shared flat order.
// Its mse loss is Σ(ŷ−y)²/outputs, whose gradient is twice the workload's ½·squared error for one
// output, so A's step uses lr/2 (the same update). fit() does not return the loss (not checked).
#define CNN_SINGLE_THREAD
#if defined(__AVX__) && !defined(CNN_USE_AVX)
#define CNN_USE_AVX
#endif
#include "peer.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <tiny_dnn/tiny_dnn.h>
#pragma GCC diagnostic pop

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

namespace {
using namespace peers;
namespace td = tiny_dnn;

struct TinyImpl {
  td::network<td::sequential> net;
  std::vector<td::vec_t> x, y;
  std::vector<td::tensor_t> xt, out;  // a batch: one tensor (of one channel) per sample
  std::vector<td::layer*> fcs;
  td::gradient_descent opt;
  const Workload* w;
  bool half_sse;

  TinyImpl(const Workload& wl, const Data& d) : w(&wl), half_sse(wl.output == Output::sigmoid_half_sse) {
    for (std::size_t l = 0; l < wl.layers(); ++l) {  // this tiny-dnn fuses the activation into the layer
      const auto in = td::serial_size_t(wl.sizes[l]), o = td::serial_size_t(wl.sizes[l + 1]);
      const bool last = l + 1 == wl.layers();
      if (!last && wl.hidden == Hidden::relu) net << td::fully_connected_layer<td::activation::relu>(in, o);
      else if (!last || half_sse) net << td::fully_connected_layer<td::activation::sigmoid>(in, o);
      else net << td::fully_connected_layer<td::activation::softmax>(in, o);
    }
    net.init_weight();
    for (std::size_t i = 0; i < net.depth(); ++i)
      if (net[i]->layer_type() == "fully-connected") fcs.push_back(net[i]);
    std::size_t off = 0;
    for (std::size_t l = 0; l < fcs.size(); ++l) {
      const std::size_t in = wl.sizes[l], o = wl.sizes[l + 1];
      auto wb = fcs[l]->weights();
      td::vec_t& W = *wb[0];
      td::vec_t& b = *wb[1];
      for (std::size_t j = 0; j < o; ++j)
        for (std::size_t i = 0; i < in; ++i) W[i * o + j] = float(d.params[off + j * in + i]);
      for (std::size_t j = 0; j < o; ++j) b[j] = float(d.params[off + o * in + j]);
      off += o * in + o;
    }
    for (std::size_t n = 0; n < wl.batch; ++n) {
      x.emplace_back(d.xf.begin() + long(n * wl.in()), d.xf.begin() + long((n + 1) * wl.in()));
      y.emplace_back(d.yf.begin() + long(n * wl.out()), d.yf.begin() + long((n + 1) * wl.out()));
    }
    for (const auto& v : x) xt.push_back(td::tensor_t{v});
  }
  void forward() {
    out = net.predict(xt);
    benchmark::DoNotOptimize(out.data());
  }
  std::vector<float> output() {
    std::vector<float> o;
    for (const auto& t : out) o.insert(o.end(), t[0].begin(), t[0].end());
    return o;
  }
  double step(float lr) {
    opt.alpha = half_sse ? lr / 2 : lr;
    if (half_sse) net.fit<td::mse>(opt, x, y, w->batch, 1, [] {}, [] {}, false, 1);
    else net.fit<td::cross_entropy_multiclass>(opt, x, y, w->batch, 1, [] {}, [] {}, false, 1);
    return std::numeric_limits<double>::quiet_NaN();
  }
  std::vector<float> params() {
    std::vector<float> p;
    for (std::size_t l = 0; l < fcs.size(); ++l) {
      const std::size_t in = w->sizes[l], o = w->sizes[l + 1];
      auto wb = fcs[l]->weights();
      const td::vec_t& W = *wb[0];
      const td::vec_t& b = *wb[1];
      for (std::size_t j = 0; j < o; ++j)
        for (std::size_t i = 0; i < in; ++i) p.push_back(W[i * o + j]);
      p.insert(p.end(), b.begin(), b.end());
    }
    return p;
  }
};

const Register reg{{"tiny-dnn", "tiny-dnn 1.0.0a3 (network<sequential>, predict / fit with gradient_descent), 1 thread, no BLAS",
                    [](const Workload& w, const Data& d) -> std::unique_ptr<CaseBase> { return make_case<TinyImpl>(w, d); },
                    ""}};
}  // namespace
