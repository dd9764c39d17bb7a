// IDX loader: small synthetic files written with zlib (good and bad), and the real Fashion-MNIST
// files from the dataset-fashion-mnist package (skipped only if that directory is absent).
#include <doctest/doctest.h>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "ctnn/io/dataset.hpp"
#include "ctnn/io/idx.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using ctnn::io::DataError;
using ctnn::io::Dataset;
using ctnn::io::load_fashion_mnist;
using ctnn::io::load_idx;
using Bytes = std::vector<unsigned char>;

namespace {

const char* const fashion_dir = "/usr/share/datasets/fashion-mnist";

const fs::path& temp_dir() {
  static const ctnn::test::TempDir d("io-idx");
  return d.path;
}

void put32(Bytes& b, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<unsigned char>(v >> shift));
}

Bytes images_file(std::uint32_t magic, std::uint32_t count, std::uint32_t rows, std::uint32_t cols,
                  const Bytes& pixels) {
  Bytes b;
  put32(b, magic);
  put32(b, count);
  put32(b, rows);
  put32(b, cols);
  b.insert(b.end(), pixels.begin(), pixels.end());
  return b;
}

Bytes labels_file(std::uint32_t magic, std::uint32_t count, const Bytes& labels) {
  Bytes b;
  put32(b, magic);
  put32(b, count);
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

// gzip-compresses `data` into a file of the temporary directory with zlib; returns its path.
std::string write_gz(const std::string& name, const Bytes& data) {
  const std::string path = (temp_dir() / name).string();
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  if (!data.empty())
    REQUIRE(gzwrite(f, data.data(), static_cast<unsigned>(data.size())) ==
            static_cast<int>(data.size()));
  REQUIRE(gzclose(f) == Z_OK);
  return path;
}

std::string write_plain(const std::string& name, const Bytes& data) {
  const std::string path = (temp_dir() / name).string();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  return path;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  FAIL_CHECK("no DataError thrown");
  return {};
}

bool has(const std::string& msg, const std::string& part) {
  return msg.find(part) != std::string::npos;
}

// Three 2x3 images, labels 0, 9, 4.
const Bytes pixels = {0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
const Bytes labels = {0, 9, 4};

}  // namespace

TEST_CASE("small gzipped IDX pair") {
  const std::string img = write_gz("small-images.gz", images_file(0x803, 3, 2, 3, pixels));
  const std::string lab = write_gz("small-labels.gz", labels_file(0x801, 3, labels));
  const Dataset d = load_idx(img, lab);
  REQUIRE(d.rows == 3);
  REQUIRE(d.cols == 6);
  CHECK(d.features.size() == 18);
  CHECK(d.labels == std::vector<int>{0, 9, 4});
  CHECK(d.num_classes() == 10);
  CHECK(d.row(0)[0] == 0.0f);
  CHECK(d.row(0)[1] == 1.0f);
  CHECK(d.row(0)[2] == doctest::Approx(0.2));
  CHECK(d.row(2)[5] == doctest::Approx(14.0 / 255.0));
  REQUIRE(d.feature_names.size() == 6);
  CHECK(d.feature_names[0] == "pixel_0_0");
  CHECK(d.feature_names[5] == "pixel_1_2");

  const Dataset raw = load_idx(img, lab, 1.0f);
  CHECK(raw.row(0)[1] == 255.0f);
  CHECK(raw.row(2)[5] == 14.0f);
}

TEST_CASE("uncompressed IDX files are read too") {
  const std::string img = write_plain("plain-images", images_file(0x803, 3, 2, 3, pixels));
  const std::string lab = write_plain("plain-labels", labels_file(0x801, 3, labels));
  const Dataset d = load_idx(img, lab, 1.0f);
  CHECK(d.rows == 3);
  CHECK(d.row(0)[3] == 102.0f);
  CHECK(d.row(1)[0] == 3.0f);
  CHECK(d.labels == std::vector<int>{0, 9, 4});
}

TEST_CASE("label bytes beyond 9 are kept and counted") {
  const std::string img = write_gz("big-label-images.gz", images_file(0x803, 1, 1, 1, {7}));
  const std::string lab = write_gz("big-label-labels.gz", labels_file(0x801, 1, {200}));
  const Dataset d = load_idx(img, lab);
  CHECK(d.labels[0] == 200);
  CHECK(d.num_classes() == 201);
}

TEST_CASE("missing file") {
  const std::string lab = write_gz("ok-labels.gz", labels_file(0x801, 3, labels));
  const std::string img = (temp_dir() / "no-such-images.gz").string();
  const std::string msg = error_of([&] { load_idx(img, lab); });
  CHECK(msg == img + ": cannot open file (No such file or directory)");
}

TEST_CASE("wrong magic number") {
  const std::string lab = write_gz("magic-labels.gz", labels_file(0x801, 3, labels));
  // An images file with the labels' magic.
  const std::string img = write_gz("magic-images.gz", images_file(0x801, 3, 2, 3, pixels));
  const std::string msg = error_of([&] { load_idx(img, lab); });
  CHECK(has(msg, img + ": wrong magic number"));
  CHECK(has(msg, "expected 0x00000803"));
  CHECK(has(msg, "found 0x00000801"));
  // A labels file with the images' magic.
  const std::string good_img = write_gz("magic-good-images.gz", images_file(0x803, 3, 2, 3, pixels));
  const std::string bad_lab = write_gz("magic-bad-labels.gz", labels_file(0x803, 3, labels));
  const std::string msg2 = error_of([&] { load_idx(good_img, bad_lab); });
  CHECK(has(msg2, bad_lab + ": wrong magic number: expected 0x00000801"));
  CHECK(has(msg2, "found 0x00000803"));
  // Little-endian writer mistake.
  const std::string swapped = write_gz("magic-swapped.gz", images_file(0x03080000, 3, 2, 3, pixels));
  CHECK(has(error_of([&] { load_idx(swapped, lab); }), "found 0x03080000"));
}

TEST_CASE("truncated header") {
  const std::string lab = write_gz("hdr-labels.gz", labels_file(0x801, 3, labels));
  const std::string img = write_gz("hdr-images.gz", {0, 0, 8, 3, 0});
  CHECK(error_of([&] { load_idx(img, lab); }) ==
        img + ": truncated header: expected 16 bytes, found 5");
  const std::string empty = write_gz("hdr-empty.gz", {});
  CHECK(has(error_of([&] { load_idx(empty, lab); }), empty + ": truncated header"));
}

TEST_CASE("truncated pixel data") {
  const std::string lab = write_gz("trunc-labels.gz", labels_file(0x801, 3, labels));
  const Bytes short_pixels(pixels.begin(), pixels.begin() + 7);
  const std::string img = write_gz("trunc-images.gz", images_file(0x803, 3, 2, 3, short_pixels));
  const std::string msg = error_of([&] { load_idx(img, lab); });
  CHECK(msg == img + ": truncated data: expected 18 bytes of pixel data, found 7");
}

TEST_CASE("truncated label data") {
  const std::string img = write_gz("trunc2-images.gz", images_file(0x803, 3, 2, 3, pixels));
  const std::string lab = write_gz("trunc2-labels.gz", labels_file(0x801, 3, {1, 2}));
  CHECK(error_of([&] { load_idx(img, lab); }) ==
        lab + ": truncated data: expected 3 bytes of label data, found 2");
}

TEST_CASE("cut-off gzip stream") {
  const std::string lab = write_gz("cut-labels.gz", labels_file(0x801, 3, labels));
  Bytes many(3 * 100 * 100);
  for (std::size_t i = 0; i < many.size(); ++i) many[i] = static_cast<unsigned char>(i * 7919 % 251);
  const std::string img = write_gz("cut-images.gz", images_file(0x803, 3, 100, 100, many));
  fs::resize_file(img, fs::file_size(img) / 2);
  const std::string msg = error_of([&] { load_idx(img, lab); });
  CHECK(has(msg, img + ": truncated data: expected 30000 bytes of pixel data, found "));
  CHECK(has(msg, "(gzip: "));
}

TEST_CASE("image and label counts differ") {
  const std::string img = write_gz("count-images.gz", images_file(0x803, 3, 2, 3, pixels));
  const std::string lab = write_gz("count-labels.gz", labels_file(0x801, 2, {1, 2}));
  const std::string msg = error_of([&] { load_idx(img, lab); });
  CHECK(msg == lab + ": label count 2 does not match image count 3 in " + img);
  CHECK(has(msg, "count-images.gz"));
  CHECK(has(msg, "count-labels.gz"));
}

TEST_CASE("implausible dimensions") {
  const std::string img = write_gz("huge-images.gz", images_file(0x803, 0xFFFFFFFF, 0xFFFF, 0xFFFF, {}));
  const std::string lab = write_gz("huge-labels.gz", labels_file(0x801, 0xFFFFFFFF, {}));
  CHECK(has(error_of([&] { load_idx(img, lab); }), img + ": implausible header"));
  const std::string zero = write_gz("zero-images.gz", images_file(0x803, 1, 0, 28, {}));
  CHECK(has(error_of([&] { load_idx(zero, lab); }), zero + ": implausible header"));
  // A header that promises much more than the file holds fails as truncated, quickly.
  const std::string big = write_gz("big-images.gz", images_file(0x803, 1000000, 28, 28, pixels));
  const std::string big_lab = write_gz("big-labels.gz", labels_file(0x801, 1000000, Bytes(1000000)));
  CHECK(has(error_of([&] { load_idx(big, big_lab); }),
            big + ": truncated data: expected 784000000 bytes of pixel data, found 18"));
}

TEST_CASE("load_fashion_mnist on a missing directory points at the package") {
  const std::string dir = (temp_dir() / "no-fashion-here").string();
  const std::string msg = error_of([&] { load_fashion_mnist(dir); });
  CHECK(has(msg, dir));
  CHECK(has(msg, "apt-get install dataset-fashion-mnist"));
  // A directory without the files.
  const std::string msg2 = error_of([&] { load_fashion_mnist(temp_dir().string()); });
  CHECK(has(msg2, "train-images-idx3-ubyte.gz"));
  CHECK(has(msg2, "apt-get install dataset-fashion-mnist"));
}

TEST_CASE("real Fashion-MNIST test set") {
  if (!fs::is_directory(fashion_dir)) {
    MESSAGE("skipped: " << fashion_dir << " is absent (apt-get install dataset-fashion-mnist)");
    return;
  }
  const std::string dir = fashion_dir;
  const Dataset d = load_idx(dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz");
  CHECK(d.rows == 10000);
  CHECK(d.cols == 784);
  CHECK(d.features.size() == 10000u * 784u);
  REQUIRE(d.labels.size() == 10000);
  CHECK(d.num_classes() == 10);
  std::array<int, 10> per_class{};
  for (int l : d.labels) {
    REQUIRE((l >= 0 && l <= 9));
    ++per_class[static_cast<std::size_t>(l)];
  }
  for (int n : per_class) CHECK(n == 1000);  // the test set is balanced
  const auto [lo, hi] = std::minmax_element(d.features.begin(), d.features.end());
  CHECK(*lo == 0.0f);
  CHECK(*hi == 1.0f);
  CHECK(d.feature_names.back() == "pixel_27_27");
}

TEST_CASE("real Fashion-MNIST, train and test, loads fast") {
  if (!fs::is_directory(fashion_dir)) {
    MESSAGE("skipped: " << fashion_dir << " is absent (apt-get install dataset-fashion-mnist)");
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const ctnn::io::TrainTest tt = load_fashion_mnist();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("load_fashion_mnist: " << seconds << " s");
  CHECK(tt.train.rows == 60000);
  CHECK(tt.train.cols == 784);
  CHECK(tt.train.num_classes() == 10);
  CHECK(tt.test.rows == 10000);
  CHECK(tt.test.cols == 784);
  // The speed claim is about the optimised build: the ASan+UBSan build (-O1, every access checked)
  // runs the same load several times slower, so there only the content is checked.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
  MESSAGE("sanitizer build: the time limit is not checked");
#else
  CHECK(seconds < 10.0);
#endif
}
