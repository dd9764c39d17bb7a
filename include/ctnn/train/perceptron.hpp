// ctnn/train/perceptron.hpp: Rosenblatt's perceptron learning rule for a single step neuron,
// Network<T, Dense<In, 1>, Step> (no gradients: the step's derivative is 0).
// Layer: train (includes nn, ad, core, kernel; never io).
#pragma once
#include <cstddef>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "ctnn/nn/layers.hpp"
#include "ctnn/nn/network.hpp"

namespace ctnn {

struct PerceptronResult {
  std::size_t epochs = 0;                  ///< epochs run (the last is the error-free one if converged)
  bool converged = false;                  ///< an epoch made zero errors
  std::vector<std::size_t> errors;         ///< misclassified samples per epoch
};

namespace train::detail {
template <class Net>
struct is_perceptron : std::false_type {};
template <class T, std::size_t In>
struct is_perceptron<Network<T, Dense<In, 1>, Step>> : std::true_type {};
}  // namespace train::detail

/// The perceptron rule, samples in the given order: o = H(w·x + b) by the network's own forward,
/// then w += η (t − o) x, b += η (t − o) on net.params() (W [1 x In] then b). X is N x In
/// row-major, targets holds N values 0 or 1. Stops after the first epoch without an error or
/// after max_epochs. (Converges in finitely many updates iff the data are linearly separable —
/// Novikoff's theorem; on XOR it never does.)
template <class Net>
PerceptronResult train_perceptron(Net& net, const typename Net::scalar* X, const typename Net::scalar* targets,
                                  std::size_t N, double eta, std::size_t max_epochs) {
  static_assert(train::detail::is_perceptron<Net>::value,
                "ctnn::train_perceptron needs a single step neuron: Network<T, Dense<In, 1>, Step>");
  using T = typename Net::scalar;
  constexpr std::size_t In = Net::inputs;
  for (std::size_t n = 0; n < N; ++n)
    if (targets[n] != T(0) && targets[n] != T(1))
      throw std::invalid_argument("ctnn::train_perceptron: targets must be 0 or 1");

  PerceptronResult r;
  r.errors.reserve(max_epochs);
  const auto p = net.params();
  T* const w = p.data() + Net::block_offset[0];
  T* const b = p.data() + Net::block_offset[1];
  while (r.epochs < max_epochs) {
    std::size_t errors = 0;
    for (std::size_t n = 0; n < N; ++n) {
      const T* x = X + n * In;
      T o{};
      net.template forward<1>(x, &o);
      const T d = targets[n] - o;  // −1, 0 or +1
      if (d == T(0)) continue;
      ++errors;
      const T step = static_cast<T>(eta * static_cast<double>(d));
      for (std::size_t i = 0; i < In; ++i) w[i] += step * x[i];
      *b += step;
    }
    ++r.epochs;
    r.errors.push_back(errors);
    if (errors == 0) {
      r.converged = true;
      break;
    }
  }
  return r;
}

}  // namespace ctnn
