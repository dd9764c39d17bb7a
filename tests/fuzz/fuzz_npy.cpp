// Fuzz target: ctnn::io::load_weights_npy (the .npy folder loader, xtensor's xnpy behind ctnn's
// guards) for Dense(3,2) relu. The input is one .npy file; the first byte picks which tensor it
// replaces (bit 0: W [2, 3] or b [2]) and the network's dtype (bit 1: float or double); the other
// tensor is a valid file. A rejected file must leave the parameters untouched.
#include <array>
#include <cmath>
#include <vector>

#include "ctnn/io/weights.hpp"
#include "fuzz_input.hpp"

namespace {

const ctnn::io::ModelSpec& spec(bool f32) {
  static const ctnn::io::ModelSpec f{"float32", {{"Dense", 3, 2}, {"relu", 0, 0}}};
  static const ctnn::io::ModelSpec d{"float64", {{"Dense", 3, 2}, {"relu", 0, 0}}};
  return f32 ? f : d;
}

template <class T>
void run(const std::string& dir, bool f32) {
  std::vector<T> params(8, T(0.25)), before = params;
  try {
    ctnn::io::load_weights_npy<T>(dir, spec(f32), params);
    for (T v : params)
      if (!std::isfinite(v)) std::abort();  // a loaded weight is finite
  } catch (const ctnn::io::DataError&) {
    if (params != before) std::abort();  // nothing half-loaded
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const std::string dir = [] {
    const std::array<double, 8> ok{1, 2, 3, 4, 5, 6, 7, 8};
    // Valid twins: saved by the library itself, float32 (loads into both dtypes).
    const std::vector<float> p(ok.begin(), ok.end());
    ctnn::io::save_weights_npy<float>((ctnn_fuzz::scratch() / "npy").string(), spec(true), p);
    return (ctnn_fuzz::scratch() / "npy").string();
  }();
  static const std::string valid_w = ctnn_fuzz::read_all(dir + "/layer0.Dense.W.npy");
  static const std::string valid_b = ctnn_fuzz::read_all(dir + "/layer0.Dense.b.npy");
  const bool is_w = data[0] & 1, f32 = data[0] & 2;
  const std::string_view file = ctnn_fuzz::as_text(data + 1, size - 1);
  ctnn_fuzz::write_scratch("npy/layer0.Dense.W.npy", is_w ? file : std::string_view(valid_w));
  ctnn_fuzz::write_scratch("npy/layer0.Dense.b.npy", is_w ? std::string_view(valid_b) : file);
  if (f32) run<float>(dir, true);
  else run<double>(dir, false);
  return 0;
}
