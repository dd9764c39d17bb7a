// The reference-figure loader itself: every network case loads with consistent shapes, the
// documented identities hold on the data, and close_array accepts/rejects as REFERENCE.md says.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference.hpp"

namespace ref = ctnn::test::ref;

namespace {


bool has_shape(const ref::Mat& m, std::size_t r, std::size_t c) {
  return m.rows == r && m.cols == c && m.data.size() == r * c;
}

}  // namespace

TEST_CASE("all 15 network cases load, in the documented order") {
  CHECK(ref::case_names("networks") == ref::network_case_names);
  const auto cases = ref::all_network_cases();
  REQUIRE(cases.size() == 15);
  for (std::size_t i = 0; i < cases.size(); ++i) CHECK(cases[i].name == ref::network_case_names[i]);
  for (const auto& name : ref::network_case_names) CHECK(ref::network_case(name).name == name);
}

TEST_CASE("network case shapes are consistent") {
  for (const auto& c : ref::all_network_cases()) {
    CAPTURE(c.name);
    const std::size_t L = c.activations.size();
    REQUIRE(L >= 1);
    REQUIRE(c.layer_sizes.size() == L + 1);
    REQUIRE(c.W.size() == L);
    REQUIRE(c.b.size() == L);
    REQUIRE(c.grad_W.size() == L);
    REQUIRE(c.grad_b.size() == L);
    REQUIRE(c.forward_z.size() == L);
    REQUIRE(c.forward_a.size() == L);

    const std::size_t N = c.X.rows;
    const std::size_t K = c.layer_sizes.back();
    REQUIRE(N > 0);
    CHECK(has_shape(c.X, N, c.layer_sizes[0]));

    std::size_t P = 0;
    for (std::size_t l = 0; l < L; ++l) {
      CAPTURE(l);
      const std::size_t in = c.layer_sizes[l], out = c.layer_sizes[l + 1];
      CHECK(has_shape(c.W[l], out, in));
      CHECK(c.b[l].size() == out);
      CHECK(has_shape(c.grad_W[l], out, in));
      CHECK(c.grad_b[l].size() == out);
      CHECK(has_shape(c.forward_z[l], N, out));
      CHECK(has_shape(c.forward_a[l], N, out));
      P += out * in + out;
    }
    CHECK(P == c.param_count);
    CHECK(c.grad_flat.size() == c.param_count);
    CHECK(ref::flat_params(c).size() == c.param_count);

    CHECK(has_shape(c.output, N, K));
    CHECK(c.output.data == c.forward_a.back().data);
    CHECK(has_shape(c.grad_X, N, c.layer_sizes[0]));
    CHECK(c.jac_sample < N);
    CHECK(has_shape(c.jacobian, K, c.layer_sizes[0]));
    CHECK(c.hvp_v.size() == P);
    CHECK(c.hvp_Hv.size() == P);
    if (c.has_hessian) {
      CHECK(P <= 60);
      CHECK(has_shape(c.hessian, P, P));
    }
    CHECK(std::isfinite(c.loss_value));

    // Targets: regression cases carry Y, classification cases labels + Y_onehot.
    if (c.labels.empty()) {
      CHECK(has_shape(c.Y, N, K));
      CHECK(c.Y_onehot.empty());
    } else {
      CHECK(c.Y.empty());
      CHECK(c.labels.size() == N);
      REQUIRE(has_shape(c.Y_onehot, N, K));
      for (std::size_t n = 0; n < N; ++n) {
        REQUIRE(c.labels[n] >= 0);
        REQUIRE(static_cast<std::size_t>(c.labels[n]) < K);
        for (std::size_t k = 0; k < K; ++k)
          CHECK(c.Y_onehot(n, k) == (k == static_cast<std::size_t>(c.labels[n]) ? 1.0 : 0.0));
      }
    }
    if (!c.class_weights.empty()) CHECK(c.class_weights.size() == K);
    CHECK(c.raw != nullptr);
  }
}

TEST_CASE("flat order: grad_flat is grad_W row-major then grad_b, layer by layer") {
  for (const auto& c : ref::all_network_cases()) {
    CAPTURE(c.name);
    ref::NetworkCase g = c;  // reuse flat_params on the gradients
    g.W = c.grad_W;
    g.b = c.grad_b;
    CHECK(ref::flat_params(g) == c.grad_flat);  // same numbers, written identically

    // Spot-check the documented index formula on the parameters themselves.
    const ref::Vec theta = ref::flat_params(c);
    std::size_t offset = 0;
    for (std::size_t l = 0; l < c.W.size(); ++l) {
      const std::size_t in = c.W[l].cols, out = c.W[l].rows;
      CHECK(theta[offset + (out - 1) * in + (in - 1)] == c.W[l](out - 1, in - 1));
      CHECK(theta[offset + out * in + (out - 1)] == c.b[l][out - 1]);
      offset += out * in + out;
    }
  }
}

TEST_CASE("loss parameters live under loss") {
  const auto l2 = ref::network_case("mlp_4_5_1_tanh_sigmoid__mse_half_sum_plus_l2");
  CHECK(l2.loss_type == "mse_half_sum");
  CHECK(l2.l2_lambda == 0.1);
  CHECK(ref::network_case("mlp_4_5_1_tanh_sigmoid__mse_half_sum").l2_lambda == 0.0);

  const auto w = ref::network_case("mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_pytorch");
  CHECK(w.loss_type == "softmax_ce_logits_weighted_pytorch");
  CHECK(w.class_weights == ref::Vec{1.73, 0.98, 1.08});
  CHECK(w.labels == std::vector<int>{1, 2, 2, 1, 1, 0});

  const auto h = ref::network_case("mlp_6_8_8_4_leakyrelu_tanh_identity__huber");
  CHECK(h.loss_type == "huber");
  CHECK(h.huber_delta == 1.0);
  CHECK(h.leaky_slope == 0.01);
  CHECK(h.activations == std::vector<std::string>{"leaky_relu", "tanh", "identity"});
  CHECK_FALSE(h.has_hessian);  // 156 parameters: no full Hessian
  CHECK(ref::network_case("xor_2_2_1_sigmoid_sigmoid__mse_half_sum").has_hessian);
}

TEST_CASE("per-sample figures average to the batch figures") {
  int with_per_sample = 0;
  for (const auto& c : ref::all_network_cases()) {
    if (!c.has_per_sample) continue;
    CAPTURE(c.name);
    ++with_per_sample;
    const std::size_t N = c.X.rows, P = c.param_count;
    REQUIRE(c.per_sample_losses.size() == N);
    REQUIRE(has_shape(c.per_sample_grads, N, P));

    ref::Vec mean(P, 0.0);
    double mean_loss = 0;
    for (std::size_t n = 0; n < N; ++n) {
      mean_loss += c.per_sample_losses[n] / static_cast<double>(N);
      for (std::size_t p = 0; p < P; ++p)
        mean[p] += c.per_sample_grads(n, p) / static_cast<double>(N);
    }
    std::string why;
    CHECK_MESSAGE(ref::close_array(mean, c.grad_flat, 1e-12, 1e-12, &why), why);
    CHECK(ref::close_array(&mean_loss, ref::Vec{c.loss_value}, 1e-12, 1e-12));
  }
  CHECK(with_per_sample >= 1);
}

TEST_CASE("Hessians are symmetric to the reference tolerance") {
  for (const auto& c : ref::all_network_cases()) {
    if (!c.has_hessian) continue;
    CAPTURE(c.name);
    ref::Mat t = c.hessian;
    for (std::size_t i = 0; i < t.rows; ++i)
      for (std::size_t j = 0; j < t.cols; ++j) t(i, j) = c.hessian(j, i);
    std::string why;
    CHECK_MESSAGE(ref::close_array(t, c.hessian, 1e-10, 1e-12, &why), why);
  }
}

TEST_CASE("close_array accepts rounding noise and flags a perturbed array") {
  const auto c = ref::network_case("mlp_6_8_8_4_leakyrelu_tanh_identity__mse_mean");
  const ref::Vec& r = c.grad_flat;
  std::string why;

  CHECK(ref::close_array(r.data(), r));
  CHECK(ref::close_array(r.data(), r, 0.0, 0.0));  // exact equality passes even at zero tolerance

  ref::Vec noisy = r;  // a few ulps everywhere
  for (double& x : noisy) x *= 1 + 8 * std::numeric_limits<double>::epsilon();
  CHECK_MESSAGE(ref::close_array(noisy.data(), r, 1e-10, 1e-12, &why), why);

  ref::Vec bad = r;
  const std::size_t i = 17;
  bad[i] += 1e-6 * std::fabs(bad[i]) + 1e-9;
  CHECK_FALSE(ref::close_array(bad.data(), r, 1e-10, 1e-12, &why));
  CHECK(why.find("[17]") != std::string::npos);
  CHECK(why.find("1 of " + std::to_string(r.size())) == 0);

  ref::Vec nan = r;
  nan[3] = std::numeric_limits<double>::quiet_NaN();
  CHECK_FALSE(ref::close_array(nan.data(), r, 1e-10, 1e-12, &why));
  CHECK(why.find("[3]") != std::string::npos);

  // The absolute part is relative to the array's largest |r|: a component that is tiny compared
  // with the rest may be off by abs_frac * max|r|, no more.
  ref::Vec small{1.0, 0.0};
  ref::Vec near{1.0, 0.5e-12};
  ref::Vec far{1.0, 2e-12};
  CHECK(ref::close_array(near.data(), small));
  CHECK_FALSE(ref::close_array(far.data(), small));

  // Size-checked forms and the Mat overload (worst element reported as [r, c]).
  CHECK_FALSE(ref::close_array(ref::Vec(r.begin(), r.end() - 1), r, 1e-10, 1e-12, &why));
  CHECK(why.find("size mismatch") != std::string::npos);
  ref::Mat m = c.grad_X;
  REQUIRE(m.rows >= 2);
  REQUIRE(m.cols >= 3);
  CHECK(ref::close_array(m.data.data(), c.grad_X));
  m(1, 2) *= 1 + 1e-6;
  CHECK_FALSE(ref::close_array(m, c.grad_X, 1e-10, 1e-12, &why));
  CHECK(why.find("[1, 2]") != std::string::npos);
}

TEST_CASE("JSON readers and accessors") {
  const auto& prim = ref::gradient_case("primitives", "matvec_random");
  const ref::Mat W = ref::mat_at(prim, "inputs.W");
  const ref::Vec x = ref::vec_at(prim, "inputs.x");
  CHECK(W.cols == x.size());
  CHECK(ref::mat_at(prim, "vjp.W").rows == W.rows);
  const ref::Mat xrow = ref::mat_at(prim, "inputs.x");  // 1-D list of n -> 1 x n
  CHECK(xrow.rows == 1);
  CHECK(xrow.cols == x.size());

  const auto& sum = ref::gradient_case("primitives", "sum_random");
  const ref::Mat v = ref::mat_at(sum, "value");  // number -> 1x1
  CHECK(v.rows == 1);
  CHECK(v.cols == 1);
  CHECK(ref::vec_at(sum, "value") == ref::Vec{v(0, 0)});
  CHECK(ref::num_at(sum, "value") == v(0, 0));
  CHECK(ref::str_at(sum, "op") == "sum");

  const auto& xor_case = ref::gradient_case("networks", "xor_2_2_1_sigmoid_sigmoid__mse_half_sum");
  CHECK(ref::mat_at(xor_case, "network.layers.0.W").rows == 2);
  CHECK(ref::vec_at(xor_case, "X").size() == 8);  // 2-D flattened row-major
  CHECK(ref::int_at(xor_case, "network.param_count") == 9);
  CHECK(ref::has(xor_case, "hessian"));
  CHECK_FALSE(ref::has(xor_case, "per_sample"));
  CHECK(ref::length(ref::at(xor_case, "network.layers")) == 2);

  const auto& l2 = ref::gradient_case("losses", "l2_penalty");
  const auto weights = ref::mats_at(l2, "inputs.weights");
  CHECK(weights.size() == 2);
  CHECK(ref::num_at(l2, "loss.l2_lambda") == 0.1);

  const auto& adam = ref::optimizer_case("mlp", "adam");
  CHECK(ref::vec_at(adam, "params_after_step.10").size() ==
        static_cast<std::size_t>(ref::int_at(ref::optimizers(), "problems.mlp.network.param_count")));
  CHECK(ref::length(ref::at(ref::optimizers(), "optimizers")) == 20);

  const auto prim_names = ref::case_names("primitives");
  CHECK(prim_names.size() == 31);
  CHECK(std::find(prim_names.begin(), prim_names.end(), "exp_random") != prim_names.end());
}

TEST_CASE("missing cases and keys throw std::runtime_error naming them") {
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("(no exception)");
  };
  CHECK(message([] { ref::gradient_case("networks", "no_such_case"); }).find("no_such_case") !=
        std::string::npos);
  CHECK(message([] { ref::network_case("no_such_net"); }).find("no_such_net") != std::string::npos);
  CHECK(message([] { ref::case_names("no_such_section"); }).find("no_such_section") !=
        std::string::npos);
  CHECK(message([] { ref::optimizer_case("mlp", "no_such_opt"); }).find("no_such_opt") !=
        std::string::npos);
  const auto& c = ref::gradient_case("primitives", "exp_random");
  const std::string m = message([&] { ref::at(c, "inputs.nokey"); });
  CHECK(m.find("exp_random") != std::string::npos);
  CHECK(m.find("inputs.nokey") != std::string::npos);
}
