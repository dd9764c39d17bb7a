// bench/peers: the expert baseline — hand-written Eigen 3.4 fixed-size MLPs (bench/eigen_mlp.hpp).
#include "../eigen_mlp.hpp"
#include "peer.hpp"

#include <Eigen/Core>

#include <memory>
#include <string>
#include <vector>

namespace {
using namespace peers;
namespace em = eigen_mlp;

template <class NetT, int In, int Out>
struct Single {  // A and B: one sample, fully fixed-size objects
  NetT net;
  em::Vec<In> x;
  em::Vec<Out> y, out;
  int label = 0;
  bool softmax;
  Single(const Workload& w, const Data& d) : softmax(w.output == Output::softmax_ce) {
    em::load_flat(net, d.params.data());
    for (int i = 0; i < In; ++i) x[i] = d.xf[std::size_t(i)];
    for (int i = 0; i < Out; ++i) y[i] = d.yf[std::size_t(i)];
    if (softmax) label = d.labels[0];
  }
  void forward() {
    if constexpr (Out == 1) em::forward_a(net, x, out);
    else em::forward_b(net, x, out);
    benchmark::DoNotOptimize(out.data());
  }
  std::vector<float> output() { return {out.data(), out.data() + Out}; }
  double step(float lr) {
    if constexpr (Out == 1) return em::sgd_step_a(net, x, y, lr);
    else return em::sgd_step_b(net, x, label, lr);
  }
  std::vector<float> params() {
    std::vector<float> p(NetT::num_params);
    em::store_flat(net, p.data());
    return p;
  }
};

template <class NetT, class WorkT, class ProbsT, auto MakeNet, auto MakeWork, auto Fwd, auto Step>
struct Batched {  // C and D: heap-held parameters and workspace, batch of 64
  std::unique_ptr<NetT> net = MakeNet();
  std::unique_ptr<WorkT> ws = MakeWork();
  std::unique_ptr<ProbsT> probs = std::make_unique<ProbsT>();
  std::vector<float> x;
  std::vector<int> labels;
  Batched(const Workload&, const Data& d) : x(d.xf), labels(d.labels) { em::load_flat(*net, d.params.data()); }
  void forward() {
    Fwd(*net, x.data(), *probs, *ws);
    benchmark::DoNotOptimize(probs->data());
  }
  std::vector<float> output() { return {probs->data(), probs->data() + probs->size()}; }
  double step(float lr) { return Step(*net, x.data(), labels.data(), lr, *ws); }
  std::vector<float> params() {
    std::vector<float> p(NetT::num_params);
    em::store_flat(*net, p.data());
    return p;
  }
};

using ImplA = Single<em::NetA, 4, 1>;
using ImplB = Single<em::NetB, 64, 10>;
using ImplC = Batched<em::NetC, em::WorkC, em::ProbsC, em::make_net_c, em::make_work_c, em::forward_c, em::sgd_step_c>;
using ImplD = Batched<em::NetD, em::WorkD, em::ProbsD, em::make_net_d, em::make_work_d, em::forward_d, em::sgd_step_d>;

const Register reg{{"eigen",
                    "hand-written Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
                        std::to_string(EIGEN_MAJOR_VERSION) + "." + std::to_string(EIGEN_MINOR_VERSION) +
                        " fixed-size MLP (bench/eigen_mlp.hpp), no BLAS",
                    [](const Workload& w, const Data& d) -> std::unique_ptr<CaseBase> {
                      switch (w.name[0]) {
                        case 'A': return make_case<ImplA>(w, d);
                        case 'B': return make_case<ImplB>(w, d);
                        case 'C': return make_case<ImplC>(w, d);
                        case 'D': return make_case<ImplD>(w, d);
                      }
                      return nullptr;
                    },
                    ""}};
}  // namespace
