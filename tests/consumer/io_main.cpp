// A program built without meson against an installed ctnn (tests/consumer/pkgconfig.sh compiles it
// with `pkg-config --cflags --libs ctnn-io`): loads a CSV, takes a few gradient steps, writes a
// checkpoint (the zlib checksum) and a model file, reads both back, and checks they round-trip.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/io/checkpoint.hpp"
#include "ctnn/io/csv.hpp"
#include "ctnn/io/weights.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DATA.csv WORK_DIR\n", argv[0]);
    return 2;
  }
  const std::string work = argv[2];
  const ctnn::io::Dataset d = ctnn::io::load_csv(argv[1]);
  using Net = ctnn::Sequential<ctnn::Dense<4, 8>, ctnn::ReLU, ctnn::Dense<8, 3>>;
  Net net(3);
  if (d.cols != Net::inputs) {
    std::fprintf(stderr, "consumer: %zu features, the net takes 4\n", d.cols);
    return 1;
  }
  std::vector<float> x(Net::inputs), y(Net::outputs);
  double first = 0, last = 0;
  for (int epoch = 0; epoch < 20; ++epoch) {
    double sum = 0;
    for (std::size_t r = 0; r < d.rows; ++r) {
      std::copy(d.row(r), d.row(r) + Net::inputs, x.begin());
      std::fill(y.begin(), y.end(), 0.0f);
      y[static_cast<std::size_t>(d.labels[r])] = 1;
      sum += net.gradient<1>(ctnn::loss::softmax_cross_entropy, x.data(), y.data());
      auto p = net.params();
      const auto g = net.grads();
      for (std::size_t i = 0; i < p.size(); ++i) p[i] -= 0.01f * g[i];
    }
    (epoch == 0 ? first : last) = sum / static_cast<double>(d.rows);
  }
  ctnn::io::save_checkpoint(work + "/c.ckpt", net, {}, ctnn::io::CheckpointMeta{});
  ctnn::io::save_model_json(net, work + "/m.json");
  Net from_ckpt(1), from_json(2);
  ctnn::io::load_checkpoint(work + "/c.ckpt", from_ckpt, {});
  ctnn::io::load_model_json(from_json, work + "/m.json");
  const auto p = net.params();
  const bool same = std::equal(p.begin(), p.end(), from_ckpt.params().begin()) &&
                    std::equal(p.begin(), p.end(), from_json.params().begin());
  std::printf("consumer (pkg-config): %zu rows, mean loss %.4f -> %.4f, files round-trip: %s\n", d.rows, first, last,
              same ? "yes" : "NO");
  return same && std::isfinite(last) && last < first ? 0 : 1;
}
