// bench/peers: ctnn — the network is a type; forward is net.forward<B>, a step is net.sgd_step<B>
// (forward, derived backward and the update in one call).
#include "ctnn/ctnn.hpp"
#include "peer.hpp"

#include <memory>
#include <vector>

namespace {
using namespace peers;
using ctnn::Dense, ctnn::ReLU, ctnn::Sigmoid, ctnn::Softmax;

// Forward nets end in the output activation (probabilities); training nets for the class workloads
// output logits and use softmax cross-entropy from logits. Both hold the same parameters.
template <std::size_t B, class FwdNet, class TrainNet, bool SoftmaxCE>
struct Impl {
  std::unique_ptr<FwdNet> fwd = std::make_unique<FwdNet>();
  std::unique_ptr<TrainNet> train = std::make_unique<TrainNet>();
  std::vector<float> x, y, out;
  Impl(const Workload& w, const Data& d) : x(d.xf), y(d.yf), out(w.batch * w.out()) {
    for (std::size_t i = 0; i < d.params.size(); ++i) fwd->params()[i] = train->params()[i] = float(d.params[i]);
  }
  void forward() {
    fwd->template forward<B>(x.data(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  std::vector<float> output() { return out; }
  double step(float lr) {
    if constexpr (SoftmaxCE) return train->template sgd_step<B>(ctnn::loss::softmax_cross_entropy, x.data(), y.data(), lr);
    else return train->template sgd_step<B>(ctnn::loss::mse_half_sum, x.data(), y.data(), lr);
  }
  std::vector<float> params() { return {train->params().begin(), train->params().end()}; }
};

using NetA = ctnn::Sequential<Dense<4, 5>, Sigmoid, Dense<5, 1>, Sigmoid>;
using BLogits = ctnn::Sequential<Dense<64, 32>, ReLU, Dense<32, 10>>;
using BProbs = ctnn::Sequential<Dense<64, 32>, ReLU, Dense<32, 10>, Softmax>;
using CLogits = ctnn::Sequential<Dense<784, 128>, ReLU, Dense<128, 10>>;
using CProbs = ctnn::Sequential<Dense<784, 128>, ReLU, Dense<128, 10>, Softmax>;
using DLogits = ctnn::Sequential<Dense<784, 256>, ReLU, Dense<256, 128>, ReLU, Dense<128, 64>, ReLU, Dense<64, 10>>;
using DProbs =
    ctnn::Sequential<Dense<784, 256>, ReLU, Dense<256, 128>, ReLU, Dense<128, 64>, ReLU, Dense<64, 10>, Softmax>;

const Register reg{{"ctnn", "ctnn (this library), compile-time network, no BLAS",
                    [](const Workload& w, const Data& d) -> std::unique_ptr<CaseBase> {
                      switch (w.name[0]) {
                        case 'A': return make_case<Impl<1, NetA, NetA, false>>(w, d);
                        case 'B': return make_case<Impl<1, BProbs, BLogits, true>>(w, d);
                        case 'C': return make_case<Impl<64, CProbs, CLogits, true>>(w, d);
                        case 'D': return make_case<Impl<64, DProbs, DLogits, true>>(w, d);
                      }
                      return nullptr;
                    },
                    ""}};
}  // namespace
