// bench/runtime_tape_torch.cpp: libtorch autograd (Debian libtorch-dev) on the runtime-tape
// benchmark's workload, written as a libtorch user writes it: parameter tensors with
// requires_grad, F::linear / relu / cross_entropy, loss.backward(); gradients zeroed in place
// before each pass (PyTorch 1.13's default zero_grad), one intra-op thread.
#include "runtime_tape_torch.hpp"

#include <torch/torch.h>

#include <cstdint>

namespace torch_autograd {

namespace F = torch::nn::functional;

template <class T>
struct Mlp<T>::Impl {
  torch::Tensor w1, b1, w2, b2, x, label;
  static torch::Tensor tensor(const T* p, std::vector<std::int64_t> shape) {
    const auto dtype = std::is_same_v<T, double> ? torch::kFloat64 : torch::kFloat32;
    return torch::from_blob(const_cast<T*>(p), shape, torch::TensorOptions().dtype(dtype)).clone();
  }
  torch::Tensor logits() { return F::linear(torch::relu(F::linear(x, w1, b1)), w2, b2); }
};

template <class T>
Mlp<T>::Mlp(const std::vector<T>& params, const std::vector<T>& x, long label) : impl_(std::make_unique<Impl>()) {
  torch::set_num_threads(1);
  const T* p = params.data();
  impl_->w1 = Impl::tensor(p, {32, 64}).requires_grad_(true);
  impl_->b1 = Impl::tensor(p + 2048, {32}).requires_grad_(true);
  impl_->w2 = Impl::tensor(p + 2080, {10, 32}).requires_grad_(true);
  impl_->b2 = Impl::tensor(p + 2400, {10}).requires_grad_(true);
  impl_->x = Impl::tensor(x.data(), {1, 64});
  impl_->label = torch::full({1}, label, torch::TensorOptions().dtype(torch::kInt64));
}
template <class T>
Mlp<T>::~Mlp() = default;

template <class T>
void Mlp<T>::forward(T* out) {
  torch::InferenceMode guard;
  const torch::Tensor z = impl_->logits().contiguous();
  const T* zp = z.data_ptr<T>();
  for (int k = 0; k < 10; ++k) out[k] = zp[k];
}

template <class T>
T Mlp<T>::gradient() {
  for (torch::Tensor* t : {&impl_->w1, &impl_->b1, &impl_->w2, &impl_->b2})
    if (t->grad().defined()) t->mutable_grad().zero_();
  torch::Tensor loss = F::cross_entropy(impl_->logits(), impl_->label);
  loss.backward();
  return loss.item<T>();
}

template <class T>
std::vector<T> Mlp<T>::grads() const {
  std::vector<T> g;
  for (const torch::Tensor* t : {&impl_->w1, &impl_->b1, &impl_->w2, &impl_->b2}) {
    const torch::Tensor c = t->grad().contiguous();
    g.insert(g.end(), c.data_ptr<T>(), c.data_ptr<T>() + c.numel());
  }
  return g;
}

template class Mlp<float>;
template class Mlp<double>;

}  // namespace torch_autograd
