// tests/runtime/test_runtime_network.cpp: the runtime network beyond the reference cases: the
// 64-32-10 benchmark workload (ReLU, softmax cross-entropy; batch 1 and 16 in double, 1, 5 and 16
// in float) gives the static tape's outputs, loss and gradients bit for bit; initialisation from a seed gives
// ctnn::Network's parameters; descriptions are parsed from JSON text with errors that name the
// offending key, and a bad description loads nothing; a loss object with a key it does not take or
// a number out of range is refused; graphs are kept per batch size and evicted ones re-recorded
// correctly. RuntimeJacobian and RuntimeHvp follow their network when it is
// assigned another (new buffers, another topology): the results of fresh ones, and central
// differences.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/nn/runtime_hvp.hpp"
#include "ctnn/nn/runtime_jacobian.hpp"
#include "ctnn/nn/runtime_network.hpp"
#include "gradcheck.hpp"

namespace {

template <class T>
using Static = ctnn::Network<T, ctnn::Dense<64, 32>, ctnn::ReLU, ctnn::Dense<32, 10>, ctnn::Identity>;

template <class T, std::size_t B>
void same_as_static() {
  INFO("64-32-10 relu/softmax-CE, batch " << B << ", " << (sizeof(T) == 8 ? "double" : "float"));
  Static<T> net(42);
  ctnn::RuntimeNetwork<T> rn({64, 32, 10}, {"relu", "identity"}, 0.01, 42);
  REQUIRE(rn.num_params() == Static<T>::num_params);
  // Same seed, same initialisation (He before ReLU, Xavier otherwise), same flat layout.
  CHECK(std::vector<T>(rn.params().begin(), rn.params().end()) ==
        std::vector<T>(net.params().begin(), net.params().end()));

  ctnn::Random rng(7);
  std::vector<T> x(B * 64), y(B * 10, T(0)), dxs(B * 64), dxr(B * 64, T(-1)), out_s(B * 10), out_r(B * 10);
  for (T& v : x) v = static_cast<T>(rng.uniform(-1, 1));
  for (std::size_t n = 0; n < B; ++n) y[n * 10 + rng.below(10)] = T(1);

  net.template forward<B>(x.data(), out_s.data());
  rn.forward(B, x.data(), out_r.data());
  CHECK(out_r == out_s);
  const auto loss = ctnn::RuntimeLoss::named("softmax_cross_entropy");
  const T ls = net.template gradient<B>(ctnn::loss::softmax_cross_entropy, x.data(), y.data(), dxs.data());
  const T lr = rn.gradient(loss, B, x.data(), y.data(), dxr.data());
  CHECK(lr == ls);
  CHECK(std::vector<T>(rn.grads().begin(), rn.grads().end()) ==
        std::vector<T>(net.grads().begin(), net.grads().end()));
  CHECK(dxr == dxs);
}

}  // namespace

TEST_CASE("runtime network = static network on 64-32-10 relu / softmax cross-entropy") {
  same_as_static<double, 1>();
  same_as_static<double, 16>();
}

// Float too: the runtime tape's products call kernel/'s float tiles under kernel::gemm_nt's rules
// (batch 1: the first layer on 512-bit tiles on AVX-512, the second one row at a time; batch 16 and
// 5: the first on 512-bit tiles, the second on the 3 x 4 register-blocked ones, with remainders).
TEST_CASE("runtime network = static network in float, bit for bit") {
  same_as_static<float, 1>();
  same_as_static<float, 5>();
  same_as_static<float, 16>();
}

TEST_CASE("runtime network in float agrees with double to float precision") {
  ctnn::RuntimeNetwork<double> nd({5, 9, 3}, {"tanh", "softmax"}, 0.01, 11);
  ctnn::RuntimeNetwork<float> nf({5, 9, 3}, {"tanh", "softmax"}, 0.01, 11);
  for (std::size_t i = 0; i < nd.num_params(); ++i) nf.params()[i] = static_cast<float>(nd.params()[i]);
  std::vector<double> xd(4 * 5), yd(4 * 3, 0.0);
  ctnn::Random rng(5);
  for (double& v : xd) v = static_cast<float>(rng.uniform(-1, 1));  // representable in float
  for (std::size_t n = 0; n < 4; ++n) yd[n * 3 + n % 3] = 1;
  const std::vector<float> xf(xd.begin(), xd.end()), yf(yd.begin(), yd.end());
  const auto ce = ctnn::RuntimeLoss::named("ce_prob");
  const double ld = nd.gradient(ce, 4, xd.data(), yd.data());
  const float lf = nf.gradient(ce, 4, xf.data(), yf.data());
  CHECK(lf == doctest::Approx(ld).epsilon(1e-5));
  double gmax = 0;
  for (double g : nd.grads()) gmax = std::max(gmax, std::abs(g));
  for (std::size_t i = 0; i < nd.num_params(); ++i) {
    INFO("parameter " << i);
    CHECK(std::abs(nf.grads()[i] - nd.grads()[i]) <= 1e-5 * gmax);
  }
}

TEST_CASE("runtime network: batch size and loss may change between calls") {
  ctnn::RuntimeNetwork<double> rn({3, 4, 2}, {"tanh", "sigmoid"}, 0.01, 3);
  std::vector<double> x{0.1, -0.2, 0.3, 0.5, 0.4, -0.6}, y{1, 0, 0, 1};
  const auto mse = ctnn::RuntimeLoss::named("mse_mean");
  const double l2 = rn.gradient(mse, 2, x.data(), y.data());
  const double l1 = rn.gradient(mse, 1, x.data(), y.data());  // the first sample alone
  CHECK(l1 == doctest::Approx(rn.loss(mse, 1, x.data(), y.data())));
  CHECK(rn.gradient(mse, 2, x.data(), y.data()) == l2);
  auto bce = ctnn::RuntimeLoss::named("bce_prob");
  bce.l2_lambda = 0.5;
  const double lb = rn.gradient(bce, 2, x.data(), y.data());
  double penalty = 0;
  for (std::size_t k : {std::size_t{0}, std::size_t{2}})
    for (std::size_t i = rn.block_offset(k); i < rn.block_offset(k + 1); ++i) penalty += rn.params()[i] * rn.params()[i];
  bce.l2_lambda = 0;
  CHECK(lb == doctest::Approx(rn.loss(bce, 2, x.data(), y.data()) + 0.25 * penalty).epsilon(1e-14));
}

TEST_CASE("runtime network: a graph per batch size; beyond the kept ones results stay a fresh network's") {
  // The network keeps 4 training graphs and 16 forward graphs (plus the one in use): cycling
  // through more batch sizes evicts and re-records, and every result must still be a fresh
  // network's (a copy starts without graphs).
  ctnn::RuntimeNetwork<double> rn({3, 6, 2}, {"tanh", "identity"}, 0.01, 5);
  std::vector<double> x(3 * 24), y(2 * 24, 0.0);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.7 * static_cast<double>(i));
  for (std::size_t n = 0; n < 24; ++n) y[2 * n + n % 2] = 1;
  const auto ce = ctnn::RuntimeLoss::named("softmax_ce_logits");
  for (int round = 0; round < 2; ++round)
    for (std::size_t b = 1; b <= 6; ++b) {  // 6 training batch sizes > 4 kept
      INFO("round " << round << ", training batch " << b);
      ctnn::RuntimeNetwork<double> fresh = rn;
      CHECK(rn.gradient(ce, b, x.data(), y.data()) == fresh.gradient(ce, b, x.data(), y.data()));
      CHECK(std::equal(rn.grads().begin(), rn.grads().end(), fresh.grads().begin()));
    }
  for (int round = 0; round < 2; ++round)
    for (std::size_t b = 1; b <= 20; ++b) {  // 20 forward batch sizes > 17 kept
      INFO("round " << round << ", forward batch " << b);
      const ctnn::RuntimeNetwork<double> fresh = rn;
      std::vector<double> o(2 * b), of(2 * b);
      rn.forward(b, x.data(), o.data());
      fresh.forward(b, x.data(), of.data());
      CHECK(o == of);
    }
  // The span form: the pointer form's outputs; sizes checked, nothing written on a refusal.
  {
    std::vector<double> o(2 * 3, 0.0), op(2 * 3);
    rn.forward(std::span<const double>(x.data(), 9), o);
    rn.forward(3, x.data(), op.data());
    CHECK(o == op);
    std::vector<double> y5(5, -7.0);
    CHECK_THROWS_WITH_AS(rn.forward(std::span<const double>(x.data(), 9), std::span<double>(y5)),
                         "ctnn RuntimeNetwork::forward: y holds 5 values; 3 rows need 6 (2 outputs each)",
                         std::invalid_argument);
    CHECK(y5 == std::vector<double>(5, -7.0));
    CHECK_THROWS_WITH_AS(rn.forward(std::span<const double>(x.data(), 8), std::span<double>(o)),
                         "ctnn RuntimeNetwork::forward: x holds 8 values, not a whole, non-zero number of rows of 3 "
                         "inputs", std::invalid_argument);
  }
  // Assignment drops the graphs (they read the old buffers): the outputs are the new network's.
  const ctnn::RuntimeNetwork<double> other({3, 6, 2}, {"tanh", "identity"}, 0.01, 6);
  std::vector<double> o(4), oo(4);
  rn.forward(2, x.data(), o.data());
  rn.forward(1, x.data(), o.data());  // one graph in use last, another in the pool
  rn = other;
  rn.forward(2, x.data(), o.data());
  other.forward(2, x.data(), oo.data());
  CHECK(o == oo);
  CHECK(rn.loss(ce, 2, x.data(), y.data()) == ctnn::RuntimeNetwork<double>(other).loss(ce, 2, x.data(), y.data()));
}

TEST_CASE("runtime network: gradient_and_output and loss_and_output give forward's outputs with the loss") {
  ctnn::RuntimeNetwork<double> rn({3, 5, 2}, {"relu", "identity"}, 0.01, 8);
  std::vector<double> x{0.1, -0.2, 0.3, 0.5, 0.4, -0.6, -1.0, 0.7, 0.2}, y{1, 0, 0, 1, 1, 0};
  const auto ce = ctnn::RuntimeLoss::named("softmax_ce_logits");
  std::vector<double> fwd(6), a(6, -1.0), b(6, -1.0);
  rn.forward(3, x.data(), fwd.data());
  const double l = rn.loss(ce, 3, x.data(), y.data());
  CHECK(rn.loss_and_output(ce, 3, x.data(), y.data(), b.data()) == l);
  CHECK(b == fwd);
  const double lg = rn.gradient_and_output(ce, 3, x.data(), y.data(), a.data());
  CHECK(lg == l);
  CHECK(a == fwd);
  const std::vector<double> g(rn.grads().begin(), rn.grads().end());
  rn.gradient(ce, 3, x.data(), y.data());
  CHECK(std::equal(g.begin(), g.end(), rn.grads().begin()));  // the same gradient as gradient()
  std::vector<double> one(2);  // another batch size: the outputs of that batch
  rn.loss_and_output(ce, 1, x.data() + 3, y.data() + 2, one.data());
  CHECK(one[0] == doctest::Approx(fwd[2]).epsilon(1e-14));
  CHECK(one[1] == doctest::Approx(fwd[3]).epsilon(1e-14));
}

TEST_CASE("runtime network from a JSON description") {
  const auto net = ctnn::RuntimeNetwork<double>::parse(R"({
    "layer_sizes": [2, 3, 1], "activations": ["leaky_relu", "sigmoid"], "leaky_relu_negative_slope": 0.2,
    "layers": [{"W": [[1, 2], [3, 4], [5, 6]], "b": [0.1, 0.2, 0.3]}, {"W": [[7, 8, 9]], "b": [-1]}]})");
  CHECK(net.inputs() == 2);
  CHECK(net.outputs() == 1);
  CHECK(net.num_params() == 13);
  CHECK(std::vector<double>(net.params().begin(), net.params().end()) ==
        std::vector<double>{1, 2, 3, 4, 5, 6, 0.1, 0.2, 0.3, 7, 8, 9, -1});
  auto copy = net;
  const std::vector<double> x{1.0, -1.0};  // z1 = [-0.9, -0.8, -0.7] → leaky 0.2 → σ(7·-0.18 + 8·-0.16 + 9·-0.14 - 1)
  double out = 0;
  copy.forward(1, x.data(), &out);
  const double z2 = 7 * -0.18 + 8 * -0.16 + 9 * -0.14 - 1;
  CHECK(out == doctest::Approx(1 / (1 + std::exp(-z2))).epsilon(1e-15));
}

TEST_CASE("runtime network: a bad description names the place and loads nothing") {
  using Net = ctnn::RuntimeNetwork<double>;
  auto fails_with = [](const char* text, const char* message) {
    INFO(text);
    CHECK_THROWS_WITH_AS(Net::parse(text, "net.json"), message, std::invalid_argument);
  };
  fails_with(R"({"layer_sizes": [2, 0, 1], "activations": ["relu", "relu"]})",
             "net.json.layer_sizes[1]: expected a positive integer");
  fails_with(R"({"layer_sizes": [2, 3, 1], "activations": ["relu", "swish"]})",
             "net.json.activations[1]: unknown activation \"swish\" (identity, sigmoid, tanh, relu, leaky_relu, "
             "softplus, silu, gelu, step, softmax)");
  fails_with(R"({"layer_sizes": [2, 3, 1], "activations": ["relu"]})",
             "net.json.activations: 3 layer sizes need 2 activations, got 1");
  fails_with(R"({"activations": ["relu"]})", "net.json.layer_sizes: missing or not a list");
  fails_with(R"({"layer_sizes": [2, 1], "activations": ["relu"], "layers": [{"W": [[1, 2]], "b": ["x"]}]})",
             "net.json.layers[0].b[0]: expected a number");
  fails_with(R"({"layer_sizes": [2, 1], "activations": ["relu"], "layers": [{"W": [[1, 2, 3]], "b": [0]}]})",
             "net.json.layers[0].W[0]: expected 2 numbers");
  fails_with(R"({"layer_sizes": [2, 1], "activations": ["relu"], "param_count": 4})",
             "net.json.param_count: the sizes give 3 parameters");
  CHECK_THROWS_AS(Net::parse("{\"layer_sizes\": [2, 1], ", "net.json"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(Net::from_file("/nonexistent/net.json"), "/nonexistent/net.json: cannot open",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(ctnn::RuntimeLoss::named("hinge", "loss.type"),
                       "loss.type: unknown loss \"hinge\" (mse_half_sum, mse_mean, bce_prob, bce_logits, "
                       "softmax_ce_logits, softmax_cross_entropy, ce_prob, cross_entropy, "
                       "softmax_ce_logits_weighted_pytorch, softmax_ce_logits_weighted_plain_mean, huber)",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(ctnn::RuntimeLoss::from_json(nlohmann::json::parse(R"({"type": "softmax_ce_logits_weighted_pytorch"})"),
                                                    "case.loss"),
                       "case.loss.class_weights: required by softmax_ce_logits_weighted_pytorch", std::invalid_argument);
  // A weighted loss with the wrong number of class weights is refused before anything runs.
  Net net({2, 3}, {"identity"});
  auto w = ctnn::RuntimeLoss::named("softmax_ce_logits_weighted_plain_mean");
  w.class_weights = {1, 2};
  std::vector<double> x(2), y(3);
  CHECK_THROWS_WITH_AS(net.gradient(w, 1, x.data(), y.data()), "ctnn RuntimeNetwork: 2 class weights for 3 outputs",
                       std::invalid_argument);
}

TEST_CASE("RuntimeLoss::from_json refuses unknown keys, keys the loss does not take and numbers out of range") {
  auto fails_with = [](const char* text, const char* message) {
    INFO(text);
    CHECK_THROWS_WITH_AS(ctnn::RuntimeLoss::from_json(nlohmann::json::parse(text), "case.loss"), message,
                         std::invalid_argument);
  };
  fails_with(R"({"type": "huber", "delta": -1})", "case.loss.delta: must be > 0, got -1");
  fails_with(R"({"type": "huber", "delta": 0})", "case.loss.delta: must be > 0, got 0");
  fails_with(R"({"type": "huber", "delta": "1"})", "case.loss.delta: expected a number");
  fails_with(R"({"type": "huber", "dleta": 0.5})",
             "case.loss.dleta: unknown key (a loss has type, class_weights, delta, l2_lambda; formula, l2_formula as "
             "descriptions)");
  fails_with(R"({"type": "mse_mean", "delta": 0.5})", "case.loss.delta: mse_mean takes no delta (huber's threshold)");
  fails_with(R"({"type": "mse_mean", "class_weights": [1, 2]})",
             "case.loss.class_weights: mse_mean takes no class weights (the weighted losses "
             "softmax_ce_logits_weighted_pytorch and softmax_ce_logits_weighted_plain_mean do)");
  fails_with(R"({"type": "mse_mean", "l2_lambda": -0.5})", "case.loss.l2_lambda: must be >= 0, got -0.5");
  fails_with(R"({"type": "mse_mean", "formula": 3})", "case.loss.formula: expected a string (a description)");
  // What the reference figures hold is taken.
  const auto h = ctnn::RuntimeLoss::from_json(
      nlohmann::json::parse(R"({"type": "huber", "delta": 0.5, "formula": "mean of m |r| - m^2 / 2, m = min of |r| and delta"})"));
  CHECK(h.kind == ctnn::RuntimeLoss::Kind::huber);
  CHECK(h.huber_delta == 0.5);
  const auto m = ctnn::RuntimeLoss::from_json(
      nlohmann::json::parse(R"({"type": "mse_half_sum", "l2_lambda": 0.01, "formula": "f", "l2_formula": "g"})"));
  CHECK(m.kind == ctnn::RuntimeLoss::Kind::mse_half_sum);
  CHECK(m.l2_lambda == 0.01);
  const auto w = ctnn::RuntimeLoss::from_json(
      nlohmann::json::parse(R"({"type": "softmax_ce_logits_weighted_pytorch", "class_weights": [1, 2.5]})"));
  CHECK(w.class_weights == std::vector<double>{1, 2.5});
}

namespace {

using RNet = ctnn::RuntimeNetwork<double>;

/// The input and parameter Jacobians of net at x by j.
std::pair<std::vector<double>, std::vector<double>> jacobians(ctnn::RuntimeJacobian<double>& j, const RNet& net,
                                                              const std::vector<double>& x) {
  std::vector<double> Ji(net.outputs() * net.inputs(), -1.0), Jp(net.outputs() * net.num_params(), -1.0);
  j.input(x.data(), Ji.data());
  j.params(x.data(), Jp.data());
  return {Ji, Jp};
}

/// Every row of both Jacobians against central differences of net.forward (output k at x, at θ).
void check_jacobians_fd(RNet& net, const std::vector<double>& x, const std::vector<double>& Ji,
                        const std::vector<double>& Jp) {
  const std::size_t K = net.outputs(), In = net.inputs(), P = net.num_params();
  const std::vector<double> theta(net.params().begin(), net.params().end());
  std::vector<double> out(K);
  for (std::size_t k = 0; k < K; ++k) {
    INFO("output " << k);
    const auto at_x = [&](const double* xs) {
      net.forward(1, xs, out.data());
      return out[k];
    };
    const auto ri = ctnn::test::gradcheck(at_x, x.data(), Ji.data() + k * In, In);
    CHECK_MESSAGE(ri.max_rel_err < 1e-6, ri.report);
    const auto at_theta = [&](const double* th) {
      std::copy(th, th + P, net.params().begin());
      net.forward(1, x.data(), out.data());
      return out[k];
    };
    const auto rp = ctnn::test::gradcheck(at_theta, theta.data(), Jp.data() + k * P, P);
    CHECK_MESSAGE(rp.max_rel_err < 1e-6, rp.report);
    std::copy(theta.begin(), theta.end(), net.params().begin());
  }
}

}  // namespace

TEST_CASE("runtime Jacobian follows its network when that is assigned another (new buffers, another topology)") {
  RNet net({2, 3, 2}, {"tanh", "identity"}, 0.01, 1);
  ctnn::RuntimeJacobian<double> jac(net);
  const std::vector<double> x2{0.3, -0.4}, x3{0.3, -0.4, 0.8};
  const auto before = jacobians(jac, net, x2);

  net = RNet({2, 3, 2}, {"tanh", "identity"}, 0.01, 7);  // other weights: the old buffers are freed
  const auto reloaded = jacobians(jac, net, x2);
  ctnn::RuntimeJacobian<double> fresh(net);
  CHECK(reloaded == jacobians(fresh, net, x2));
  CHECK(reloaded.first != before.first);
  check_jacobians_fd(net, x2, reloaded.first, reloaded.second);

  net = RNet({3, 4, 2}, {"sigmoid", "softplus"}, 0.01, 3);  // another topology
  CHECK(jac.inputs() == 3);
  CHECK(jac.outputs() == 2);
  const auto other = jacobians(jac, net, x3);
  ctnn::RuntimeJacobian<double> fresh3(net);
  CHECK(other == jacobians(fresh3, net, x3));
  check_jacobians_fd(net, x3, other.first, other.second);

  // Same sizes, another activation and slope (a leaky ReLU's slope is recorded in the tape).
  net = RNet({3, 4, 2}, {"leaky_relu", "softplus"}, 0.3, 3);
  const auto leaky = jacobians(jac, net, x3);
  ctnn::RuntimeJacobian<double> fresh_leaky(net);
  CHECK(leaky == jacobians(fresh_leaky, net, x3));
  net = RNet({3, 4, 2}, {"leaky_relu", "softplus"}, 0.05, 3);
  const auto slope = jacobians(jac, net, x3);
  ctnn::RuntimeJacobian<double> fresh_slope(net);
  CHECK(slope == jacobians(fresh_slope, net, x3));
  CHECK(slope != leaky);
}

TEST_CASE("runtime HVP follows the network of each call: another topology than it was built for") {
  const RNet small({2, 3, 1}, {"tanh", "identity"}, 0.01, 1);
  const RNet big({2, 8, 1}, {"tanh", "identity"}, 0.01, 1);
  const RNet other({2, 3, 1}, {"sigmoid", "identity"}, 0.01, 1);  // small's sizes, another activation
  ctnn::RuntimeHvp<double> h(small);
  const std::vector<double> x{0.1, 0.2, -0.3, 0.4}, y{0.5, -0.2};
  const auto mse = ctnn::RuntimeLoss::named("mse_mean");
  for (const RNet* net : {&big, &small, &other}) {
    const std::size_t P = net->num_params();
    INFO("hidden " << net->layer_sizes()[1] << ", " << P << " parameters");
    std::vector<double> v(P), Hv(P, -1.0), g(P, -1.0), Hv_fresh(P, -2.0), g_fresh(P, -2.0);
    ctnn::Random rng(P);
    for (double& e : v) e = rng.uniform(-1, 1);
    const double l = h(*net, mse, 2, x.data(), y.data(), v.data(), Hv.data(), g.data());
    ctnn::RuntimeHvp<double> fresh(*net);
    CHECK(fresh(*net, mse, 2, x.data(), y.data(), v.data(), Hv_fresh.data(), g_fresh.data()) == l);
    CHECK(Hv == Hv_fresh);
    CHECK(g == g_fresh);
    // H v = d/dε ∇L(θ + ε v) at 0, by central differences of the double gradient.
    RNet n = *net;
    CHECK(n.gradient(mse, 2, x.data(), y.data()) == doctest::Approx(l).epsilon(1e-14));
    const std::vector<double> theta(n.params().begin(), n.params().end());
    const double eps = 1e-5;
    std::vector<double> gp(P), gm(P);
    for (const double s : {1.0, -1.0}) {
      for (std::size_t i = 0; i < P; ++i) n.params()[i] = theta[i] + s * eps * v[i];
      n.gradient(mse, 2, x.data(), y.data());
      std::copy(n.grads().begin(), n.grads().end(), (s > 0 ? gp : gm).begin());
    }
    double scale = 1;
    for (double e : Hv) scale = std::max(scale, std::abs(e));
    for (std::size_t i = 0; i < P; ++i) {
      INFO("parameter " << i);
      CHECK(std::abs(Hv[i] - (gp[i] - gm[i]) / (2 * eps)) <= 1e-7 * scale);
    }
  }
}
