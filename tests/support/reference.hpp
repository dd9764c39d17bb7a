// Loader for the PyTorch reference figures in tests/data (gradients.json, optimizers.json; see
// tests/data/REFERENCE.md). Tests use the typed cases and accessors below and need not include
// <nlohmann/json.hpp> (only reference.cpp does; this header forward-declares nlohmann::json).
//
// The data folder is taken from the environment variable CTNN_TEST_DATA (set by meson's test_env).
// Every lookup failure throws std::runtime_error naming the file, case and key.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace ctnn::test::ref {

using Vec = std::vector<double>;

// Row-major dense matrix. A JSON number reads as 1x1, a 1-D list of n as 1 x n.
struct Mat {
  std::size_t rows = 0, cols = 0;
  std::vector<double> data;  // row-major, rows * cols

  double operator()(std::size_t r, std::size_t c) const { return data[r * cols + c]; }
  double& operator()(std::size_t r, std::size_t c) { return data[r * cols + c]; }
  std::size_t size() const { return data.size(); }
  bool empty() const { return data.empty(); }
  Vec row(std::size_t r) const;  // copy of row r
};

// ---- raw files (parsed once, on first use) ---------------------------------------------------
const nlohmann::json& gradients();   // $CTNN_TEST_DATA/gradients.json
const nlohmann::json& optimizers();  // $CTNN_TEST_DATA/optimizers.json
std::string data_path(std::string_view file);  // $CTNN_TEST_DATA/<file>; throws if unset/missing

// Case `name` in gradients.json section `section` ("primitives", "composites", "losses",
// "networks", "perceptron"); throws std::runtime_error naming the case if absent.
const nlohmann::json& gradient_case(std::string_view section, std::string_view name);
std::vector<std::string> case_names(std::string_view section);  // names of a gradients.json section
/// The networks[] cases of gradients.json, in file order (the loader test checks the file against it;
/// suites that must cover every case compare against it).
inline const std::vector<std::string> network_case_names = {
    "xor_2_2_1_sigmoid_sigmoid__mse_half_sum",
    "xor_2_2_1_sigmoid_sigmoid__bce_prob",
    "mlp_4_5_1_tanh_sigmoid__mse_half_sum",
    "mlp_4_5_1_tanh_sigmoid__mse_mean",
    "mlp_4_5_1_tanh_sigmoid__bce_prob",
    "mlp_4_5_1_tanh_identity__bce_logits",
    "mlp_4_5_1_tanh_sigmoid__mse_half_sum_plus_l2",
    "mlp_4_5_3_relu_softmax__ce_prob",
    "mlp_4_5_3_relu_identity__softmax_ce_logits",
    "mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_pytorch",
    "mlp_4_5_3_relu_identity__softmax_ce_logits_weighted_plain_mean",
    "mlp_6_8_8_4_leakyrelu_tanh_identity__mse_mean",
    "mlp_6_8_8_4_leakyrelu_tanh_identity__mse_half_sum",
    "mlp_6_8_8_4_leakyrelu_tanh_identity__huber",
    "linreg_3_1_identity__mse_half_sum",
};
// optimizers.json "optimizers[]" entry with the given problem ("mlp", "rosenbrock") and name ("adam").
const nlohmann::json& optimizer_case(std::string_view problem, std::string_view name);

// ---- JSON accessors (so tests need not include nlohmann/json.hpp) ------------------------------
// `path` is dotted: object keys and/or array indices, e.g. "inputs.x", "layers.0.W",
// "params_after_step.10" ("10" is an object key there). An empty path is `j` itself.
const nlohmann::json& at(const nlohmann::json& j, std::string_view path);
bool has(const nlohmann::json& j, std::string_view path);
std::size_t length(const nlohmann::json& j);  // elements of an array / members of an object; 1 else
const nlohmann::json& element(const nlohmann::json& j, std::size_t i);  // j[i] of an array
std::vector<std::string> keys(const nlohmann::json& j);                 // member names of an object

Mat as_mat(const nlohmann::json& j);                // number -> 1x1, [n] -> 1 x n, [r][c] -> r x c
Vec as_vec(const nlohmann::json& j);                // number -> {x}, 1-D or 2-D list flattened row-major
std::vector<Mat> as_mats(const nlohmann::json& j);  // list of matrices (e.g. L2 weights, clipping tensors)
double as_number(const nlohmann::json& j);
long long as_int(const nlohmann::json& j);
std::string as_string(const nlohmann::json& j);

Mat mat_at(const nlohmann::json& j, std::string_view path);
Vec vec_at(const nlohmann::json& j, std::string_view path);
std::vector<Mat> mats_at(const nlohmann::json& j, std::string_view path);
double num_at(const nlohmann::json& j, std::string_view path);
long long int_at(const nlohmann::json& j, std::string_view path);
std::string str_at(const nlohmann::json& j, std::string_view path);

// ---- network cases (gradients.json "networks[]") ----------------------------------------------
struct NetworkCase {
  std::string name;
  std::vector<std::size_t> layer_sizes;  // [n0, n1, ..., nL]
  std::vector<std::string> activations;  // one per layer (L)
  double leaky_slope = 0.01;             // network.leaky_relu_negative_slope if given
  std::size_t param_count = 0;           // network.param_count
  std::vector<Mat> W;                    // W[l]: [n_{l+1}, n_l]
  std::vector<Vec> b;                    // b[l]: [n_{l+1}]
  Mat X;                                 // [N, n0]
  Mat Y;                                 // [N, K]; empty (0x0) when the case gives labels instead
  std::vector<int> labels;               // 0-based, length N; empty for regression targets
  Mat Y_onehot;                          // [N, K]; empty unless labels are given
  std::string loss_type;                 // loss.type
  Vec class_weights;                     // loss.class_weights (weighted CE only)
  double l2_lambda = 0;                  // loss.l2_lambda (0 = no penalty)
  double huber_delta = 1;                // loss.delta (huber)
  Mat output;                            // [N, K] = forward_a.back()
  double loss_value = 0;
  std::vector<Mat> grad_W;               // dL/dW_l, shapes as W
  std::vector<Vec> grad_b;               // dL/db_l
  Vec grad_flat;                         // [P], flat order (see flat_params)
  Mat grad_X;                            // dL/dX, [N, n0]
  std::size_t jac_sample = 0;            // jacobian.sample
  Mat jacobian;                          // jacobian.J: [K, n0], d output[s][k] / d X[s][i]
  Vec hvp_v, hvp_Hv;                     // hvp.v, hvp.Hv: [P]
  Mat hessian;                           // [P, P] when has_hessian
  bool has_hessian = false;
  Vec per_sample_losses;                 // per_sample.losses: [N]
  Mat per_sample_grads;                  // per_sample.grads_flat: [N, P]
  bool has_per_sample = false;
  std::vector<Mat> forward_z, forward_a;  // forward[l].z / .a: [N, n_{l+1}]
  const nlohmann::json* raw = nullptr;    // the whole case (e.g. least_squares_solution, self_check)
};

NetworkCase network_case(std::string_view name);
std::vector<NetworkCase> all_network_cases();  // in file order

// Flat parameter vector: layer by layer, W_l row-major then b_l (the reference order).
Vec flat_params(const NetworkCase& c);

// ---- tolerance --------------------------------------------------------------------------------
// Per-array rule of REFERENCE.md: |a_i - r_i| <= rel*|r_i| + abs_frac*max_j|r_j| for every i.
// `actual` must hold expected.size() values. NaN/Inf in `actual` fail. If `why` is given it
// receives a one-line report of the worst element (index, values, difference, tolerance) and
// the number of elements outside tolerance.
bool close_array(const double* actual, const Vec& expected, double rel = 1e-10,
                 double abs_frac = 1e-12, std::string* why = nullptr);
// Same against a row-major Mat (worst element reported as [r, c]).
bool close_array(const double* actual, const Mat& expected, double rel = 1e-10,
                 double abs_frac = 1e-12, std::string* why = nullptr);
// Size-checked forms (a size/shape mismatch fails with a message).
bool close_array(const Vec& actual, const Vec& expected, double rel = 1e-10,
                 double abs_frac = 1e-12, std::string* why = nullptr);
bool close_array(const Mat& actual, const Mat& expected, double rel = 1e-10,
                 double abs_frac = 1e-12, std::string* why = nullptr);

}  // namespace ctnn::test::ref
