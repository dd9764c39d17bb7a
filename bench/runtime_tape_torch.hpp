// bench/runtime_tape_torch.hpp: libtorch autograd on bench_runtime_tape's workload (64-32-10 ReLU,
// softmax cross-entropy, one sample), behind a plain interface so that only
// runtime_tape_torch.cpp includes torch's headers (built only when libtorch-dev is found).
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

namespace torch_autograd {

template <class T>
class Mlp {
 public:
  /// params: the flat ctnn layout (W1 [32,64], b1, W2 [10,32], b2); x: 64 values; label: the class.
  Mlp(const std::vector<T>& params, const std::vector<T>& x, long label);
  ~Mlp();
  /// Forward under InferenceMode; writes the 10 logits.
  void forward(T* out);
  /// Zeroes the parameters' gradients, forward, cross-entropy, backward; returns the loss.
  T gradient();
  /// The gradients of the last gradient() in the flat ctnn layout.
  std::vector<T> grads() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace torch_autograd
