// Fuzz target: ctnn::io::load_csv and load_csv_unlabelled on arbitrary bytes (label column "label").
#include "ctnn/io/csv.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = ctnn_fuzz::write_scratch("input.csv", ctnn_fuzz::as_text(data, size));
  for (const bool labelled : {true, false}) {
    try {
      const ctnn::io::Dataset d = labelled ? ctnn::io::load_csv(path) : ctnn::io::load_csv_unlabelled(path);
      const bool labels_fit = d.labels.size() == d.rows || (!labelled && d.labels.empty());
      if (d.features.size() != d.rows * d.cols || !labels_fit || d.feature_names.size() != d.cols)
        std::abort();  // a loaded dataset must be consistent
    } catch (const ctnn::io::DataError&) {
    }
  }
  return 0;
}
