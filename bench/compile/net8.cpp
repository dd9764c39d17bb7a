// bench/compile: 8-layer network TU (see networks.hpp).
#include "networks.hpp"
using Net8 = compile_bench::Repeat<8, 64>::type;
CTNN_COMPILE_BENCH_TU(Net8)
