// examples/data_parallel_fashion.cpp: what data-parallel training buys on Fashion-MNIST, and what
// gradient compression costs, measured (the figures in docs/design.md, "Data-parallel training").
//
// Build: ninja -C build-test examples/data_parallel_fashion (not built by default: it needs Debian's
//        dataset-fashion-mnist and is a measurement, not a test)
// Run:   mpiexec -n 1 build-test/examples/data_parallel_fashion [epochs] [fashion-mnist folder]
//        mpiexec -n 2 build-test/examples/data_parallel_fashion [epochs] [fashion-mnist folder]
// 784-128-10 ReLU (float), softmax cross-entropy, Adam lr 1e-3, the same start and seed, global
// batches of 64 and 256 rows split over the ranks (64 / ranks and 256 / ranks each), dense
// allreduce and, with more than one rank, top-1% and sign compression with error feedback. Prints
// wall seconds per epoch (rank 0), test accuracy, bytes sent against dense. Nothing is asserted.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "ctnn/ctnn.hpp"
#include "ctnn/dist/data_parallel.hpp"
#include "ctnn/io/idx.hpp"
#include "ctnn/optim/optim.hpp"

namespace {
using Net = ctnn::Sequential<ctnn::Dense<784, 128>, ctnn::ReLU, ctnn::Dense<128, 10>>;

template <std::size_t B>
void run(const ctnn::io::TrainTest& d, std::size_t epochs, std::size_t global, ctnn::dist::ReducerOptions ro,
         const char* name) {
  const ctnn::dist::Comm comm;
  Net net(42);
  ctnn::optim::Adam<float> opt(Net::num_params, {.lr = 0.001});
  ctnn::dist::GradientReducer<float> reducer(comm, Net::num_params, ro);
  const auto res = ctnn::dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, d.train, reducer,
                                                      {.epochs = epochs, .seed = 1});
  const double acc = ctnn::dist::evaluate<64>(net, ctnn::loss::softmax_cross_entropy, d.test, comm).accuracy();
  if (comm.rank() != 0) return;
  double secs = 0;
  for (const auto& e : res.history) secs += e.seconds;
  std::printf("%-12s global batch %3zu = %d x %3zu   %.3f s/epoch   loss %.4f   test acc %.4f   "
              "bytes vs dense %5.1fx%s%s\n",
              name, global, comm.size(), B, secs / static_cast<double>(res.history.size()),
              res.history.back().train_loss, acc, double(res.dense_bytes) / double(res.bytes_sent),
              res.replicas_agree ? "" : "   REPLICAS DIFFER",
              res.stopped_by == ctnn::train::StopCriterion::max_epochs ? "" : ("   " + res.message).c_str());
}

template <std::size_t Ranks>
void all(const ctnn::io::TrainTest& d, std::size_t epochs) {
  using ctnn::dist::Compression;
  const ctnn::dist::ReducerOptions top1{.compression = Compression::top_k, .ratio = 0.01, .error_feedback = true};
  const ctnn::dist::ReducerOptions sign{.compression = Compression::sign, .ratio = 0.01, .error_feedback = true};
  run<64 / Ranks>(d, epochs, 64, {}, "dense");
  if constexpr (Ranks > 1) run<64 / Ranks>(d, epochs, 64, top1, "top-1% + EF");
  if constexpr (Ranks > 1) run<64 / Ranks>(d, epochs, 64, sign, "sign + EF");
  run<256 / Ranks>(d, epochs, 256, {}, "dense");
  if constexpr (Ranks > 1) run<256 / Ranks>(d, epochs, 256, top1, "top-1% + EF");
  if constexpr (Ranks > 1) run<256 / Ranks>(d, epochs, 256, sign, "sign + EF");
}
}  // namespace

int main(int argc, char** argv) {
  ctnn::dist::Session session(argc, argv);
  const ctnn::dist::Comm comm;
  const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 3;
  ctnn::io::TrainTest d;
  try {
    d = argc > 2 ? ctnn::io::load_fashion_mnist(argv[2]) : ctnn::io::load_fashion_mnist();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "data_parallel_fashion: %s\n", e.what());
    return 2;
  }
  const auto st = ctnn::io::Standardizer::fit(d.train);
  st.apply(d.train);
  st.apply(d.test);
  if (comm.rank() == 0)
    std::printf("Fashion-MNIST, 784-128-10 ReLU (float), Adam 1e-3, %zu epochs, %d rank(s)\n", epochs, comm.size());
  switch (comm.size()) {
    case 1: all<1>(d, epochs); break;
    case 2: all<2>(d, epochs); break;
    case 4: all<4>(d, epochs); break;
    default:
      if (comm.rank() == 0) std::fprintf(stderr, "data_parallel_fashion: run with 1, 2 or 4 ranks\n");
      return 2;
  }
  return 0;
}
