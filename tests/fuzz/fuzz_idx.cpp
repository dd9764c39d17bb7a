// Fuzz target: ctnn::io::load_idx on an image file and a label file cut from one input: the first
// byte (mod the rest's length + 1) says where the images end and the labels begin. Files are plain
// (zlib reads an uncompressed file as it is) unless they start with gzip's magic.
#include "ctnn/io/idx.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest = ctnn_fuzz::as_text(data + 1, size - 1);
  const std::size_t cut = data[0] % (rest.size() + 1);
  const std::string images = ctnn_fuzz::write_scratch("images.idx", rest.substr(0, cut));
  const std::string labels = ctnn_fuzz::write_scratch("labels.idx", rest.substr(cut));
  try {
    const ctnn::io::Dataset d = ctnn::io::load_idx(images, labels);
    if (d.features.size() != d.rows * d.cols || d.labels.size() != d.rows) std::abort();
  } catch (const ctnn::io::DataError&) {
  }
  return 0;
}
