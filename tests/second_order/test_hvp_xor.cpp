// tests/second_order/test_hvp_xor.cpp: HVPs and Hessians (forward-over-reverse on Dual<double>)
// against gradients.json on the xor 2-2-1 network (both losses).
#include "second_order_check.hpp"

namespace {
using Xor = ctnn::Network<double, ctnn::Dense<2, 2>, ctnn::Sigmoid, ctnn::Dense<2, 1>, ctnn::Sigmoid>;
const std::vector<std::string> sig_sig{"sigmoid", "sigmoid"};
}  // namespace

TEST_CASE("hvp: xor_2_2_1_sigmoid_sigmoid__mse_half_sum") {
  so_test::check_hvp<Xor, 4>("xor_2_2_1_sigmoid_sigmoid__mse_half_sum", sig_sig, ctnn::loss::mse_half_sum);
}
TEST_CASE("hvp: xor_2_2_1_sigmoid_sigmoid__bce_prob") {
  so_test::check_hvp<Xor, 4>("xor_2_2_1_sigmoid_sigmoid__bce_prob", sig_sig, ctnn::loss::bce_prob);
}
