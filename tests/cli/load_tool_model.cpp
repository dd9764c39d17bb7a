// tests/cli/load_tool_model.cpp: what a C++ user does with a model saved by `ctnn train --dataset iris
// --save m.json`: loads it into the iris preset's network type with the io layer and classifies a CSV
// file's rows. The test `cli_model_file` compares its classes with `ctnn predict`'s.
//   load_tool_model MODEL DATA.csv          io::load_model_json(net, MODEL, io::with_standardizer),
//                                           the returned standardisation applied: one class per row
//   load_tool_model MODEL DATA.csv --raw    the same without applying it (what the plain load once let
//                                           a user do silently)
//   load_tool_model MODEL DATA.csv --plain  io::load_model_json(net, MODEL): must refuse a tool's file
// Exit code 3 with the DataError's message on stderr when a load refuses the file.
#include <cstdio>
#include <optional>
#include <string>

#include "ctnn/ctnn.hpp"
#include "ctnn/io/csv.hpp"
#include "ctnn/io/weights.hpp"

int main(int argc, char** argv) {
  using namespace ctnn;
  if (argc < 3) {
    std::fprintf(stderr, "usage: load_tool_model MODEL DATA.csv [--raw | --plain]\n");
    return 2;
  }
  const std::string mode = argc > 3 ? argv[3] : "";
  using Net = Sequential<Dense<4, 8>, ReLU, Dense<8, 3>>;  // src/cli/preset_iris.cpp
  Net net(0);
  try {
    io::Dataset d = io::load_csv_unlabelled(argv[2]);
    std::optional<io::Standardizer> st;
    if (mode == "--plain") io::load_model_json(net, argv[1]);
    else st = io::load_model_json(net, argv[1], io::with_standardizer);
    if (st && mode != "--raw") st->apply(d);
    for (std::size_t i = 0; i < d.rows; ++i) {
      float out[Net::outputs];
      net.forward<1>(d.row(i), out);
      std::size_t best = 0;
      for (std::size_t k = 1; k < Net::outputs; ++k)
        if (out[k] > out[best]) best = k;
      std::printf("%zu\n", best);
    }
  } catch (const io::DataError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 3;
  }
  return 0;
}
