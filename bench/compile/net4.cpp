// bench/compile: 4-layer network TU (see networks.hpp).
#include "networks.hpp"
using Net4 = ctnn::Sequential<ctnn::Dense<784, 256>, ctnn::ReLU, ctnn::Dense<256, 128>, ctnn::ReLU,
                              ctnn::Dense<128, 64>, ctnn::ReLU, ctnn::Dense<64, 10>>;
CTNN_COMPILE_BENCH_TU(Net4)
