// gemm_nt / gemm_nn / gemm_tn in double against a double triple loop (see gemm_check.hpp).
#include "gemm_check.hpp"

using namespace ctnn::test::gemm;

TEST_CASE("gemm_nt (C = A Bᵀ, double) matches a double triple loop") { check_shapes<double, Form::nt>(); }
TEST_CASE("gemm_nn (C = A B, double) matches a double triple loop") { check_shapes<double, Form::nn>(); }
TEST_CASE("gemm_tn (C = Aᵀ B, double) matches a double triple loop") { check_shapes<double, Form::tn>(); }
