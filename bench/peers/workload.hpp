// bench/peers: the four workloads of the peers benchmark, their shared data and a double-precision
// reference (the correctness oracle every peer is checked against before it is timed).
//
//   A  4-5-1                sigmoid hidden + sigmoid output, ½·Σ(ŷ−y)², one sample
//   B  64-32-10             relu hidden, softmax output, cross-entropy, one sample
//   C  784-128-10           relu hidden, softmax output, cross-entropy, mini-batch of 64 (mean loss)
//   D  784-256-128-64-10    as C, three hidden layers
//
// Conventions (shared with ctnn, bench/eigen_mlp.hpp and bench/reference_mlp.hpp): W_l is [out, in]
// row-major, inputs are [batch, in] row-major, flat parameter order W1, b1, W2, b2, ...; a batch's
// loss is the mean of its per-sample losses. "forward" returns the output activations (sigmoid
// outputs or softmax probabilities); a "step" is one SGD step θ −= lr·∇θ on that batch.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

namespace peers {

enum class Hidden { sigmoid, relu };
enum class Output { sigmoid_half_sse, softmax_ce };

struct Workload {
  std::string name;                // "A" ... "D"
  std::vector<std::size_t> sizes;  // layer widths, input first
  Hidden hidden;
  Output output;
  std::size_t batch;

  std::size_t layers() const { return sizes.size() - 1; }
  std::size_t in() const { return sizes.front(); }
  std::size_t out() const { return sizes.back(); }
  std::size_t num_params() const {
    std::size_t n = 0;
    for (std::size_t l = 0; l < layers(); ++l) n += sizes[l + 1] * sizes[l] + sizes[l + 1];
    return n;
  }
  std::string shape() const {
    std::string s;
    for (auto w : sizes) {
      if (!s.empty()) s.push_back('-');
      s.append(std::to_string(w));
    }
    return s;
  }
  // Multiply-add FLOPs (2 per multiply-add) of the matrix products, biases and activations ignored:
  // forward 2·B·Σ in·out; a step adds the weight gradients (same count) and the input gradients of
  // every layer but the first.
  double flops_forward() const {
    double f = 0;
    for (std::size_t l = 0; l < layers(); ++l) f += 2.0 * double(batch) * double(sizes[l] * sizes[l + 1]);
    return f;
  }
  double flops_step() const {
    double f = 2 * flops_forward();
    for (std::size_t l = 1; l < layers(); ++l) f += 2.0 * double(batch) * double(sizes[l] * sizes[l + 1]);
    return f;
  }
};

inline const std::vector<Workload>& workloads() {
  static const std::vector<Workload> w{
      {"A", {4, 5, 1}, Hidden::sigmoid, Output::sigmoid_half_sse, 1},
      {"B", {64, 32, 10}, Hidden::relu, Output::softmax_ce, 1},
      {"C", {784, 128, 10}, Hidden::relu, Output::softmax_ce, 64},
      {"D", {784, 256, 128, 64, 10}, Hidden::relu, Output::softmax_ce, 64},
  };
  return w;
}

// Problem data of one workload. Every value is rounded to float first, so float peers and the double
// reference start from bit-identical numbers.
struct Data {
  std::vector<double> params;  // flat, see above
  std::vector<double> x;       // batch x in
  std::vector<double> y;       // batch x out: targets (A) or one-hot rows of `labels` (B, C, D)
  std::vector<int> labels;     // batch (B, C, D)
  std::vector<float> xf, yf;   // float copies of x and y
};

// Weights and biases: uniform(-0.5, 0.5)/sqrt(fan_in); inputs uniform(-0.5, 0.5); A's target
// uniform(0, 1); labels uniform over the classes. std::mt19937 seeded per workload.
inline Data make_data(const Workload& w) {
  std::mt19937 rng(42u + static_cast<unsigned>(w.name[0]));
  std::uniform_real_distribution<double> u(-0.5, 0.5), u01(0.0, 1.0);
  auto rounded = [](double v) { return double(float(v)); };
  Data d;
  for (std::size_t l = 0; l < w.layers(); ++l) {
    const double s = 1.0 / std::sqrt(double(w.sizes[l]));
    for (std::size_t q = 0; q < w.sizes[l + 1] * (w.sizes[l] + 1); ++q) d.params.push_back(rounded(u(rng) * s));
  }
  d.x.resize(w.batch * w.in());
  for (auto& v : d.x) v = rounded(u(rng));
  d.y.assign(w.batch * w.out(), 0.0);
  if (w.output == Output::sigmoid_half_sse) {
    for (auto& v : d.y) v = rounded(u01(rng));
  } else {
    std::uniform_int_distribution<int> cls(0, int(w.out()) - 1);
    for (std::size_t n = 0; n < w.batch; ++n) {
      d.labels.push_back(cls(rng));
      d.y[n * w.out() + std::size_t(d.labels.back())] = 1.0;
    }
  }
  d.xf.assign(d.x.begin(), d.x.end());
  d.yf.assign(d.y.begin(), d.y.end());
  return d;
}

// ---------------------------------------------------------------------------------------------
// Double-precision reference: straightforward loops, one sample at a time.
// ---------------------------------------------------------------------------------------------
namespace reference {

// Activations of every layer for one sample: a[0] = x, a[L] = output; z[l] pre-activations.
struct Pass {
  std::vector<std::vector<double>> a, z;
};

inline Pass forward_sample(const Workload& w, const std::vector<double>& p, const double* x) {
  Pass s;
  s.a.emplace_back(x, x + w.in());
  std::size_t off = 0;
  for (std::size_t l = 0; l < w.layers(); ++l) {
    const std::size_t in = w.sizes[l], out = w.sizes[l + 1];
    std::vector<double> z(out), a(out);
    for (std::size_t o = 0; o < out; ++o) {
      double acc = p[off + out * in + o];
      for (std::size_t i = 0; i < in; ++i) acc += p[off + o * in + i] * s.a[l][i];
      z[o] = acc;
    }
    off += out * in + out;
    const bool last = l + 1 == w.layers();
    if (!last || w.output == Output::sigmoid_half_sse) {
      const bool sig = last || w.hidden == Hidden::sigmoid;
      for (std::size_t o = 0; o < out; ++o) a[o] = sig ? 1.0 / (1.0 + std::exp(-z[o])) : std::max(z[o], 0.0);
    } else {
      const double m = *std::max_element(z.begin(), z.end());
      double sum = 0;
      for (std::size_t o = 0; o < out; ++o) sum += (a[o] = std::exp(z[o] - m));
      for (auto& v : a) v /= sum;
    }
    s.z.push_back(std::move(z));
    s.a.push_back(std::move(a));
  }
  return s;
}

// Output activations, batch x out.
inline std::vector<double> forward(const Workload& w, const Data& d) {
  std::vector<double> out;
  for (std::size_t n = 0; n < w.batch; ++n) {
    const Pass s = forward_sample(w, d.params, d.x.data() + n * w.in());
    out.insert(out.end(), s.a.back().begin(), s.a.back().end());
  }
  return out;
}

// One SGD step from d.params with step size lr; writes the new parameters into `params` and
// returns the loss before the update.
inline double sgd_step(const Workload& w, const Data& d, double lr, std::vector<double>& params) {
  params = d.params;
  std::vector<double> grad(params.size(), 0.0);
  double loss = 0;
  for (std::size_t n = 0; n < w.batch; ++n) {
    const Pass s = forward_sample(w, d.params, d.x.data() + n * w.in());
    const double* t = d.y.data() + n * w.out();
    const std::vector<double>& y = s.a.back();
    std::vector<double> delta(w.out());  // dLoss/dz of the current layer
    for (std::size_t k = 0; k < w.out(); ++k) {
      if (w.output == Output::sigmoid_half_sse) {
        loss += 0.5 * (y[k] - t[k]) * (y[k] - t[k]);
        delta[k] = (y[k] - t[k]) * y[k] * (1.0 - y[k]);
      } else {
        if (t[k] == 1.0) loss -= std::log(y[k]);
        delta[k] = y[k] - t[k];
      }
    }
    std::size_t off = params.size();
    for (std::size_t l = w.layers(); l-- > 0;) {
      const std::size_t in = w.sizes[l], out = w.sizes[l + 1];
      off -= out * in + out;
      std::vector<double> prev(in, 0.0);
      for (std::size_t o = 0; o < out; ++o) {
        for (std::size_t i = 0; i < in; ++i) {
          grad[off + o * in + i] += delta[o] * s.a[l][i];
          prev[i] += d.params[off + o * in + i] * delta[o];
        }
        grad[off + out * in + o] += delta[o];
      }
      if (l == 0) break;
      for (std::size_t i = 0; i < in; ++i) {
        const double a = s.a[l][i];
        prev[i] *= w.hidden == Hidden::sigmoid ? a * (1.0 - a) : (s.z[l - 1][i] > 0 ? 1.0 : 0.0);
      }
      delta = std::move(prev);
    }
  }
  const double inv = 1.0 / double(w.batch);
  for (std::size_t q = 0; q < params.size(); ++q) params[q] -= lr * grad[q] * inv;
  return loss * inv;
}

}  // namespace reference
}  // namespace peers
