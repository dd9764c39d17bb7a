// Expert baseline: hand-written Eigen 3.4 fixed-size MLPs (float32), used by bench_foundation.
//
// Conventions (shared with ctnn and bench/reference_mlp.hpp):
//   * W_l has shape [out, in], stored row-major; per sample z = W x + b.
//   * For a batch, X is [N, in] row-major (one sample per row) and Z = X Wᵀ + b.
//   * Flat parameter order: W1 (row-major), b1, W2 (row-major), b2.
//
// Models:
//   A: 4-5-1,      sigmoid hidden, sigmoid output, loss ½·Σ(ŷ−y)²          (one sample)
//   B: 64-32-10,   relu hidden, softmax output, cross-entropy from logits  (one sample)
//   C: 784-128-10, relu hidden, softmax output, cross-entropy, batch of 64, loss = mean over batch
//   D: 784-256-128-64-10, as C with three relu hidden layers (bench/peers)
//
// Nothing here allocates per call.  A and B live in plain fixed-size Eigen objects (stack-friendly);
// C's parameters and workspace are too large for fixed-size Eigen storage (Eigen caps fixed-size
// objects at 128 KiB), so they are held in structs of aligned arrays / fixed-size matrices that are
// allocated once on the heap (make_net_c / make_work_c) and viewed through compile-time-sized Maps.
#pragma once

#include "ctnn/core/config.hpp"  // before Eigen: works around g++ 12's AVX-512 intrinsics warnings
#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <memory>

namespace eigen_mlp {

template <int Rows, int Cols>
using RowMat = Eigen::Matrix<float, Rows, Cols, Eigen::RowMajor>;
template <int N>
using Vec = Eigen::Matrix<float, N, 1>;

// Fixed-size two-layer MLP parameters (A and B).
template <int In, int Hid, int Out>
struct Net {
  static constexpr int in = In, hid = Hid, out = Out;
  static constexpr std::size_t num_params = std::size_t(Hid) * In + Hid + std::size_t(Out) * Hid + Out;

  RowMat<Hid, In> W1;
  Vec<Hid> b1;
  RowMat<Out, Hid> W2;
  Vec<Out> b2;
};

using NetA = Net<4, 5, 1>;
using NetB = Net<64, 32, 10>;

// ---------------------------------------------------------------------------------------------
// A: 4-5-1, sigmoid / sigmoid, ½·Σ(ŷ−y)²
// ---------------------------------------------------------------------------------------------

inline void forward_a(const NetA& net, const Vec<4>& x, Vec<1>& yhat) {
  const Vec<5> h = (net.W1 * x + net.b1).array().logistic();
  yhat = (net.W2 * h + net.b2).array().logistic();
}

// One SGD step in place; returns the loss before the update.
inline float sgd_step_a(NetA& net, const Vec<4>& x, const Vec<1>& y, float lr) {
  const Vec<5> h = (net.W1 * x + net.b1).array().logistic();
  const Vec<1> yhat = (net.W2 * h + net.b2).array().logistic();
  const Vec<1> err = yhat - y;
  const float loss = 0.5f * err.squaredNorm();

  const Vec<1> d2 = err.array() * yhat.array() * (1.f - yhat.array());
  const Vec<5> d1 = (net.W2.transpose() * d2).array() * h.array() * (1.f - h.array());  // uses old W2

  net.W2.noalias() -= lr * d2 * h.transpose();
  net.b2.noalias() -= lr * d2;
  net.W1.noalias() -= lr * d1 * x.transpose();
  net.b1.noalias() -= lr * d1;
  return loss;
}

// ---------------------------------------------------------------------------------------------
// B: 64-32-10, relu / softmax, cross-entropy from logits
// ---------------------------------------------------------------------------------------------

inline void forward_b(const NetB& net, const Vec<64>& x, Vec<10>& probs) {
  const Vec<32> h = (net.W1 * x + net.b1).cwiseMax(0.f);
  const Vec<10> z = net.W2 * h + net.b2;
  probs = (z.array() - z.maxCoeff()).exp();
  probs /= probs.sum();
}

// One SGD step in place; returns the cross-entropy loss before the update.
inline float sgd_step_b(NetB& net, const Vec<64>& x, int label, float lr) {
  const Vec<32> h = (net.W1 * x + net.b1).cwiseMax(0.f);
  const Vec<10> z = net.W2 * h + net.b2;
  const float m = z.maxCoeff();
  Vec<10> dz = (z.array() - m).exp();  // unnormalised softmax
  const float s = dz.sum();
  const float loss = std::log(s) - (z[label] - m);

  dz /= s;          // probabilities
  dz[label] -= 1.f;  // dL/dz = p - onehot(label)
  const Vec<32> dh = (h.array() > 0.f).select(net.W2.transpose() * dz, 0.f);  // uses old W2

  net.W2.noalias() -= lr * dz * h.transpose();
  net.b2.noalias() -= lr * dz;
  net.W1.noalias() -= lr * dh * x.transpose();
  net.b1.noalias() -= lr * dh;
  return loss;
}

// ---------------------------------------------------------------------------------------------
// C: 784-128-10, relu / softmax, cross-entropy, mini-batch of 64 (loss = batch mean)
// ---------------------------------------------------------------------------------------------

namespace c {
inline constexpr int N = 64, In = 784, Hid = 128, Out = 10;
}

// Parameters: aligned flat arrays, viewed as compile-time-sized Eigen maps.
struct NetC {
  static constexpr int in = c::In, hid = c::Hid, out = c::Out;
  static constexpr std::size_t num_params = std::size_t(c::Hid) * c::In + c::Hid + std::size_t(c::Out) * c::Hid + c::Out;

  using W1Map = Eigen::Map<RowMat<c::Hid, c::In>, Eigen::Aligned64>;
  using B1Map = Eigen::Map<Vec<c::Hid>, Eigen::Aligned64>;
  using W2Map = Eigen::Map<RowMat<c::Out, c::Hid>, Eigen::Aligned64>;
  using B2Map = Eigen::Map<Vec<c::Out>, Eigen::Aligned64>;
  using W1CMap = Eigen::Map<const RowMat<c::Hid, c::In>, Eigen::Aligned64>;
  using B1CMap = Eigen::Map<const Vec<c::Hid>, Eigen::Aligned64>;
  using W2CMap = Eigen::Map<const RowMat<c::Out, c::Hid>, Eigen::Aligned64>;
  using B2CMap = Eigen::Map<const Vec<c::Out>, Eigen::Aligned64>;

  alignas(64) float w1[c::Hid * c::In];
  alignas(64) float b1_[c::Hid];
  alignas(64) float w2[c::Out * c::Hid];
  alignas(64) float b2_[c::Out];

  W1Map W1() { return W1Map(w1); }
  B1Map b1() { return B1Map(b1_); }
  W2Map W2() { return W2Map(w2); }
  B2Map b2() { return B2Map(b2_); }
  W1CMap W1() const { return W1CMap(w1); }
  B1CMap b1() const { return B1CMap(b1_); }
  W2CMap W2() const { return W2CMap(w2); }
  B2CMap b2() const { return B2CMap(b2_); }
};

// Batch input view: N x In, row-major. No alignment requirement (GEMM packs it anyway).
using InputC = Eigen::Map<const RowMat<c::N, c::In>>;
// Output probabilities: N x Out, row-major (one sample per row).
using ProbsC = RowMat<c::N, c::Out>;

// Intermediates for the batched forward/backward pass (allocated once, reused every call).
struct WorkC {
  RowMat<c::N, c::Hid> H;   // relu activations (H > 0 doubles as the relu mask)
  RowMat<c::N, c::Hid> dH;  // gradient w.r.t. hidden pre-activations
  RowMat<c::N, c::Out> Z2;  // logits
  RowMat<c::N, c::Out> dZ;  // softmax probabilities, then p - onehot
  Vec<c::N> rowmax;
  Vec<c::N> rowsum;
};

inline std::unique_ptr<NetC> make_net_c() { return std::make_unique<NetC>(); }
inline std::unique_ptr<WorkC> make_work_c() { return std::make_unique<WorkC>(); }

namespace detail {
// Hidden layer + logits: ws.H = relu(X W1ᵀ + b1), ws.Z2 = H W2ᵀ + b2.
inline void logits_c(const NetC& net, const InputC& X, WorkC& ws) {
  ws.H.noalias() = X * net.W1().transpose();
  ws.H = (ws.H.rowwise() + net.b1().transpose()).cwiseMax(0.f);
  ws.Z2.noalias() = ws.H * net.W2().transpose();
  ws.Z2.rowwise() += net.b2().transpose();
}
}  // namespace detail

// probs: N x Out row-major softmax probabilities. X: N*In floats, row-major.
inline void forward_c(const NetC& net, const float* X, ProbsC& probs, WorkC& ws) {
  detail::logits_c(net, InputC(X), ws);
  ws.rowmax = ws.Z2.rowwise().maxCoeff();
  probs = (ws.Z2.colwise() - ws.rowmax).array().exp();
  ws.rowsum = probs.rowwise().sum();
  probs.array().colwise() /= ws.rowsum.array();
}

// One SGD step in place on the batch mean loss; returns the loss before the update.
// X: N*In floats row-major, labels: N ints in [0, Out).
inline float sgd_step_c(NetC& net, const float* X, const int* labels, float lr, WorkC& ws) {
  const InputC x(X);
  detail::logits_c(net, x, ws);

  ws.rowmax = ws.Z2.rowwise().maxCoeff();
  ws.dZ = (ws.Z2.colwise() - ws.rowmax).array().exp();
  ws.rowsum = ws.dZ.rowwise().sum();
  float loss = 0.f;
  for (int i = 0; i < c::N; ++i) loss += std::log(ws.rowsum[i]) - (ws.Z2(i, labels[i]) - ws.rowmax[i]);
  loss /= float(c::N);

  ws.dZ.array().colwise() /= ws.rowsum.array();          // probabilities
  for (int i = 0; i < c::N; ++i) ws.dZ(i, labels[i]) -= 1.f;  // p - onehot (1/N folded into the step size)

  ws.dH.noalias() = ws.dZ * net.W2();  // uses old W2
  ws.dH = (ws.H.array() > 0.f).select(ws.dH, 0.f);

  const float s = lr / float(c::N);
  auto W1 = net.W1();
  auto W2 = net.W2();
  W2.noalias() -= s * ws.dZ.transpose() * ws.H;
  net.b2().noalias() -= s * ws.dZ.colwise().sum().transpose();
  W1.noalias() -= s * ws.dH.transpose() * x;
  net.b1().noalias() -= s * ws.dH.colwise().sum().transpose();
  return loss;
}

// ---------------------------------------------------------------------------------------------
// D: 784-256-128-64-10, relu / relu / relu / softmax, cross-entropy, mini-batch of 64 (batch mean)
// Same structure as C with two more hidden layers (used by bench/peers).
// ---------------------------------------------------------------------------------------------

namespace d {
inline constexpr int N = 64, In = 784, H1 = 256, H2 = 128, H3 = 64, Out = 10;
}

// One layer's parameters as aligned arrays viewed through compile-time-sized maps.
template <int In, int Out>
struct DenseC {
  alignas(64) float w[Out * In];
  alignas(64) float b[Out];
  Eigen::Map<RowMat<Out, In>, Eigen::Aligned64> W() { return Eigen::Map<RowMat<Out, In>, Eigen::Aligned64>(w); }
  Eigen::Map<const RowMat<Out, In>, Eigen::Aligned64> W() const {
    return Eigen::Map<const RowMat<Out, In>, Eigen::Aligned64>(w);
  }
  Eigen::Map<Vec<Out>, Eigen::Aligned64> bias() { return Eigen::Map<Vec<Out>, Eigen::Aligned64>(b); }
  Eigen::Map<const Vec<Out>, Eigen::Aligned64> bias() const { return Eigen::Map<const Vec<Out>, Eigen::Aligned64>(b); }
};

struct NetD {
  static constexpr std::size_t num_params = std::size_t(d::H1) * (d::In + 1) + std::size_t(d::H2) * (d::H1 + 1) +
                                            std::size_t(d::H3) * (d::H2 + 1) + std::size_t(d::Out) * (d::H3 + 1);
  DenseC<d::In, d::H1> l1;
  DenseC<d::H1, d::H2> l2;
  DenseC<d::H2, d::H3> l3;
  DenseC<d::H3, d::Out> l4;
};

using InputD = Eigen::Map<const RowMat<d::N, d::In>>;
using ProbsD = RowMat<d::N, d::Out>;

struct WorkD {
  RowMat<d::N, d::H1> H1, dH1;
  RowMat<d::N, d::H2> H2, dH2;
  RowMat<d::N, d::H3> H3, dH3;
  RowMat<d::N, d::Out> Z, dZ;
  Vec<d::N> rowmax, rowsum;
};

inline std::unique_ptr<NetD> make_net_d() { return std::make_unique<NetD>(); }
inline std::unique_ptr<WorkD> make_work_d() { return std::make_unique<WorkD>(); }

namespace detail {
// H = relu(X Wᵀ + b) for one hidden layer.
template <class X, class H, int In, int Out>
void relu_layer(const X& x, const DenseC<In, Out>& l, H& h) {
  h.noalias() = x * l.W().transpose();
  h = (h.rowwise() + l.bias().transpose()).cwiseMax(0.f);
}
inline void logits_d(const NetD& net, const InputD& X, WorkD& ws) {
  relu_layer(X, net.l1, ws.H1);
  relu_layer(ws.H1, net.l2, ws.H2);
  relu_layer(ws.H2, net.l3, ws.H3);
  ws.Z.noalias() = ws.H3 * net.l4.W().transpose();
  ws.Z.rowwise() += net.l4.bias().transpose();
}
// Backward through a layer whose output gradient is dY (N x Out) and input activations A (N x In):
// dA = (dY W) masked by relu(A) > 0 (computed with the old W), then W −= s dYᵀ A, b −= s Σ_rows dY.
template <class DY, class A, class DA, int In, int Out>
void backward_relu_input(const DY& dY, const A& a, DenseC<In, Out>& l, DA& dA, float s) {
  dA.noalias() = dY * l.W();
  dA = (a.array() > 0.f).select(dA, 0.f);
  l.W().noalias() -= s * dY.transpose() * a;
  l.bias().noalias() -= s * dY.colwise().sum().transpose();
}
}  // namespace detail

inline void forward_d(const NetD& net, const float* X, ProbsD& probs, WorkD& ws) {
  detail::logits_d(net, InputD(X), ws);
  ws.rowmax = ws.Z.rowwise().maxCoeff();
  probs = (ws.Z.colwise() - ws.rowmax).array().exp();
  ws.rowsum = probs.rowwise().sum();
  probs.array().colwise() /= ws.rowsum.array();
}

// One SGD step in place on the batch mean loss; returns the loss before the update.
inline float sgd_step_d(NetD& net, const float* X, const int* labels, float lr, WorkD& ws) {
  const InputD x(X);
  detail::logits_d(net, x, ws);
  ws.rowmax = ws.Z.rowwise().maxCoeff();
  ws.dZ = (ws.Z.colwise() - ws.rowmax).array().exp();
  ws.rowsum = ws.dZ.rowwise().sum();
  float loss = 0.f;
  for (int i = 0; i < d::N; ++i) loss += std::log(ws.rowsum[i]) - (ws.Z(i, labels[i]) - ws.rowmax[i]);
  loss /= float(d::N);
  ws.dZ.array().colwise() /= ws.rowsum.array();
  for (int i = 0; i < d::N; ++i) ws.dZ(i, labels[i]) -= 1.f;

  const float s = lr / float(d::N);
  detail::backward_relu_input(ws.dZ, ws.H3, net.l4, ws.dH3, s);
  detail::backward_relu_input(ws.dH3, ws.H2, net.l3, ws.dH2, s);
  detail::backward_relu_input(ws.dH2, ws.H1, net.l2, ws.dH1, s);
  net.l1.W().noalias() -= s * ws.dH1.transpose() * x;
  net.l1.bias().noalias() -= s * ws.dH1.colwise().sum().transpose();
  return loss;
}

// ---------------------------------------------------------------------------------------------
// Flat-parameter I/O (order W1 row-major, b1, W2 row-major, b2), e.g. to share weights with the
// double reference or with ctnn. T is float or double.
// ---------------------------------------------------------------------------------------------

namespace detail {
template <class M, class T>
const T* load_block(M&& m, const T* p) {
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index col = 0; col < m.cols(); ++col) m(r, col) = static_cast<float>(*p++);
  return p;
}
template <class M, class T>
T* store_block(const M& m, T* p) {
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index col = 0; col < m.cols(); ++col) *p++ = static_cast<T>(m(r, col));
  return p;
}
}  // namespace detail

template <int In, int Hid, int Out, class T>
void load_flat(Net<In, Hid, Out>& net, const T* p) {
  p = detail::load_block(net.W1, p);
  p = detail::load_block(net.b1, p);
  p = detail::load_block(net.W2, p);
  detail::load_block(net.b2, p);
}
template <int In, int Hid, int Out, class T>
void store_flat(const Net<In, Hid, Out>& net, T* p) {
  p = detail::store_block(net.W1, p);
  p = detail::store_block(net.b1, p);
  p = detail::store_block(net.W2, p);
  detail::store_block(net.b2, p);
}
template <class T>
void load_flat(NetC& net, const T* p) {
  p = detail::load_block(net.W1(), p);
  p = detail::load_block(net.b1(), p);
  p = detail::load_block(net.W2(), p);
  detail::load_block(net.b2(), p);
}
template <class T>
void store_flat(const NetC& net, T* p) {
  p = detail::store_block(net.W1(), p);
  p = detail::store_block(net.b1(), p);
  p = detail::store_block(net.W2(), p);
  detail::store_block(net.b2(), p);
}

template <class T>
void load_flat(NetD& net, const T* p) {
  p = detail::load_block(net.l1.W(), p);
  p = detail::load_block(net.l1.bias(), p);
  p = detail::load_block(net.l2.W(), p);
  p = detail::load_block(net.l2.bias(), p);
  p = detail::load_block(net.l3.W(), p);
  p = detail::load_block(net.l3.bias(), p);
  p = detail::load_block(net.l4.W(), p);
  detail::load_block(net.l4.bias(), p);
}
template <class T>
void store_flat(const NetD& net, T* p) {
  p = detail::store_block(net.l1.W(), p);
  p = detail::store_block(net.l1.bias(), p);
  p = detail::store_block(net.l2.W(), p);
  p = detail::store_block(net.l2.bias(), p);
  p = detail::store_block(net.l3.W(), p);
  p = detail::store_block(net.l3.bias(), p);
  p = detail::store_block(net.l4.W(), p);
  detail::store_block(net.l4.bias(), p);
}

}  // namespace eigen_mlp
