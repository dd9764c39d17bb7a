// Checkpoint files: 32-byte header + CBOR payload (nlohmann-json), CRC32 from zlib, written with
// write_file_atomically. Hand-written: the fixed header (magic, version, length, two CRCs) that makes
// a torn or corrupt file detectable before the payload is parsed.
#include "ctnn/io/checkpoint.hpp"

#include <zlib.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ctnn/io/atomic_file.hpp"
#include "weights_detail.hpp"

namespace ctnn::io {

static_assert(std::endian::native == std::endian::little, "ctnn checkpoints store little-endian values");

namespace {

using json = nlohmann::json;
using detail::bad;

constexpr char magic[8] = {'C', 'T', 'N', 'N', 'C', 'K', 'P', 'T'};
constexpr std::uint32_t version = 1;
constexpr std::size_t header_size = 32;
constexpr const char* format_name = "ctnn-checkpoint";

std::uint32_t crc(const void* p, std::size_t n) {
  uLong c = crc32(0L, Z_NULL, 0);
  const auto* b = static_cast<const Bytef*>(p);
  while (n > 0) {  // zlib takes uInt lengths
    const uInt k = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    c = crc32(c, b, k);
    b += k;
    n -= k;
  }
  return static_cast<std::uint32_t>(c);
}

template <class U>
void put(char* at, U v) {
  std::memcpy(at, &v, sizeof v);
}
template <class U>
U get(const char* at) {
  U v;
  std::memcpy(&v, at, sizeof v);
  return v;
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(v));
  return buf;
}

template <class T>
json::binary_t to_binary(std::span<const T> v) {
  json::binary_t b(std::vector<std::uint8_t>(v.size_bytes()));
  if (!v.empty()) std::memcpy(b.data(), v.data(), v.size_bytes());
  return b;
}

template <class T>
void check_finite(const std::string& path, const std::string& at, std::span<const T> v, bool saving) {
  for (std::size_t k = 0; k < v.size(); ++k)
    if (!std::isfinite(v[k]))
      bad(path, at + "/" + std::to_string(k),
          std::string(saving ? "cannot save a " : "") + "non-finite value " + detail::number_string(v[k]));
}

template <class T>
std::vector<T> from_binary(const std::string& path, const std::string& at, const json& v) {
  if (!v.is_binary()) bad(path, at, std::string("expected a byte string, found ") + v.type_name());
  const auto& b = v.get_binary();
  if (b.size() % sizeof(T) != 0)
    bad(path, at, std::to_string(b.size()) + " bytes is not a whole number of " + dtype_name<T>() + " values");
  std::vector<T> out(b.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), b.data(), b.size());
  check_finite<T>(path, at, out, false);
  return out;
}

std::uint64_t count_value(const std::string& path, const json& p, const char* key) {
  const auto it = p.find(key);
  if (it == p.end()) bad(path, std::string("/") + key, "missing key");
  if (!it->is_number_unsigned()) bad(path, std::string("/") + key, std::string("expected a non-negative integer, found ") + it->type_name());
  return it->get<std::uint64_t>();
}

}  // namespace

template <class T>
void save_checkpoint(const std::string& path, std::string_view topology, std::span<const T> params,
                     std::span<const NamedBuffer<const T>> buffers, const CheckpointMeta& meta) {
  check_finite<T>(path, "/params", params, true);
  json p;
  p["format"] = format_name;
  p["dtype"] = dtype_name<T>();
  p["topology"] = std::string(topology);
  p["params"] = to_binary(params);
  json bufs = json::object();
  for (const auto& b : buffers) {
    if (bufs.contains(b.name)) throw DataError(path + ": cannot save: buffer name \"" + b.name + "\" appears twice", path);
    check_finite<T>(path, "/buffers/" + b.name, b.data, true);
    bufs[b.name] = to_binary(b.data);
  }
  p["buffers"] = std::move(bufs);
  p["step"] = meta.step;
  p["schedule_position"] = meta.schedule_position;
  p["epoch"] = meta.epoch;
  if (meta.rng) {
    std::ostringstream ss;
    ss << *meta.rng;
    p["rng"] = ss.str();
  } else {
    p["rng"] = nullptr;
  }
  if (!meta.values.empty()) {
    json values = json::object();
    for (const auto& [name, v] : meta.values) {
      if (!std::isfinite(v))
        throw DataError(path + ": cannot save: value \"" + name + "\" is not finite (" + std::to_string(v) + ")", path);
      values[name] = v;
    }
    p["values"] = std::move(values);
  }
  const std::vector<std::uint8_t> payload = json::to_cbor(p);
  std::string file(header_size + payload.size(), '\0');
  std::memcpy(file.data(), magic, 8);
  put<std::uint32_t>(file.data() + 8, version);
  put<std::uint32_t>(file.data() + 12, 0);
  put<std::uint64_t>(file.data() + 16, payload.size());
  put<std::uint32_t>(file.data() + 24, crc(payload.data(), payload.size()));
  put<std::uint32_t>(file.data() + 28, crc(file.data(), 28));
  std::memcpy(file.data() + header_size, payload.data(), payload.size());
  write_file_atomically(path, file);
}

template <class T>
CheckpointData<T> read_checkpoint(const std::string& path) {
  const std::string f = detail::read_file(path);
  if (f.size() < header_size)
    throw DataError(path + ": truncated header: " + std::to_string(f.size()) + " bytes, a checkpoint header has 32",
                    path);
  if (std::memcmp(f.data(), magic, 8) != 0)
    throw DataError(path + ": bad magic: not a ctnn checkpoint (it must start with \"CTNNCKPT\")", path);
  if (get<std::uint32_t>(f.data() + 28) != crc(f.data(), 28))
    throw DataError(path + ": header checksum mismatch (the header is corrupt)", path);
  if (const auto v = get<std::uint32_t>(f.data() + 8); v != version)
    throw DataError(path + ": unsupported checkpoint version " + std::to_string(v) + " (this build reads version 1)",
                    path);
  const std::uint64_t len = get<std::uint64_t>(f.data() + 16), have = f.size() - header_size;
  if (have < len)
    throw DataError(path + ": truncated: the header promises " + std::to_string(len) + " payload bytes, the file has " +
                        std::to_string(have),
                    path);
  if (have > len)
    throw DataError(path + ": " + std::to_string(have - len) + " unexpected bytes after the payload", path);
  const char* payload = f.data() + header_size;
  if (const std::uint32_t stored = get<std::uint32_t>(f.data() + 24), computed = crc(payload, len); stored != computed)
    throw DataError(path + ": payload checksum mismatch: stored " + hex32(stored) + ", computed " + hex32(computed) +
                        " (the file is corrupt)",
                    path);
  json p;
  try {
    p = json::from_cbor(payload, payload + len);
  } catch (const json::exception& e) {
    throw DataError(path + ": payload is not valid CBOR (" + e.what() + ")", path);
  }
  if (!p.is_object()) bad(path, "/", std::string("expected a map, found ") + p.type_name());
  const auto str = [&](const char* key) -> std::string {
    const auto it = p.find(key);
    if (it == p.end()) bad(path, std::string("/") + key, "missing key");
    if (!it->is_string()) bad(path, std::string("/") + key, std::string("expected a string, found ") + it->type_name());
    return it->get<std::string>();
  };
  if (const auto fmt = str("format"); fmt != format_name)
    bad(path, "/format", std::string("expected \"") + format_name + "\", found \"" + fmt + "\"");
  if (const auto dt = str("dtype"); dt != dtype_name<T>())
    bad(path, "/dtype", "the checkpoint holds " + dt + " values, expected " + dtype_name<T>());
  CheckpointData<T> d;
  d.topology = str("topology");
  const auto it = p.find("params");
  if (it == p.end()) bad(path, "/params", "missing key");
  d.params = from_binary<T>(path, "/params", *it);
  const auto bs = p.find("buffers");
  if (bs == p.end()) bad(path, "/buffers", "missing key");
  if (!bs->is_object()) bad(path, "/buffers", std::string("expected a map, found ") + bs->type_name());
  for (const auto& [name, v] : bs->items()) d.buffers.emplace_back(name, from_binary<T>(path, "/buffers/" + name, v));
  d.meta.step = count_value(path, p, "step");
  d.meta.schedule_position = count_value(path, p, "schedule_position");
  d.meta.epoch = count_value(path, p, "epoch");
  const auto r = p.find("rng");
  if (r == p.end()) bad(path, "/rng", "missing key");
  if (r->is_string()) {
    std::istringstream ss(r->get<std::string>());
    std::mt19937_64 e;
    ss >> e;
    if (ss.fail() || !(ss >> std::ws).eof()) bad(path, "/rng", "not a valid std::mt19937_64 state");
    d.meta.rng = e;
  } else if (!r->is_null()) {
    bad(path, "/rng", std::string("expected a string or null, found ") + r->type_name());
  }
  if (const auto vs = p.find("values"); vs != p.end()) {
    if (!vs->is_object()) bad(path, "/values", std::string("expected a map, found ") + vs->type_name());
    for (const auto& [name, v] : vs->items()) {
      if (!v.is_number_float()) bad(path, "/values/" + name, std::string("expected a float, found ") + v.type_name());
      const double x = v.template get<double>();
      if (!std::isfinite(x)) bad(path, "/values/" + name, "not finite");
      d.meta.values[name] = x;
    }
  }
  return d;
}

template <class T>
CheckpointMeta load_checkpoint(const std::string& path, std::string_view topology, std::span<T> params,
                               std::span<const NamedBuffer<T>> buffers) {
  CheckpointData<T> d = read_checkpoint<T>(path);
  if (d.topology != topology)
    bad(path, "/topology", "expected \"" + std::string(topology) + "\", found \"" + d.topology + "\"");
  if (d.params.size() != params.size())
    bad(path, "/params",
        "expected " + std::to_string(params.size()) + " values, found " + std::to_string(d.params.size()));
  std::vector<const std::vector<T>*> src(buffers.size());
  for (std::size_t i = 0; i < buffers.size(); ++i) {
    for (const auto& [name, v] : d.buffers)
      if (name == buffers[i].name) src[i] = &v;
    if (!src[i]) bad(path, "/buffers", "expected a buffer \"" + buffers[i].name + "\", the file has none");
    if (src[i]->size() != buffers[i].data.size())
      bad(path, "/buffers/" + buffers[i].name,
          "expected " + std::to_string(buffers[i].data.size()) + " values, found " + std::to_string(src[i]->size()));
  }
  for (const auto& [name, v] : d.buffers) {
    bool wanted = false;
    for (const auto& b : buffers) wanted = wanted || b.name == name;
    if (!wanted) bad(path, "/buffers/" + name, "the file holds a buffer \"" + name + "\" that nothing expects");
  }
  // commit: everything has been checked
  std::copy(d.params.begin(), d.params.end(), params.begin());
  for (std::size_t i = 0; i < buffers.size(); ++i) std::copy(src[i]->begin(), src[i]->end(), buffers[i].data.begin());
  return d.meta;
}

#define CTNN_IO_CHECKPOINT_INSTANTIATE(T)                                                              \
  template void save_checkpoint<T>(const std::string&, std::string_view, std::span<const T>,           \
                                   std::span<const NamedBuffer<const T>>, const CheckpointMeta&);      \
  template CheckpointMeta load_checkpoint<T>(const std::string&, std::string_view, std::span<T>,       \
                                             std::span<const NamedBuffer<T>>);                        \
  template CheckpointData<T> read_checkpoint<T>(const std::string&);
CTNN_IO_CHECKPOINT_INSTANTIATE(float)
CTNN_IO_CHECKPOINT_INSTANTIATE(double)

}  // namespace ctnn::io
