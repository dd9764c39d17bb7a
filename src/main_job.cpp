// ctnn-fashion-mnist: trains a 784-128-10 ReLU network (logits, softmax cross-entropy) on
// Fashion-MNIST with mini-batch SGD (batch 64, fixed at compile time), prints one line per epoch
// and the test accuracy.
//
//   ctnn-fashion-mnist [--epochs N] [--lr X] [--momentum M] [--seed S] [--data DIR]
//
// Exit codes: 0 success, 1 bad command line, 2 data missing or malformed, 3 non-finite loss.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/io/idx.hpp"

namespace {

constexpr std::size_t kBatch = 64;
constexpr std::size_t kInputs = 784;
constexpr std::size_t kClasses = 10;

using Net = ctnn::Sequential<ctnn::Dense<kInputs, 128>, ctnn::ReLU, ctnn::Dense<128, kClasses>>;
static_assert(Net::inputs == kInputs && Net::outputs == kClasses);

struct Options {
  int epochs = 5;
  float lr = 0.05f;
  float momentum = 0.0f;
  std::uint64_t seed = 42;
  std::string data = "/usr/share/datasets/fashion-mnist";
};

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: ctnn-fashion-mnist [--epochs N] [--lr X] [--momentum M] [--seed S] [--data DIR]\n"
               "  --epochs N    training epochs (default 5)\n"
               "  --lr X        SGD learning rate (default 0.05)\n"
               "  --momentum M  heavy-ball momentum, 0 = plain SGD (default 0)\n"
               "  --seed S      seed for initialisation and shuffling (default 42)\n"
               "  --data DIR    Fashion-MNIST directory (default /usr/share/datasets/fashion-mnist)\n");
}

// Tiny hand-rolled parser: "--flag value" or "--flag=value". Returns false on any error.
bool parse_args(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      std::exit(0);
    }
    std::string name(arg), value;
    bool has_value = false;
    if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      name = std::string(arg.substr(0, eq));
      value = std::string(arg.substr(eq + 1));
      has_value = true;
    }
    if (name != "--epochs" && name != "--lr" && name != "--momentum" && name != "--seed" && name != "--data") {
      std::fprintf(stderr, "error: unknown argument '%s'\n", argv[i]);
      return false;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "error: %s needs a value\n", name.c_str());
        return false;
      }
      value = argv[++i];
    }
    try {
      std::size_t used = 0;
      if (name == "--epochs") {
        const long v = std::stol(value, &used);
        if (v < 1 || v > 100000) throw std::out_of_range("epochs");
        o.epochs = static_cast<int>(v);
      } else if (name == "--lr") {
        o.lr = std::stof(value, &used);
        if (!(o.lr > 0.0f) || !std::isfinite(o.lr)) throw std::out_of_range("lr");
      } else if (name == "--momentum") {
        o.momentum = std::stof(value, &used);
        if (!(o.momentum >= 0.0f && o.momentum < 1.0f)) throw std::out_of_range("momentum");
      } else if (name == "--seed") {
        if (!value.empty() && value[0] == '-') throw std::out_of_range("seed");
        o.seed = std::stoull(value, &used);
      } else {  // --data
        used = value.size();
        if (value.empty()) throw std::invalid_argument("data");
        o.data = value;
      }
      if (used != value.size()) throw std::invalid_argument(name);
    } catch (const std::exception&) {
      std::fprintf(stderr, "error: bad value '%s' for %s\n", value.c_str(), name.c_str());
      return false;
    }
  }
  return true;
}

std::size_t argmax(const float* z) {
  return static_cast<std::size_t>(std::max_element(z, z + kClasses) - z);
}

// Runs f(std::integral_constant<size_t, 1>, offset) for each of the n < 64 samples of a ragged
// remainder: single-sample passes keep it (it is not dropped) at the cost of one extra
// instantiation; chunks of 32/16/... would be a little faster but cost ~10 s of compile time.
template <class F>
void for_each_chunk(std::size_t n, F&& f, std::size_t offset = 0) {
  for (std::size_t i = 0; i < n; ++i) f(std::integral_constant<std::size_t, 1>{}, offset + i);
}

// Copies the samples idx[0..n) into x (n x 784) and their one-hot targets into y (n x 10).
void gather(const ctnn::io::Dataset& d, const std::size_t* idx, std::size_t n, float* x, float* y) {
  std::fill(y, y + n * kClasses, 0.0f);
  for (std::size_t i = 0; i < n; ++i) {
    std::copy_n(d.row(idx[i]), kInputs, x + i * kInputs);
    y[i * kClasses + static_cast<std::size_t>(d.labels[idx[i]])] = 1.0f;
  }
}

struct Trainer {
  Net net;
  Options opt;
  std::vector<float> velocity;
  // Batch buffers (the network reads raw row-major storage).
  ctnn::Matrix<float, kBatch, kInputs> x;
  ctnn::Matrix<float, kBatch, kClasses> y;
  ctnn::Matrix<float, kBatch, kClasses> logits;
  std::vector<float> grad_acc;  // for a ragged batch: the chunk gradients, weighted

  explicit Trainer(const Options& o) : net(o.seed), opt(o), velocity(Net::num_params, 0.0f), grad_acc(Net::num_params) {}

  // θ -= lr·g (momentum 0), or heavy ball: v = μ v + g; θ -= lr·v.
  void step(std::span<const float> g) {
    const std::span<float> p = net.params();
    const float lr = opt.lr, mu = opt.momentum;
    if (mu == 0.0f) {
      for (std::size_t i = 0; i < p.size(); ++i) p[i] -= lr * g[i];
    } else {
      float* v = velocity.data();
      for (std::size_t i = 0; i < p.size(); ++i) {
        v[i] = mu * v[i] + g[i];
        p[i] -= lr * v[i];
      }
    }
  }

  // Loss and gradient on the B rows of x/y at `off`; counts the correct predictions (from the
  // logits of the same pass, recorded by the loss) into `correct`.
  template <std::size_t B>
  float batch_pass(std::size_t off, std::size_t& correct) {
    const float* xb = x.data() + off * kInputs;
    const float* yb = y.data() + off * kClasses;
    const float loss = net.gradient_and_output<B>(ctnn::loss::softmax_cross_entropy, xb, yb, logits.data());
    for (std::size_t i = 0; i < B; ++i)
      if (yb[i * kClasses + argmax(logits.data() + i * kClasses)] == 1.0f) ++correct;
    return loss;
  }
};

[[noreturn]] void non_finite(int epoch, std::size_t step, float loss) {
  std::fprintf(stderr,
               "error: non-finite training loss (%g) at epoch %d, step %zu; training diverged "
               "(try a smaller --lr)\n",
               static_cast<double>(loss), epoch, step);
  std::exit(3);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!parse_args(argc, argv, opt)) {
    usage(stderr);
    return 1;
  }

  ctnn::io::TrainTest data;
  try {
    data = ctnn::io::load_fashion_mnist(opt.data);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: cannot load Fashion-MNIST: %s\n", e.what());
    return 2;
  }
  for (const ctnn::io::Dataset* d : {&data.train, &data.test}) {
    const bool labels_ok = std::all_of(d->labels.begin(), d->labels.end(),
                                       [](int c) { return c >= 0 && static_cast<std::size_t>(c) < kClasses; });
    if (d->cols != kInputs || d->rows == 0 || d->labels.size() != d->rows || !labels_ok) {
      std::fprintf(stderr, "error: unexpected Fashion-MNIST data in %s: %zu x %zu, labels must be 0..9\n",
                   opt.data.c_str(), d->rows, d->cols);
      return 2;
    }
  }
  // Pixels are already scaled to [0, 1] by the loader; standardise with the train-set statistics.
  const auto standardizer = ctnn::io::Standardizer::fit(data.train);
  standardizer.apply(data.train);
  standardizer.apply(data.test);

  const ctnn::io::Dataset& train = data.train;
  const ctnn::io::Dataset& test = data.test;
  const std::size_t n_train = train.rows;
  const std::size_t full_batches = n_train / kBatch, ragged = n_train % kBatch;
  const std::size_t steps_per_epoch = full_batches + (ragged ? 1 : 0);

  auto trainer = std::make_unique<Trainer>(opt);
  Trainer& tr = *trainer;
  ctnn::Random shuffle_rng(opt.seed ^ 0x9E3779B97F4A7C15ull);
  std::vector<std::size_t> order(n_train);
  std::iota(order.begin(), order.end(), std::size_t{0});

  std::printf("ctnn-fashion-mnist: %zu train / %zu test samples, batch %zu, lr %g, momentum %g, seed %llu\n",
              n_train, test.rows, kBatch, static_cast<double>(opt.lr), static_cast<double>(opt.momentum),
              static_cast<unsigned long long>(opt.seed));
  std::fflush(stdout);

  for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    // Fisher-Yates shuffle with the seeded generator.
    for (std::size_t i = n_train - 1; i > 0; --i) std::swap(order[i], order[shuffle_rng.below(i + 1)]);

    double loss_sum = 0.0;  // Σ over batches of (batch mean loss · batch size)
    std::size_t correct = 0;
    for (std::size_t s = 0; s < full_batches; ++s) {
      gather(train, order.data() + s * kBatch, kBatch, tr.x.data(), tr.y.data());
      const float loss = tr.batch_pass<kBatch>(0, correct);
      if (!std::isfinite(loss)) non_finite(epoch, s + 1, loss);
      loss_sum += static_cast<double>(loss) * kBatch;
      tr.step(tr.net.grads());
    }
    if (ragged) {
      // The last, smaller batch: its gradient is the mean over its `ragged` samples, built from
      // single-sample passes, each weighted by 1/ragged.
      gather(train, order.data() + full_batches * kBatch, ragged, tr.x.data(), tr.y.data());
      std::fill(tr.grad_acc.begin(), tr.grad_acc.end(), 0.0f);
      float batch_loss = 0.0f;
      for_each_chunk(ragged, [&](auto c, std::size_t off) {
        constexpr std::size_t C = decltype(c)::value;
        const float loss = tr.batch_pass<C>(off, correct);
        const float w = static_cast<float>(C) / static_cast<float>(ragged);
        batch_loss += w * loss;
        const std::span<const float> g = tr.net.grads();
        for (std::size_t i = 0; i < g.size(); ++i) tr.grad_acc[i] += w * g[i];
      });
      if (!std::isfinite(batch_loss)) non_finite(epoch, steps_per_epoch, batch_loss);
      loss_sum += static_cast<double>(batch_loss) * static_cast<double>(ragged);
      tr.step(tr.grad_acc);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("epoch %d/%d  loss %.4f  train_acc %.4f  time %.2f s\n", epoch, opt.epochs,
                loss_sum / static_cast<double>(n_train),
                static_cast<double>(correct) / static_cast<double>(n_train), seconds);
    std::fflush(stdout);
  }

  // Test accuracy: forward<64> over full batches, then the remainder in compile-time chunks.
  std::vector<std::size_t> test_idx(test.rows);
  std::iota(test_idx.begin(), test_idx.end(), std::size_t{0});
  std::size_t test_correct = 0;
  auto count = [&](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      if (tr.y[i * kClasses + argmax(tr.logits.data() + i * kClasses)] == 1.0f) ++test_correct;
  };
  const std::size_t test_full = test.rows / kBatch, test_rest = test.rows % kBatch;
  for (std::size_t s = 0; s < test_full; ++s) {
    gather(test, test_idx.data() + s * kBatch, kBatch, tr.x.data(), tr.y.data());
    tr.net.forward<kBatch>(tr.x.data(), tr.logits.data());
    count(kBatch);
  }
  if (test_rest) {
    gather(test, test_idx.data() + test_full * kBatch, test_rest, tr.x.data(), tr.y.data());
    for_each_chunk(test_rest, [&](auto c, std::size_t off) {
      constexpr std::size_t C = decltype(c)::value;
      tr.net.forward<C>(tr.x.data() + off * kInputs, tr.logits.data() + off * kClasses);
    });
    count(test_rest);
  }
  std::printf("test accuracy %.4f\n", static_cast<double>(test_correct) / static_cast<double>(test.rows));
  return 0;
}
