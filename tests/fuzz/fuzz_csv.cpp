// Fuzz target: ctnn::io::load_csv on arbitrary bytes (label column "label").
#include "ctnn/io/csv.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = ctnn_fuzz::write_scratch("input.csv", ctnn_fuzz::as_text(data, size));
  try {
    const ctnn::io::Dataset d = ctnn::io::load_csv(path);
    if (d.features.size() != d.rows * d.cols || d.labels.size() != d.rows || d.feature_names.size() != d.cols)
      std::abort();  // a loaded dataset must be consistent
  } catch (const ctnn::io::DataError&) {
  }
  return 0;
}
