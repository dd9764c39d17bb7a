// bench/peers: libtorch (PyTorch's C++ API, Debian libtorch-dev) as a user writes it: an
// nn::Sequential of Linear layers, forward under InferenceMode, a step is zero_grad, forward, loss,
// backward and optim::SGD::step. Matrix products go to the BLAS that libblas.so.3 resolves to
// (tools/bench-peers selects OpenBLAS, serial); one intra-op thread.
#include "peer.hpp"

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace {
using namespace peers;

struct TorchImpl {
  torch::nn::Sequential model;
  std::vector<torch::nn::Linear> linears;
  torch::Tensor x, target, labels, out;
  bool softmax;
  std::unique_ptr<torch::optim::SGD> opt;

  TorchImpl(const Workload& w, const Data& d) : softmax(w.output == Output::softmax_ce) {
    const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
    std::size_t off = 0;
    torch::NoGradGuard no_grad;
    for (std::size_t l = 0; l < w.layers(); ++l) {
      const auto in = std::int64_t(w.sizes[l]), o = std::int64_t(w.sizes[l + 1]);
      auto lin = torch::nn::Linear(in, o);
      std::vector<float> wv(d.params.begin() + long(off), d.params.begin() + long(off + std::size_t(o * in)));
      off += std::size_t(o * in);
      std::vector<float> bv(d.params.begin() + long(off), d.params.begin() + long(off + std::size_t(o)));
      off += std::size_t(o);
      lin->weight.copy_(torch::from_blob(wv.data(), {o, in}, f32));
      lin->bias.copy_(torch::from_blob(bv.data(), {o}, f32));
      model->push_back(lin);
      linears.push_back(lin);
      const bool last = l + 1 == w.layers();
      if (!last) {
        if (w.hidden == Hidden::sigmoid) model->push_back(torch::nn::Sigmoid());
        else model->push_back(torch::nn::ReLU());
      } else if (!softmax) {
        model->push_back(torch::nn::Sigmoid());
      }
    }
    const auto B = std::int64_t(w.batch);
    x = torch::from_blob(const_cast<float*>(d.xf.data()), {B, std::int64_t(w.in())}, f32).clone();
    target = torch::from_blob(const_cast<float*>(d.yf.data()), {B, std::int64_t(w.out())}, f32).clone();
    if (softmax) {
      std::vector<std::int64_t> lab(d.labels.begin(), d.labels.end());
      labels = torch::from_blob(lab.data(), {B}, torch::TensorOptions().dtype(torch::kInt64)).clone();
    }
    opt = std::make_unique<torch::optim::SGD>(model->parameters(), torch::optim::SGDOptions(0.1));
  }
  void forward() {
    torch::InferenceMode guard;
    out = softmax ? torch::softmax(model->forward(x), 1) : model->forward(x);
  }
  std::vector<float> output() {
    auto o = out.contiguous();
    return {o.data_ptr<float>(), o.data_ptr<float>() + o.numel()};
  }
  double step(float lr) {
    static_cast<torch::optim::SGDOptions&>(opt->param_groups()[0].options()).lr(lr);
    opt->zero_grad();
    torch::Tensor z = model->forward(x);
    torch::Tensor loss = softmax ? torch::nn::functional::cross_entropy(z, labels)
                                 : 0.5 * (z - target).pow(2).sum() / double(x.size(0));
    loss.backward();
    opt->step();
    return loss.item<float>();
  }
  std::vector<float> params() {
    std::vector<float> p;
    for (auto& lin : linears)
      for (const torch::Tensor& t : {lin->weight, lin->bias}) {
        auto c = t.detach().contiguous();
        p.insert(p.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
      }
    return p;
  }
};

const Register reg{{"libtorch",
                    "libtorch " + std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
                        "." + std::to_string(TORCH_VERSION_PATCH) +
                        " (C++ API: nn::Sequential, optim::SGD), 1 thread, BLAS via libblas.so.3",
                    [](const Workload& w, const Data& d) -> std::unique_ptr<CaseBase> {
                      torch::set_num_threads(1);
                      return make_case<TorchImpl>(w, d);
                    },
                    ""}};
}  // namespace
