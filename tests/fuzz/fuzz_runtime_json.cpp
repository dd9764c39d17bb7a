// Fuzz target: ctnn::RuntimeNetwork::parse, the JSON topology description of a runtime network
// (layer sizes, activations, optional weights). Errors are std::invalid_argument. The harness skips
// descriptions asking for more than 2^16 parameters (after a first parse of its own): building such
// a network is a legitimate request for memory, not a loader bug.
#include <nlohmann/json.hpp>

#include "ctnn/nn/runtime_network.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = ctnn_fuzz::as_text(data, size);
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("layer_sizes") && j["layer_sizes"].is_array()) {
    double params = 0, prev = 0;
    for (const auto& v : j["layer_sizes"]) {
      const double n = v.is_number() ? v.get<double>() : 0;
      params += prev * n + n;
      prev = n;
    }
    if (params > 65536 || j["layer_sizes"].size() > 64) return 0;
  }
  try {
    const auto net = ctnn::RuntimeNetwork<double>::parse(text, "fuzz.json");
    (void)net.num_params();
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
