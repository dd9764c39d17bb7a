// bench/compile: 2-layer network TU (see networks.hpp).
#include "networks.hpp"
using Net2 = ctnn::Sequential<ctnn::Dense<784, 128>, ctnn::ReLU, ctnn::Dense<128, 10>>;
CTNN_COMPILE_BENCH_TU(Net2)
