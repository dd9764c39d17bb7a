// gemm_nt / gemm_nn / gemm_tn in float against a double triple loop (see gemm_check.hpp).
#include "gemm_check.hpp"

using namespace ctnn::test::gemm;

TEST_CASE("gemm_nt (C = A Bᵀ, float) matches a double triple loop") { check_shapes<float, Form::nt>(); }
TEST_CASE("gemm_nn (C = A B, float) matches a double triple loop") { check_shapes<float, Form::nn>(); }
TEST_CASE("gemm_tn (C = Aᵀ B, float) matches a double triple loop") { check_shapes<float, Form::tn>(); }
