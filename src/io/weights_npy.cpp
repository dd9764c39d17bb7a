// Weight files, the .npy folder (xtensor's xnpy): one file per tensor. The loader reads and checks
// every file into a temporary buffer and copies it into the caller's parameters only at the end.
// Hand-written here: bounds guards in front of xnpy (it trusts the header length and reads
// uninitialised bytes when a file is shorter than its header says, and does not report truncated
// data), and the checks against the compile-time topology.
#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "ctnn/io/atomic_file.hpp"
#include "ctnn/io/weights.hpp"
#include "weights_detail.hpp"

namespace ctnn::io {

namespace fs = std::filesystem;
using namespace detail;

// ---- .npy folder -----------------------------------------------------------------------------------
std::string npy_file_name(const ModelSpec& spec, std::size_t index, char which) {
  return "layer" + std::to_string(index) + "." + spec.layers.at(index).type + "." + which + ".npy";
}

namespace {

// Reads one .npy file (xnpy) into dst after checking dtype, layout, shape, length and finiteness.
template <class T>
void read_npy_block(const std::string& file, const std::string& who, const std::vector<std::size_t>& want,
                    T* dst) {
  const std::string bytes = read_file(file);
  // Guards xnpy needs: it trusts the header length and reads uninitialised memory past the end.
  if (bytes.size() < 10)
    throw DataError(file + ": truncated header: " + std::to_string(bytes.size()) +
                        " bytes, a .npy file starts with at least 10",
                    file);
  unsigned char major = 0, minor = 0;
  {
    std::istringstream magic(bytes.substr(0, 8));
    try {
      xt::detail::read_magic(magic, &major, &minor);
    } catch (const std::exception&) {
      throw DataError(file + ": bad magic: not a .npy file (it must start with \\x93NUMPY)", file);
    }
  }
  if (!((major == 1 || major == 2) && minor == 0))
    throw DataError(file + ": unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor) +
                        " (1.0 and 2.0 are read)",
                    file);
  const auto u = [&](std::size_t i) { return std::size_t{static_cast<unsigned char>(bytes[i])}; };
  const std::size_t prefix = major == 1 ? 10 : 12;
  if (bytes.size() < prefix)
    throw DataError(file + ": truncated header: " + std::to_string(bytes.size()) + " bytes", file);
  const std::size_t hlen = major == 1 ? u(8) | u(9) << 8 : u(8) | u(9) << 8 | u(10) << 16 | u(11) << 24;
  if (hlen == 0 || prefix + hlen > bytes.size())
    throw DataError(file + ": truncated header: it declares " + std::to_string(hlen) + " header bytes, the file has " +
                        std::to_string(bytes.size() - prefix) + " after the magic",
                    file);
  // xnpy's parser calls back() on empty strings when the dictionary or the shape value is missing.
  std::string dict = bytes.substr(prefix, hlen);
  dict.erase(std::remove(dict.begin(), dict.end(), ' '), dict.end());
  const auto shape_at = dict.find("'shape':");
  if (dict.size() < 3 || dict.front() != '{' || dict.substr(dict.size() - 2) != "}\n" || shape_at == std::string::npos ||
      dict[shape_at + 8] != '(')
    throw DataError(file + ": malformed .npy header (expected {'descr': ..., 'fortran_order': ..., 'shape': (...), } "
                           "and a newline)",
                    file);
  std::string descr;
  bool fortran = false;
  std::vector<std::size_t> shape;
  try {
    xt::detail::parse_header(bytes.substr(prefix, hlen), descr, &fortran, shape);
  } catch (const std::exception& e) {
    throw DataError(file + ": malformed .npy header (xtensor: " + e.what() + ")", file);
  }
  const bool f32 = descr == "<f4", f64 = descr == "<f8";
  if (!f32 && !f64)
    throw DataError(file + ": " + who + ": dtype '" + descr + "' is not little-endian float32 ('<f4') or float64 ('<f8')",
                    file);
  if (f64 && std::is_same_v<T, float>)
    throw DataError(file + ": " + who +
                        ": dtype '<f8' (float64) cannot be loaded into a float32 network (narrowing would round)",
                    file);
  if (shape != want)
    throw DataError(file + ": " + who + ": expected shape " + shape_string(want) + ", found " + shape_string(shape),
                    file);
  if (fortran && shape.size() > 1)
    throw DataError(file + ": " + who + ": fortran_order (column-major) arrays are not read; save it in C order", file);
  std::size_t count = 1;
  for (std::size_t s : shape) count *= s;
  const std::size_t need = count * (f32 ? 4 : 8), have = bytes.size() - prefix - hlen;
  if (have < need)
    throw DataError(file + ": truncated data: expected " + std::to_string(need) + " bytes after the header, found " +
                        std::to_string(have),
                    file);
  if (have > need)
    throw DataError(file + ": " + std::to_string(have - need) + " unexpected bytes after the data (expected " +
                        std::to_string(need) + ")",
                    file);
  std::istringstream in(bytes);
  const auto put = [&](const auto& a) {
    for (std::size_t k = 0; k < count; ++k) {
      const auto v = a.data()[k];
      if (!std::isfinite(v)) {
        std::string idx = "[" + std::to_string(shape.size() == 2 ? k / shape[1] : k);
        if (shape.size() == 2) idx += ", " + std::to_string(k % shape[1]);
        throw DataError(file + ": " + who + idx + "]: non-finite value " + number_string(static_cast<double>(v)), file);
      }
      dst[k] = static_cast<T>(v);
    }
  };
  if (f32) put(xt::load_npy<float>(in));
  else put(xt::load_npy<double>(in));
  if (!in) throw DataError(file + ": read error in the data", file);
}

}  // namespace

template <class T>
void save_weights_npy(const std::string& dir, const ModelSpec& spec, std::span<const T> params) {
  check_size(spec, params.size(), dir.c_str());
  check_finite_for_save(dir, spec, params);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw DataError(dir + ": cannot create folder (" + ec.message() + ")", dir);
  for (const Block& b : blocks_of(spec)) {
    const auto a = xt::adapt(params.data() + b.offset, b.size(), xt::no_ownership(), b.shape);
    write_file_atomically(fs::path(dir) / npy_file_name(spec, b.layer, b.which), xt::dump_npy(a));
  }
}

template <class T>
void load_weights_npy(const std::string& dir, const ModelSpec& spec, std::span<T> params) {
  check_size(spec, params.size(), dir.c_str());
  std::vector<T> tmp(params.size());
  for (const Block& b : blocks_of(spec))
    read_npy_block((fs::path(dir) / npy_file_name(spec, b.layer, b.which)).string(), block_name(spec, b), b.shape,
                   tmp.data() + b.offset);
  std::copy(tmp.begin(), tmp.end(), params.begin());  // commit: every file has been checked
}

#define CTNN_IO_WEIGHTS_INSTANTIATE(T)                                                         \
  template void save_weights_npy<T>(const std::string&, const ModelSpec&, std::span<const T>); \
  template void load_weights_npy<T>(const std::string&, const ModelSpec&, std::span<T>);
CTNN_IO_WEIGHTS_INSTANTIATE(float)
CTNN_IO_WEIGHTS_INSTANTIATE(double)

}  // namespace ctnn::io
