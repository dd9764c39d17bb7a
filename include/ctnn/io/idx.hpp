// ctnn/io/idx.hpp: load IDX image/label files (the MNIST / Fashion-MNIST format), gzipped or not,
// into a Dataset. Link ctnn_io_dep (brings zlib).
#pragma once

#include <string>

#include "ctnn/io/dataset.hpp"

namespace ctnn::io {

// Reads an IDX3 unsigned-byte image file (magic 0x00000803: count, rows, cols, then the pixels)
// and an IDX1 unsigned-byte label file (magic 0x00000801: count, then the labels); both may be
// gzip-compressed (read with zlib; plain files are read as they are). Each image becomes one row
// of rows*cols features, pixel * scale (default: grey levels to [0, 1]); feature names are
// "pixel_<r>_<c>". Any label byte is accepted; num_classes() is the largest label + 1.
// Throws DataError naming the file for: a missing/unreadable file, a truncated header, a wrong
// magic number, implausible dimensions, no images, truncated pixel or label data, a gzip error, and an image
// count that differs from the label count (that message names both files).
Dataset load_idx(const std::string& images_gz, const std::string& labels_gz,
                 float scale = 1.0f / 255.0f);

struct TrainTest {
  Dataset train, test;
};

// Loads Fashion-MNIST from `dir` ({train,t10k}-{images-idx3,labels-idx1}-ubyte.gz): train is
// 60000 x 784, test 10000 x 784, pixels scaled to [0, 1], 10 classes. If the directory or one of
// its files is missing, throws DataError whose message says `apt-get install dataset-fashion-mnist`.
TrainTest load_fashion_mnist(const std::string& dir = "/usr/share/datasets/fashion-mnist");
// Its test split alone (t10k-*: what evaluating or predicting needs), checked the same way.
Dataset load_fashion_mnist_test(const std::string& dir = "/usr/share/datasets/fashion-mnist");

}  // namespace ctnn::io
