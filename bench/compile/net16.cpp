// bench/compile: 16-layer network TU (see networks.hpp).
#include "networks.hpp"
using Net16 = compile_bench::Repeat<16, 64>::type;
CTNN_COMPILE_BENCH_TU(Net16)
