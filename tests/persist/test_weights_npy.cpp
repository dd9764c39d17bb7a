// The .npy folder (xtensor's xnpy): one file per tensor, bit-exact round trips, files numpy would
// read ([out, in] C-order W, [out] b), and every bad-file case of docs/errors.md: exact message, and
// the network keeps its previous weights (the bad file is always the last one read, so earlier
// blocks were parsed into the temporary buffer before the rejection).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

#include "ctnn/ctnn.hpp"
#include "ctnn/io/weights.hpp"
#include "persist_check.hpp"

using namespace ctnn;
using persist::check_rejected;

namespace {

using NetF = Network<float, Dense<3, 4>, Tanh, Dense<4, 2>>;
using NetD = NetF::rebind<double>;

const auto save_file = [](const auto& net, const std::string& dir) { io::save_weights_npy(net, dir); };
const auto load_file = [](auto& net, const std::string& dir) { io::load_weights_npy(net, dir); };

}  // namespace

TEST_CASE(".npy folder round-trips bit for bit (float and double)") {
  persist::TempDir dir("npy-rt");
  persist::check_round_trip<NetF>(dir / "w", save_file, load_file);
  persist::check_round_trip<NetD>(dir / "w", save_file, load_file);
}

TEST_CASE(".npy files are named by layer and block and hold W [out, in], b [out]") {
  persist::TempDir dir("npy-layout");
  NetF net(4, Init::xavier_normal);
  io::save_weights_npy(net, dir / "w");
  const auto spec = io::model_spec<NetF>();
  CHECK(io::npy_file_name(spec, 2, 'W') == "layer2.Dense.W.npy");
  const auto w = xt::load_npy<float>(dir / "w/layer2.Dense.W.npy");
  const auto b = xt::load_npy<float>(dir / "w/layer2.Dense.b.npy");
  REQUIRE(w.shape().size() == 2);
  CHECK(w.shape()[0] == 2);
  CHECK(w.shape()[1] == 4);
  REQUIRE(b.shape().size() == 1);
  CHECK(b.shape()[0] == 2);
  for (std::size_t r = 0; r < 2; ++r)
    for (std::size_t c = 0; c < 4; ++c) CHECK(w(r, c) == net.params()[NetF::block_offset[2] + r * 4 + c]);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path / "w")) ++files;
  CHECK(files == 4);  // no temporaries left behind
}

TEST_CASE("a float32 .npy folder loads exactly into a double network") {
  persist::TempDir dir("npy-widen");
  persist::check_widening<NetF>(dir / "w", save_file, load_file);
}

TEST_CASE("bad .npy files are rejected whole with a message naming file and place") {
  persist::TempDir dir("npy-bad");
  const std::string w = dir / "w";
  {
    NetF other(77, Init::xavier_normal);
    io::save_weights_npy(other, w);
  }
  NetF net(1, Init::xavier_normal);
  const auto params = std::span<const float>(net.params());
  const auto load = [&] { io::load_weights_npy(net, w); };
  const std::string f = w + "/layer2.Dense.b.npy";  // the last file read
  const std::string good = persist::read_bytes(f);
  const std::size_t header = good.size() - 2 * sizeof(float);

  SUBCASE("missing file") {
    std::filesystem::remove(f);
    check_rejected(params, load, f + ": cannot open file (No such file or directory)");
  }
  SUBCASE("wrong dtype: int64") {
    persist::write_bytes(f, xt::dump_npy(xt::xarray<long long>{1, 2}));
    check_rejected(params, load,
                   f + ": layer 2 (Dense(4,2)) b: dtype '<i8' is not little-endian float32 ('<f4') or float64 ('<f8')");
  }
  SUBCASE("wrong dtype: float64 into a float network") {
    persist::write_bytes(f, xt::dump_npy(xt::xarray<double>{1, 2}));
    check_rejected(params, load,
                   f + ": layer 2 (Dense(4,2)) b: dtype '<f8' (float64) cannot be loaded into a float32 network "
                       "(narrowing would round)");
  }
  SUBCASE("wrong shape") {
    persist::write_bytes(f, xt::dump_npy(xt::xarray<float>{1, 2, 3}));
    check_rejected(params, load, f + ": layer 2 (Dense(4,2)) b: expected shape [2], found [3]");
  }
  SUBCASE("W transposed") {
    persist::write_bytes(w + "/layer2.Dense.W.npy", xt::dump_npy(xt::xarray<float>::from_shape({4, 2})));
    check_rejected(params, load, w + "/layer2.Dense.W.npy: layer 2 (Dense(4,2)) W: expected shape [2, 4], found [4, 2]");
  }
  SUBCASE("fortran order") {
    xt::xarray<float, xt::layout_type::column_major> a = xt::zeros<float>({2, 4});
    persist::write_bytes(w + "/layer2.Dense.W.npy", xt::dump_npy(a));
    check_rejected(params, load,
                   w + "/layer2.Dense.W.npy: layer 2 (Dense(4,2)) W: fortran_order (column-major) arrays are not read; "
                       "save it in C order");
  }
  SUBCASE("truncated data") {
    persist::write_bytes(f, good.substr(0, good.size() - 3));
    check_rejected(params, load, f + ": truncated data: expected 8 bytes after the header, found 5");
  }
  SUBCASE("truncated header") {
    persist::write_bytes(f, good.substr(0, 40));
    check_rejected(params, load,
                   f + ": truncated header: it declares " + std::to_string(header - 10) +
                       " header bytes, the file has 30 after the magic");
  }
  SUBCASE("shorter than a magic") {
    persist::write_bytes(f, good.substr(0, 7));
    check_rejected(params, load, f + ": truncated header: 7 bytes, a .npy file starts with at least 10");
  }
  SUBCASE("bad magic") {
    std::string b = good;
    b[1] = 'X';
    persist::write_bytes(f, b);
    check_rejected(params, load, f + ": bad magic: not a .npy file (it must start with \\x93NUMPY)");
  }
  SUBCASE("unsupported version") {
    std::string b = good;
    b[6] = 7;
    persist::write_bytes(f, b);
    check_rejected(params, load, f + ": unsupported .npy version 7.0 (1.0 and 2.0 are read)");
  }
  SUBCASE("malformed header") {
    std::string b = good;
    b.replace(b.find("'descr'"), 7, "'dascr'");
    persist::write_bytes(f, b);
    check_rejected(params, load, f + ": malformed .npy header (xtensor: missing 'descr' key)");
  }
  SUBCASE("header without a shape tuple") {
    std::string b = good;
    const auto at = b.find("(2,)");
    REQUIRE(at != std::string::npos);
    b.replace(at, 4, "    ");
    persist::write_bytes(f, b);
    check_rejected(params, load,
                   f + ": malformed .npy header (expected {'descr': ..., 'fortran_order': ..., 'shape': (...), } and a "
                       "newline)");
  }
  SUBCASE("blank header") {
    std::string b = good;
    std::fill(b.begin() + 10, b.begin() + long(header), ' ');
    b[header - 1] = '\n';
    persist::write_bytes(f, b);
    check_rejected(params, load,
                   f + ": malformed .npy header (expected {'descr': ..., 'fortran_order': ..., 'shape': (...), } and a "
                       "newline)");
  }
  SUBCASE("trailing bytes") {
    persist::write_bytes(f, good + "xyz");
    check_rejected(params, load, f + ": 3 unexpected bytes after the data (expected 8)");
  }
  SUBCASE("NaN in the data") {
    persist::write_bytes(f, xt::dump_npy(xt::xarray<float>{0.5f, std::numeric_limits<float>::quiet_NaN()}));
    check_rejected(params, load, f + ": layer 2 (Dense(4,2)) b[1]: non-finite value nan");
  }
  SUBCASE("Inf in W") {
    xt::xarray<float> a = xt::zeros<float>({2, 4});
    a(1, 3) = -std::numeric_limits<float>::infinity();
    persist::write_bytes(w + "/layer2.Dense.W.npy", xt::dump_npy(a));
    check_rejected(params, load, w + "/layer2.Dense.W.npy: layer 2 (Dense(4,2)) W[1, 3]: non-finite value -inf");
  }
}
