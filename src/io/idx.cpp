// IDX loader (MNIST / Fashion-MNIST format) over zlib's gz* API: each payload is read with one
// gzread into a byte buffer, then converted to floats.
#include "ctnn/io/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

namespace ctnn::io {
namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t images_magic = 0x00000803;  // unsigned byte, 3 dimensions
constexpr std::uint32_t labels_magic = 0x00000801;  // unsigned byte, 1 dimension
constexpr std::uint64_t max_payload = std::uint64_t{1} << 34;  // 16 GiB: anything more is corrupt

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(v));
  return buf;
}

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path) {
    std::error_code ec;
    if (!fs::exists(path, ec))
      throw DataError(path + ": cannot open file (No such file or directory)", path);
    if (fs::is_directory(path, ec))
      throw DataError(path + ": cannot open file (Is a directory)", path);
    errno = 0;
    f_ = gzopen(path.c_str(), "rb");
    if (!f_) {
      const int e = errno;
      throw DataError(path + ": cannot open file (" + (e ? std::strerror(e) : "out of memory") + ")",
                      path);
    }
    gzbuffer(f_, 1u << 17);
  }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;
  ~GzReader() { gzclose(f_); }

  // Reads up to n bytes; returns how many were read (fewer only at end of data or a truncated
  // gzip stream). Other gzip errors throw.
  std::size_t read(unsigned char* dst, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - got, INT_MAX));
      const int r = gzread(f_, dst + got, chunk);
      if (r < 0) throw DataError(path_ + ": gzip error: " + zlib_message(), path_);
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    return got;
  }

  // " (gzip: <message>)" if zlib recorded an error (such as a truncated stream), else "".
  std::string note() const {
    int err = Z_OK;
    gzerror(f_, &err);
    return err == Z_OK ? std::string() : " (gzip: " + zlib_message() + ")";
  }
  std::string zlib_message() const {
    int err = Z_OK;
    const char* msg = gzerror(f_, &err);
    std::string m = msg && *msg ? std::string(msg) : "zlib error " + std::to_string(err);
    // zlib prefixes its message with the path we already print first.
    if (m.rfind(path_ + ": ", 0) == 0) m.erase(0, path_.size() + 2);
    return m;
  }

  void read_header(unsigned char* dst, std::size_t n) {
    const std::size_t got = read(dst, n);
    if (got < n)
      throw DataError(path_ + ": truncated header: expected " + std::to_string(n) +
                          " bytes, found " + std::to_string(got) + note(),
                      path_);
  }

  void check_magic(std::uint32_t found, std::uint32_t expected, const char* kind) {
    if (found != expected)
      throw DataError(path_ + ": wrong magic number: expected " + hex32(expected) + " (" + kind +
                          "), found " + hex32(found),
                      path_);
  }

  std::vector<unsigned char> read_payload(std::size_t n, const char* what) {
    // Grow the buffer as data arrives (one gzread for anything up to 64 MiB), so that a header
    // that promises far more than the file holds costs no huge allocation.
    constexpr std::size_t step = std::size_t{64} << 20;
    std::vector<unsigned char> buf;
    std::size_t got = 0;
    while (got < n) {
      const std::size_t want = std::min(n - got, step);
      buf.resize(got + want);
      const std::size_t r = read(buf.data() + got, want);
      got += r;
      if (r < want) break;
    }
    if (got < n)
      throw DataError(path_ + ": truncated data: expected " + std::to_string(n) + " bytes of " +
                          what + ", found " + std::to_string(got) + note(),
                      path_);
    return buf;
  }

 private:
  std::string path_;
  gzFile f_ = nullptr;
};

}  // namespace

Dataset load_idx(const std::string& images_gz, const std::string& labels_gz, float scale) {
  GzReader img(images_gz), lab(labels_gz);

  // Both headers first, so a mismatch fails before the large payload is inflated.
  unsigned char ih[16], lh[8];
  img.read_header(ih, sizeof ih);
  img.check_magic(be32(ih), images_magic, "IDX images: unsigned byte, 3 dimensions");
  lab.read_header(lh, sizeof lh);
  lab.check_magic(be32(lh), labels_magic, "IDX labels: unsigned byte, 1 dimension");

  const std::uint64_t count = be32(ih + 4), h = be32(ih + 8), w = be32(ih + 12);
  const std::uint64_t nlabels = be32(lh + 4);
  const std::uint64_t pixels = h * w;  // < 2^64: both < 2^32
  if (h == 0 || w == 0 || pixels > max_payload || count > max_payload / pixels)
    throw DataError(images_gz + ": implausible header: " + std::to_string(count) + " images of " +
                        std::to_string(h) + " x " + std::to_string(w) + " pixels",
                    images_gz);
  // No images but huge dimensions would still cost a feature name per pixel (found by fuzzing:
  // 0 images of 8 x 16777216 pixels allocated 4 GiB of names); an empty dataset is no use anyway.
  if (count == 0)
    throw DataError(images_gz + ": no images (the header says 0 images of " + std::to_string(h) + " x " +
                        std::to_string(w) + " pixels)",
                    images_gz);
  if (count != nlabels)
    throw DataError(labels_gz + ": label count " + std::to_string(nlabels) +
                        " does not match image count " + std::to_string(count) + " in " + images_gz,
                    labels_gz);

  Dataset d;
  d.rows = static_cast<std::size_t>(count);
  d.cols = static_cast<std::size_t>(pixels);

  const std::vector<unsigned char> lbuf = lab.read_payload(d.rows, "label data");
  const std::vector<unsigned char> pbuf = img.read_payload(d.rows * d.cols, "pixel data");

  d.labels.assign(lbuf.begin(), lbuf.end());
  d.features.resize(pbuf.size());
  const unsigned char* src = pbuf.data();
  float* dst = d.features.data();
  for (std::size_t i = 0, n = pbuf.size(); i < n; ++i) dst[i] = static_cast<float>(src[i]) * scale;

  d.feature_names.reserve(d.cols);
  for (std::uint64_t r = 0; r < h; ++r)
    for (std::uint64_t c = 0; c < w; ++c)
      d.feature_names.push_back("pixel_" + std::to_string(r) + "_" + std::to_string(c));
  return d;
}

namespace {
// The path of a Fashion-MNIST file in dir, or a DataError saying how to install the dataset.
std::string fashion_file(const std::string& dir, const char* name) {
  const char* hint = "install it with: apt-get install dataset-fashion-mnist";
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw DataError("Fashion-MNIST not found: directory " + dir + " does not exist (" + hint + ")",
                    dir);
  const fs::path p = fs::path(dir) / name;
  if (!fs::exists(p, ec))
    throw DataError("Fashion-MNIST file missing: " + p.string() + " (" + hint + ")", p.string());
  return p.string();
}
}  // namespace

TrainTest load_fashion_mnist(const std::string& dir) {
  // All four checked, in this order, before anything is read.
  const std::string train_images = fashion_file(dir, "train-images-idx3-ubyte.gz");
  const std::string train_labels = fashion_file(dir, "train-labels-idx1-ubyte.gz");
  const std::string test_images = fashion_file(dir, "t10k-images-idx3-ubyte.gz");
  const std::string test_labels = fashion_file(dir, "t10k-labels-idx1-ubyte.gz");
  TrainTest tt;
  tt.train = load_idx(train_images, train_labels);
  tt.test = load_idx(test_images, test_labels);
  return tt;
}

Dataset load_fashion_mnist_test(const std::string& dir) {
  const std::string images = fashion_file(dir, "t10k-images-idx3-ubyte.gz");
  return load_idx(images, fashion_file(dir, "t10k-labels-idx1-ubyte.gz"));
}

}  // namespace ctnn::io
