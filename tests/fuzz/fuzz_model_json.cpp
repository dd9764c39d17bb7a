// Fuzz target: ctnn::io::load_model_json (the JSON model file, nlohmann-json behind ctnn's checks)
// for Dense(2,3) sigmoid Dense(3,1); the first byte picks the network's dtype (bit 0: float or
// double). A rejected file must leave the parameters untouched.
#include <cmath>
#include <vector>

#include "ctnn/io/weights.hpp"
#include "fuzz_input.hpp"

namespace {

template <class T>
void run(const std::string& path, const char* dtype) {
  const ctnn::io::ModelSpec spec{dtype, {{"Dense", 2, 3}, {"sigmoid", 0, 0}, {"Dense", 3, 1}}};
  std::vector<T> params(spec.num_params(), T(0.25)), before = params;
  try {
    ctnn::io::load_model_json<T>(path, spec, params);
    for (T v : params)
      if (!std::isfinite(v)) std::abort();  // a loaded weight is finite
  } catch (const ctnn::io::DataError&) {
    if (params != before) std::abort();  // nothing half-loaded
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string path = ctnn_fuzz::write_scratch("model.json", ctnn_fuzz::as_text(data + 1, size - 1));
  if (data[0] & 1) run<float>(path, "float32");
  else run<double>(path, "float64");
  return 0;
}
