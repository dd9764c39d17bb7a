// ctnn/ctnn.hpp: the umbrella header: kernels, expressions and reverse mode, layers, networks
// and losses. Heavy or optional parts (data loaders, weight files, MPI) have headers of their
// own and are not included here.
#pragma once
#include "ctnn/ad/ad.hpp"
#include "ctnn/core/aligned.hpp"
#include "ctnn/nn/gradient_check.hpp"
#include "ctnn/nn/layers.hpp"
#include "ctnn/nn/loss.hpp"
#include "ctnn/nn/network.hpp"

namespace ctnn {
// The expression vocabulary, usable unqualified in user code (they are also found by ADL).
using ad::abs;
using ad::exp;
using ad::gelu;
using ad::leaky_relu;
using ad::log;
using ad::logsumexp;
using ad::matmul;
using ad::maximum;
using ad::mean;
using ad::minimum;
using ad::relu;
using ad::row_sum;
using ad::sigmoid;
using ad::softmax;
using ad::silu;
using ad::softplus;
using ad::sqrt;
using ad::square;
using ad::step;
using ad::sum;
using ad::tanh;
using ad::transpose;
using loss::l2_penalty;
}  // namespace ctnn
