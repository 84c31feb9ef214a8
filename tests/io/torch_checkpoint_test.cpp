// SPDX-License-Identifier: Apache-2.0
#include "pare/io/torch_checkpoint.hpp"

#include <bit>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "io/io_test_util.hpp"
#include "pare/io/checksum.hpp"
#include "pare/io/detail/pickle.hpp"
#include "pare/io/detail/pickle_state_dict.hpp"
#include "pare/io/detect.hpp"
#include "pare/io/npy.hpp"

namespace {

namespace fs = std::filesystem;
using pare::io::TorchCheckpoint;

fs::path torch_data(std::string_view rel) { return fs::path(PARE_TEST_DATA_DIR) / "torch" / rel; }

TorchCheckpoint open_mem(std::vector<std::byte> b,
                         const pare::io::detail::PickleLimits& limits = {}) {
  return TorchCheckpoint(pare::io::MappedFile::from_buffer(std::move(b), "mem.pt"), limits);
}

// Opens a checkpoint and reads every tensor, so storage CRCs and gathers are exercised too.
void read_everything(std::vector<std::byte> b) {
  const auto ck = open_mem(std::move(b));
  for (const auto& n : ck.names()) {
    const auto& i = ck.info(n);
    if (i.rank() == 0) continue;
    if (i.rank() == 1) (void)ck.load_float<1>(n);
    if (i.rank() == 2) (void)ck.load_float<2>(n);
    if (i.rank() == 3) (void)ck.load_float<3>(n);
  }
}

// Runs the pickle VM and the state_dict walker alone on raw bytes.
void run_vm(std::vector<std::byte> b) {
  const auto p = pare::io::detail::run_pickle(b, "mem.pkl");
  (void)pare::io::detail::state_dict_tensors(p);
}

template <class T, std::size_t Rank>
void require_equal(const pare::Tensor<T, Rank>& got, const fs::path& npy) {
  const auto want = pare::io::read_npy<T, Rank>(npy);
  REQUIRE(got.extents() == want.extents());
  for (std::size_t k = 0; k < got.size(); ++k) REQUIRE(got.data()[k] == want.data()[k]);
}

// --- a tiny pickle writer for hostile inputs -------------------------------------------------

struct TensorSpec {
  std::string storage_type = "FloatStorage";
  std::string key = "0";
  std::int64_t numel = 6;
  std::int64_t offset = 0;
  std::vector<std::int64_t> size{2, 3};
  std::vector<std::int64_t> stride{3, 1};
  bool legacy = false;  ///< a legacy stream's persistent id: a sixth item, None or the view below
  std::string view_key{};  ///< non-empty: the storage is (view_key, view_offset, view_size)
  std::int64_t view_offset = 0;
  std::int64_t view_size = 0;
};

struct PickleWriter {
  std::vector<std::byte> b;

  PickleWriter& op(unsigned c) {
    b.push_back(static_cast<std::byte>(c));
    return *this;
  }
  PickleWriter& raw(std::string_view s) {
    pare_test::append(b, s);
    return *this;
  }
  PickleWriter& proto() { return op(0x80).op(2); }
  PickleWriter& global(std::string_view m, std::string_view n) {
    return op('c').raw(m).raw("\n").raw(n).raw("\n");
  }
  PickleWriter& str(std::string_view s) {
    op('X');
    pare_test::append_le<std::uint32_t>(b, static_cast<std::uint32_t>(s.size()));
    return raw(s);
  }
  PickleWriter& integer(std::int64_t v) {
    if (v >= 0 && v < 256) return op('K').op(static_cast<unsigned>(v));
    if (v >= std::numeric_limits<std::int32_t>::min() &&
        v <= std::numeric_limits<std::int32_t>::max()) {
      op('J');
      pare_test::append_le<std::uint32_t>(b,
                                          static_cast<std::uint32_t>(static_cast<std::int32_t>(v)));
      return *this;
    }
    op(0x8a).op(8);
    pare_test::append_le<std::uint64_t>(b, static_cast<std::uint64_t>(v));
    return *this;
  }
  PickleWriter& ints(const std::vector<std::int64_t>& v) {
    op('(');
    for (auto x : v) integer(x);
    return op('t');
  }
  PickleWriter& tensor(const TensorSpec& t) {
    global("torch._utils", "_rebuild_tensor_v2").op('(');
    op('(').str("storage").global("torch", t.storage_type).str(t.key).str("cpu").integer(t.numel);
    if (t.legacy && t.view_key.empty()) op('N');
    if (t.legacy && !t.view_key.empty())
      str(t.view_key).integer(t.view_offset).integer(t.view_size).op(0x87);
    op('t').op('Q');
    integer(t.offset).ints(t.size).ints(t.stride).op(0x89);
    global("collections", "OrderedDict").op(')').op('R');
    return op('t').op('R');
  }
  PickleWriter& state_dict(const std::vector<std::pair<std::string, TensorSpec>>& tensors) {
    proto().op('}').op('(');
    for (const auto& [name, t] : tensors) str(name).tensor(t);
    return op('u').op('.');
  }
};

std::vector<std::byte> pickle_of(const std::vector<std::pair<std::string, TensorSpec>>& tensors) {
  return PickleWriter{}.state_dict(tensors).b;
}

// A stored zip of (name, bytes) entries, as torch.save lays them out.
std::vector<std::byte> make_zip(
    const std::vector<std::pair<std::string, std::vector<std::byte>>>& entries) {
  using pare_test::append;
  using pare_test::append_le;
  std::vector<std::byte> v;
  std::vector<std::byte> cd;
  for (const auto& [name, data] : entries) {
    const std::uint32_t crc = pare::io::crc32(data);
    const auto at = static_cast<std::uint32_t>(v.size());
    append_le<std::uint32_t>(v, 0x04034b50u);
    append_le<std::uint16_t>(v, 20);
    append_le<std::uint16_t>(v, 0);
    append_le<std::uint16_t>(v, 0);
    append_le<std::uint32_t>(v, 0);
    append_le<std::uint32_t>(v, crc);
    append_le<std::uint32_t>(v, static_cast<std::uint32_t>(data.size()));
    append_le<std::uint32_t>(v, static_cast<std::uint32_t>(data.size()));
    append_le<std::uint16_t>(v, static_cast<std::uint16_t>(name.size()));
    append_le<std::uint16_t>(v, 0);
    append(v, name);
    v.insert(v.end(), data.begin(), data.end());
    append_le<std::uint32_t>(cd, 0x02014b50u);
    append_le<std::uint16_t>(cd, 20);
    append_le<std::uint16_t>(cd, 20);
    append_le<std::uint16_t>(cd, 0);
    append_le<std::uint16_t>(cd, 0);
    append_le<std::uint32_t>(cd, 0);
    append_le<std::uint32_t>(cd, crc);
    append_le<std::uint32_t>(cd, static_cast<std::uint32_t>(data.size()));
    append_le<std::uint32_t>(cd, static_cast<std::uint32_t>(data.size()));
    append_le<std::uint16_t>(cd, static_cast<std::uint16_t>(name.size()));
    append_le<std::uint16_t>(cd, 0);
    append_le<std::uint16_t>(cd, 0);
    append_le<std::uint16_t>(cd, 0);
    append_le<std::uint16_t>(cd, 0);
    append_le<std::uint32_t>(cd, 0);
    append_le<std::uint32_t>(cd, at);
    append(cd, name);
  }
  const auto cd_offset = static_cast<std::uint32_t>(v.size());
  v.insert(v.end(), cd.begin(), cd.end());
  append_le<std::uint32_t>(v, 0x06054b50u);
  append_le<std::uint16_t>(v, 0);
  append_le<std::uint16_t>(v, 0);
  append_le<std::uint16_t>(v, static_cast<std::uint16_t>(entries.size()));
  append_le<std::uint16_t>(v, static_cast<std::uint16_t>(entries.size()));
  append_le<std::uint32_t>(v, static_cast<std::uint32_t>(cd.size()));
  append_le<std::uint32_t>(v, cd_offset);
  append_le<std::uint16_t>(v, 0);
  return v;
}

std::vector<std::byte> floats_bytes(std::size_t n) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i < n; ++i) {
    const float f = static_cast<float>(i);
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    pare_test::append_le<std::uint32_t>(out, u);
  }
  return out;
}

// A checkpoint with one pickle and float storages "0" (and more) of the given element counts.
std::vector<std::byte> checkpoint(std::vector<std::byte> pkl,
                                  std::vector<std::pair<std::string, std::size_t>> storages = {
                                      {"0", 6}}) {
  std::vector<std::pair<std::string, std::vector<std::byte>>> e{
      {"archive/data.pkl", std::move(pkl)}};
  for (const auto& [key, n] : storages) e.emplace_back("archive/data/" + key, floats_bytes(n));
  e.emplace_back("archive/version", pare_test::bytes("3\n"));
  return make_zip(e);
}

// A legacy torch.save stream: the pickled magic number, protocol `version`, an empty sys_info,
// the object, the list `keys`, then per record (key, element count, float elements written).
struct LegacyRecord {
  std::size_t count = 6;
  std::size_t floats = 6;
};
std::vector<std::byte> legacy_stream(const std::vector<std::byte>& object,
                                     const std::vector<std::string>& keys = {"0"},
                                     const std::vector<LegacyRecord>& records = {{}},
                                     std::int64_t version = 1001) {
  PickleWriter w;
  w.proto().op(0x8a).op(10);
  for (unsigned m : {0x6cu, 0xfcu, 0x9cu, 0x46u, 0xf9u, 0x20u, 0x6au, 0xa8u, 0x50u, 0x19u}) w.op(m);
  w.op('.').proto().integer(version).op('.').proto().op('}').op('.');
  w.raw(std::string_view(reinterpret_cast<const char*>(object.data()), object.size()));
  w.proto().op(']').op('(');
  for (const auto& k : keys) w.str(k);
  w.op('e').op('.');
  for (const auto& r : records) {
    pare_test::append_le<std::uint64_t>(w.b, r.count);
    const auto f = floats_bytes(r.floats);
    w.b.insert(w.b.end(), f.begin(), f.end());
  }
  return w.b;
}

TensorSpec legacy_spec() {
  TensorSpec t;
  t.legacy = true;
  return t;
}

std::vector<std::byte> one_tensor(const TensorSpec& t,
                                  std::vector<std::pair<std::string, std::size_t>> storages = {
                                      {"0", 6}}) {
  return checkpoint(pickle_of({{"w", t}}), std::move(storages));
}

}  // namespace

TEST_CASE("torch: an MLP state_dict reads in order with exact values", "[io][torch]") {
  const auto ck = TorchCheckpoint::open(torch_data("mlp.pt"));
  REQUIRE(ck.names() == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  REQUIRE(ck.archive_name() == "mlp");
  REQUIRE(ck.version() == 3);
  REQUIRE_FALSE(ck.big_endian());
  const auto& i = ck.info("0.weight");
  REQUIRE(i.dtype == pare::DType::f32);
  REQUIRE(i.shape == std::vector<std::size_t>{4, 8});
  REQUIRE(i.strides == std::vector<std::size_t>{8, 1});
  REQUIRE(i.location == "cpu");
  REQUIRE_FALSE(i.parameter);
  REQUIRE(i.is_contiguous());
  require_equal(ck.load<float, 2>("0.weight"), torch_data("mlp__0.weight.npy"));
  require_equal(ck.load<float, 1>("0.bias"), torch_data("mlp__0.bias.npy"));
  require_equal(ck.load<float, 2>("2.weight"), torch_data("mlp__2.weight.npy"));
  require_equal(ck.load<float, 1>("2.bias"), torch_data("mlp__2.bias.npy"));
  REQUIRE(ck.contains("2.bias"));
  REQUIRE_FALSE(ck.contains("1.weight"));
  REQUIRE_THROWS_AS(ck.info("1.weight"), pare::ArgumentError);
  REQUIRE_THROWS_WITH((ck.load<float, 2>("nope")), Catch::Contains("no tensor 'nope'"));
}

TEST_CASE("torch: wrong dtype is a FormatError, wrong rank a ShapeError", "[io][torch]") {
  const auto ck = TorchCheckpoint::open(torch_data("mlp.pt"));
  REQUIRE_THROWS_AS((ck.load<double, 2>("0.weight")), pare::FormatError);
  REQUIRE_THROWS_WITH(
      (ck.load<double, 2>("0.weight")),
      Catch::Contains("tensor holds f32 (torch.FloatStorage), the caller asked for f64") &&
          Catch::Contains("0.weight"));
  REQUIRE_THROWS_AS((ck.load<float, 1>("0.weight")), pare::ShapeError);
  REQUIRE_THROWS_WITH((ck.load<float, 3>("0.weight")),
                      Catch::Contains("rank 2") && Catch::Contains("[4, 8]"));
}

TEST_CASE("torch: nn.Parameter objects (torch.save of named_parameters)", "[io][torch]") {
  const auto ck = TorchCheckpoint::open(torch_data("params.pt"));
  REQUIRE(ck.names() == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  REQUIRE(ck.info("0.weight").parameter);
  REQUIRE(ck.info("0.weight").requires_grad);
  require_equal(ck.load<float, 2>("0.weight"), torch_data("mlp__0.weight.npy"));
  require_equal(ck.load<float, 1>("2.bias"), torch_data("mlp__2.bias.npy"));
}

TEST_CASE("torch: every storage dtype", "[io][torch]") {
  const auto ck = TorchCheckpoint::open(torch_data("dtypes.pt"));
  REQUIRE(ck.names() == std::vector<std::string>{"f32", "f64", "f16", "bf16", "i64", "i32", "i16",
                                                 "i8", "u8", "bool"});
  require_equal(ck.load<float, 2>("f32"), torch_data("dtypes__f32.npy"));
  require_equal(ck.load<double, 2>("f64"), torch_data("dtypes__f64.npy"));
  require_equal(ck.load<pare::f16, 2>("f16"), torch_data("dtypes__f16.npy"));
  require_equal(ck.load<std::int64_t, 2>("i64"), torch_data("dtypes__i64.npy"));
  require_equal(ck.load<std::int32_t, 2>("i32"), torch_data("dtypes__i32.npy"));
  require_equal(ck.load<std::int16_t, 2>("i16"), torch_data("dtypes__i16.npy"));
  require_equal(ck.load<std::int8_t, 2>("i8"), torch_data("dtypes__i8.npy"));
  require_equal(ck.load<std::uint8_t, 2>("u8"), torch_data("dtypes__u8.npy"));
  require_equal(ck.load<bool, 2>("bool"), torch_data("dtypes__bool.npy"));
  // numpy has no bfloat16: the reference holds the same values as float32, exactly.
  const auto bf = ck.load<pare::bf16, 2>("bf16");
  const auto want = pare::io::read_npy<float, 2>(torch_data("dtypes__bf16.npy"));
  for (std::size_t k = 0; k < 6; ++k) REQUIRE(static_cast<float>(bf.data()[k]) == want.data()[k]);
  // load_float converts every dtype.
  for (const auto& n : ck.names()) {
    const auto f = ck.load_float<2>(n);
    REQUIRE(f.extents() == pare::Shape<2>{2, 3});
  }
  REQUIRE(ck.load_float<2>("bf16").data()[0] == -1.25f);
  REQUIRE(ck.load_float<2>("i8").data()[0] == -128.0f);
  REQUIRE(ck.load_float<2>("bool").data()[0] == 1.0f);
  REQUIRE(ck.load_float<2>("f64").data()[5] == 1.25f);
  REQUIRE_THROWS_WITH((ck.load<float, 2>("bf16")), Catch::Contains("holds bf16"));
}

TEST_CASE("torch: strided views, shared storages, 0-d and empty tensors", "[io][torch]") {
  for (const char* file : {"views.pt", "proto4.pt"}) {
    INFO(file);
    const auto ck = TorchCheckpoint::open(torch_data(file));
    REQUIRE(ck.names() == std::vector<std::string>{"transposed", "base", "row", "step", "permuted",
                                                   "scalar", "empty"});
    const auto& t = ck.info("transposed");
    REQUIRE(t.shape == std::vector<std::size_t>{4, 3});
    REQUIRE(t.strides == std::vector<std::size_t>{1, 4});
    REQUIRE_FALSE(t.is_contiguous());
    REQUIRE(ck.info("row").storage_offset == 4);
    REQUIRE(ck.info("step").storage_offset == 1);
    REQUIRE(ck.info("base").storage_key == t.storage_key);
    REQUIRE(ck.info("row").storage_key == t.storage_key);
    require_equal(ck.load<float, 2>("transposed"), torch_data("views__transposed.npy"));
    require_equal(ck.load<float, 2>("base"), torch_data("views__base.npy"));
    require_equal(ck.load<float, 1>("row"), torch_data("views__row.npy"));
    require_equal(ck.load<float, 2>("step"), torch_data("views__step.npy"));
    require_equal(ck.load<std::int32_t, 3>("permuted"), torch_data("views__permuted.npy"));
    REQUIRE(ck.info("scalar").shape.empty());
    REQUIRE(ck.item<double>("scalar") == 3.5);
    REQUIRE_THROWS_WITH((ck.load<double, 1>("scalar")), Catch::Contains("item()"));
    REQUIRE_THROWS_AS(ck.item<float>("row"), pare::ShapeError);
    const auto e = ck.load<float, 2>("empty");
    REQUIRE(e.extents() == pare::Shape<2>{0, 3});
    REQUIRE(e.empty());
  }
}

TEST_CASE("torch: nested training checkpoints name tensors by key path", "[io][torch]") {
  const auto ck = TorchCheckpoint::open(torch_data("nested.pt"));
  REQUIRE(ck.names() == std::vector<std::string>{"state_dict.0.weight", "state_dict.0.bias",
                                                 "state_dict.2.weight", "state_dict.2.bias",
                                                 "extra.0"});
  require_equal(ck.load<float, 2>("state_dict.0.weight"), torch_data("mlp__0.weight.npy"));
  const auto x = ck.load<std::int64_t, 1>("extra.0");
  REQUIRE(x.size() == 3);
  REQUIRE(x(2) == 3);
}

TEST_CASE("torch: big-endian files are byte-swapped", "[io][torch]") {
  const auto ck = TorchCheckpoint::open(torch_data("bigendian.pt"));
  REQUIRE(ck.big_endian());
  require_equal(ck.load<float, 2>("0.weight"), torch_data("mlp__0.weight.npy"));
  require_equal(ck.load<float, 1>("2.bias"), torch_data("mlp__2.bias.npy"));
}

TEST_CASE("torch: legacy (pre-zip) files hold the same tensors as the zip format",
          "[io][torch][legacy]") {
  const std::pair<const char*, const char*> pairs[] = {{"legacy.pt", "mlp.pt"},
                                                       {"legacy_dtypes.pt", "dtypes.pt"},
                                                       {"legacy_views.pt", "views.pt"},
                                                       {"legacy_proto4.pt", "nested.pt"}};
  for (const auto& [legacy, zip] : pairs) {
    INFO(legacy);
    REQUIRE(pare::io::detect_format(torch_data(legacy)) == pare::io::FileFormat::torch);
    const auto a = TorchCheckpoint::open(torch_data(legacy));
    const auto b = TorchCheckpoint::open(torch_data(zip));
    CHECK(a.legacy());
    CHECK_FALSE(b.legacy());
    CHECK(a.version() == 1001);
    CHECK(a.archive_name().empty());
    REQUIRE(a.names() == b.names());
    for (const auto& n : a.names()) {
      INFO(n);
      const auto& ia = a.info(n);
      const auto& ib = b.info(n);
      CHECK(ia.dtype == ib.dtype);
      CHECK(ia.shape == ib.shape);
      CHECK(ia.strides == ib.strides);
      CHECK(ia.storage_offset == ib.storage_offset);
      CHECK(ia.storage_numel == ib.storage_numel);
      CHECK(a.load_bytes(n) == b.load_bytes(n));
    }
  }
  // And against numpy's copies of the tensors (written by PyTorch, not by pare).
  const auto mlp = TorchCheckpoint::open(torch_data("legacy.pt"));
  require_equal(mlp.load<float, 2>("0.weight"), torch_data("mlp__0.weight.npy"));
  require_equal(mlp.load<float, 1>("2.bias"), torch_data("mlp__2.bias.npy"));
  const auto views = TorchCheckpoint::open(torch_data("legacy_views.pt"));
  require_equal(views.load<float, 2>("transposed"), torch_data("views__transposed.npy"));
  require_equal(views.load<float, 2>("step"), torch_data("views__step.npy"));
  require_equal(views.load<std::int32_t, 3>("permuted"), torch_data("views__permuted.npy"));
  CHECK(views.item<double>("scalar") == 3.5);
  const auto dtypes = TorchCheckpoint::open(torch_data("legacy_dtypes.pt"));
  require_equal(dtypes.load<pare::f16, 2>("f16"), torch_data("dtypes__f16.npy"));
  require_equal(dtypes.load<bool, 2>("bool"), torch_data("dtypes__bool.npy"));
}

TEST_CASE("torch: a legacy storage view reads as PyTorch reads it", "[io][torch][legacy]") {
  // ('storage', FloatStorage, '1', 'cpu', 6, ('2', 2, 4)): the tensor sees elements 2..5 of the
  // six stored (torch.load gives [2, 3, 4, 5]).
  const auto ck = TorchCheckpoint::open(torch_data("legacy_storage_view.pt"));
  const auto w = ck.load<float, 1>("w");
  REQUIRE(w.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) CHECK(w[i] == static_cast<float>(i + 2));
  CHECK(ck.info("w").storage_offset == 2);
  CHECK(ck.info("w").storage_numel == 6);
  // The same from a hand-written stream, and views that leave their storage.
  TensorSpec t = legacy_spec();
  t.view_key = "v";
  t.view_offset = 2;
  t.view_size = 4;
  t.size = {2, 2};
  t.stride = {2, 1};
  const auto ok = open_mem(legacy_stream(pickle_of({{"w", t}})));
  CHECK(ok.load<float, 2>("w")(1, 1) == 5.0f);
  t.view_offset = 3;  // 3 + 4 > 6
  CHECK_THROWS_WITH(open_mem(legacy_stream(pickle_of({{"w", t}}))),
                    Catch::Contains("outside its storage of 6"));
  t.view_offset = 2;
  t.size = {2, 3};  // 6 elements of a 4-element view
  t.stride = {3, 1};
  CHECK_THROWS_AS(open_mem(legacy_stream(pickle_of({{"w", t}}))), pare::FormatError);
}

TEST_CASE("torch: malformed legacy streams are FormatErrors", "[io][torch][legacy]") {
  const auto obj = pickle_of({{"w", legacy_spec()}});
  CHECK(open_mem(legacy_stream(obj)).load<float, 2>("w")(1, 2) == 5.0f);
  auto rejects = [](const std::vector<std::byte>& b, const std::string& what) {
    INFO(what);
    REQUIRE_THROWS_AS(open_mem(b), pare::FormatError);
    REQUIRE_THROWS_WITH(open_mem(b), Catch::Contains(what));
  };
  rejects(legacy_stream(obj, {"0"}, {{.count = 5, .floats = 6}}),
          "holds 5 elements, the pickle says 6");
  rejects(legacy_stream(obj, {"0"}, {{.count = 6, .floats = 5}}), "remain in the file");
  rejects(legacy_stream(obj, {"0"}, {{}, {}}), "bytes after the last storage");
  rejects(legacy_stream(obj, {"0", "0"}, {{}, {}}), "listed twice");
  rejects(legacy_stream(obj, {"0", "1"}, {{}, {}}), "names no storage");
  rejects(legacy_stream(obj, {}, {}), "not in the storage key list");
  rejects(legacy_stream(pickle_of({{"w", TensorSpec{}}})), "persistent id must be");
  auto no_count = legacy_stream(obj, {"0"}, {});
  no_count.push_back(std::byte{6});
  rejects(no_count, "8-byte element count");
  // Two persistent ids for one key must describe the same storage.
  TensorSpec other = legacy_spec();
  other.storage_type = "DoubleStorage";
  rejects(legacy_stream(pickle_of({{"a", legacy_spec()}, {"b", other}})), "here but 6 f32 before");
  // Not a legacy protocol pare knows.
  REQUIRE_THROWS_AS(open_mem(legacy_stream(obj, {"0"}, {{}}, 1000)), pare::UnsupportedError);
  // The object must be a state_dict; code in it is refused as in the zip format.
  PickleWriter evil;
  evil.proto().global("os", "system").str("echo").op(0x85).op('R').op('.');
  rejects(legacy_stream(evil.b, {}, {}), "'os.system' is not allowed");
}

TEST_CASE("torch: every truncation of a legacy file is a FormatError, every flip safe",
          "[io][torch][legacy]") {
  for (const char* file : {"legacy.pt", "legacy_views.pt", "legacy_proto4.pt"}) {
    INFO(file);
    const auto good = pare_test::read_all(torch_data(file));
    read_everything(good);
    pare_test::every_prefix_throws_format_error(
        good, [](std::vector<std::byte> b) { read_everything(std::move(b)); });
    (void)pare_test::every_flip_is_safe(
        good, [](std::vector<std::byte> b) { read_everything(std::move(b)); });
  }
}

TEST_CASE("torch: malicious pickles are refused", "[io][torch]") {
  REQUIRE_THROWS_AS(TorchCheckpoint::open(torch_data("malicious.pt")), pare::FormatError);
  try {
    (void)TorchCheckpoint::open(torch_data("malicious.pt"));
  } catch (const pare::FormatError& e) {
    REQUIRE(e.field() == "GLOBAL");
    REQUIRE(std::string(e.what()).find("pickle global 'os.system' is not allowed") !=
            std::string::npos);
    REQUIRE(std::string(e.what()).find("malicious/data.pkl") != std::string::npos);
    // The GLOBAL opcode is byte 2 of the pickle, which starts right after its local header.
    const auto bytes = pare_test::read_all(torch_data("malicious.pt"));
    REQUIRE(std::to_integer<char>(bytes[e.offset()]) == 'c');
  }
  // The same pickle fed to the VM directly; STACK_GLOBAL (protocol 4) is checked the same way.
  PickleWriter w;
  w.proto().global("os", "system").str("echo").op(0x85).op('R').op('.');
  REQUIRE_THROWS_WITH(run_vm(w.b), Catch::Contains("'os.system' is not allowed"));
  PickleWriter w4;
  w4.op(0x80).op(4).op(0x8c).op(8).raw("builtins").op(0x8c).op(4).raw("eval").op(0x93).op('.');
  REQUIRE_THROWS_WITH(run_vm(w4.b), Catch::Contains("'builtins.eval' is not allowed"));
  // A well-formed TorchScript-like or bare archive names what it is.
  REQUIRE_THROWS_AS(open_mem(make_zip({{"m/data.pkl", pickle_of({})},
                                       {"m/constants.pkl", {}},
                                       {"m/version", pare_test::bytes("3\n")}})),
                    pare::UnsupportedError);
  REQUIRE_THROWS_WITH(open_mem(make_zip({{"data.pkl", pickle_of({})}})),
                      Catch::Contains("not inside a folder"));
}

TEST_CASE("torch: every truncation is a FormatError and every flipped byte is safe",
          "[io][torch]") {
  const auto good = pare_test::read_all(torch_data("mlp.pt"));
  pare_test::every_prefix_throws_format_error(
      good, [](std::vector<std::byte> b) { read_everything(std::move(b)); });
  const std::size_t rejected = pare_test::every_flip_is_safe(
      good, [](std::vector<std::byte> b) { read_everything(std::move(b)); });
  REQUIRE(rejected > good.size());
  const auto views = pare_test::read_all(torch_data("proto4.pt"));
  (void)pare_test::every_flip_is_safe(
      views, [](std::vector<std::byte> b) { read_everything(std::move(b)); }, {0xFFu});
}

TEST_CASE("torch: the pickle VM itself survives every truncation and flip", "[io][torch][pickle]") {
  for (const char* file : {"mlp.pt", "views.pt", "proto4.pt", "params.pt", "nested.pt"}) {
    INFO(file);
    const auto ck_bytes = pare_test::read_all(torch_data(file));
    const pare::io::detail::ZipReader zip(ck_bytes, file);
    const auto& first = zip.entries().front();
    REQUIRE(first.name.ends_with("/data.pkl"));
    const auto span = zip.read(first);
    const std::vector<std::byte> pkl(span.begin(), span.end());
    run_vm(pkl);  // the untouched pickle runs
    pare_test::every_prefix_throws_format_error(
        pkl, [](std::vector<std::byte> b) { run_vm(std::move(b)); });
    (void)pare_test::every_flip_is_safe(
        pkl, [](std::vector<std::byte> b) { run_vm(std::move(b)); },
        {0xFFu, 0x01u, 0x02u, 0x04u, 0x08u, 0x10u, 0x20u, 0x40u, 0x80u});
  }
}

TEST_CASE("torch: hostile pickles are FormatErrors that name the opcode", "[io][torch][pickle]") {
  auto rejects = [](const std::vector<std::byte>& b, const std::string& what) {
    INFO(what);
    REQUIRE_THROWS_AS(run_vm(b), pare::FormatError);
    REQUIRE_THROWS_WITH(run_vm(b), Catch::Contains(what));
  };
  rejects({}, "empty pickle");
  rejects(PickleWriter{}.proto().op(0xFF).b, "byte 0xff is not a pickle opcode");
  rejects(PickleWriter{}.proto().op('i').b, "INST (0x69) is not allowed");
  rejects(PickleWriter{}.proto().op(0x81).b, "NEWOBJ");
  rejects(PickleWriter{}.op(0x80).op(1).b, "protocol 1");
  rejects(PickleWriter{}.proto().op('t').b, "no MARK");
  rejects(PickleWriter{}.proto().op(0x86).b, "stack underflow");
  rejects(PickleWriter{}.proto().op('}').op('(').op('s').b, "stack underflow");
  rejects(PickleWriter{}.proto().op('.').b, "stack underflow");
  rejects(PickleWriter{}.proto().op('h').op(7).b, "memo has no key 7");
  rejects(PickleWriter{}.proto().op('j').raw("\xff\xff\xff\xff").b, "memo has no key 4294967295");
  rejects(PickleWriter{}.proto().op('q').op(0).b, "stack underflow");
  rejects(PickleWriter{}.proto().op('X').raw("\xff\xff\xff\x7f").raw("abc").b, "bytes remain");
  rejects(PickleWriter{}.proto().op(0x8d).raw("\xff\xff\xff\xff\xff\xff\xff\xff").b,
          "bytes remain");
  rejects(PickleWriter{}.proto().str("\xc3\x28").b, "not valid UTF-8");
  rejects(PickleWriter{}.proto().op('c').raw(std::string(1000, 'a')).b, "no newline");
  rejects(PickleWriter{}.proto().op(0x95).raw("\0\0\0\0\0\0\0\x01").b, "frame");
  rejects(PickleWriter{}.proto().op('}').op('}').op('.').b, "left on the stack");
  rejects(PickleWriter{}.proto().op('(').op('}').op('.').b, "MARK(s) still open");
  rejects(PickleWriter{}.proto().op('}').op('.').op('.').b, "bytes after STOP");
  rejects(PickleWriter{}.proto().op('}').b, "without STOP");
  rejects(PickleWriter{}.proto().op(']').op(']').op('(').op('t').op('s').op('.').b, "needs a dict");
  rejects(PickleWriter{}.proto().op('}').op(')').op('N').op('s').op('.').b, "dict key is a tuple");
  rejects(PickleWriter{}.proto().op('N').op(')').op('R').b, "REDUCE calls a None");
  rejects(PickleWriter{}.proto().global("collections", "OrderedDict").op('N').op(0x85).op('R').b,
          "must be called with no arguments");
  rejects(PickleWriter{}.proto().global("torch", "FloatStorage").op(')').op('R').b,
          "cannot be called");
  rejects(PickleWriter{}.proto().op(']').op('}').op('b').b, "BUILD of a list");
  rejects(PickleWriter{}.proto().str("x").op('Q').b, "persistent id must be a tuple");
  rejects(PickleWriter{}
              .proto()
              .op('(')
              .str("file")
              .global("torch", "FloatStorage")
              .str("0")
              .str("cpu")
              .integer(1)
              .op('t')
              .op('Q')
              .b,
          "not 'storage'");
  rejects(PickleWriter{}
              .proto()
              .op('(')
              .str("storage")
              .global("collections", "OrderedDict")
              .str("0")
              .str("cpu")
              .integer(1)
              .op('t')
              .op('Q')
              .b,
          "torch.<Type>Storage");
  rejects(PickleWriter{}.proto().op('K').op(1).b, "without STOP");
  rejects(PickleWriter{}.proto().op(']').op('.').b, "not a dict of tensors");
  // Deep nesting: MARKs are bounded by the VM, containers by the walker (iteratively).
  {
    PickleWriter w;
    w.proto();
    for (int i = 0; i < 300; ++i) w.op('(');
    rejects(w.b, "nested MARKs");
  }
  {
    PickleWriter w;  // {"a": [[[[ ... ]]]]}, 1000 lists deep, the innermost holding a tensor
    w.proto().op('}').str("a");
    for (int i = 0; i < 1000; ++i) w.op(']').op('q').op(0);  // BINPUT keeps the memo small
    w.tensor({});
    for (int i = 0; i < 1000; ++i) w.op('a');
    w.op('s').op('.');
    rejects(w.b, "nested deeper than 16");
  }
  {
    PickleWriter w;  // a dict that contains itself
    w.proto().op('}').op('q').op(0).str("me").op('h').op(0).op('s').op('.');
    rejects(w.b, "reached twice");
  }
  {
    PickleWriter w;  // two paths that give one name
    w.proto()
        .op('}')
        .op('(')
        .str("a.b")
        .tensor({})
        .str("a")
        .op('}')
        .str("b")
        .tensor({})
        .op('s')
        .op('u')
        .op('.');
    rejects(w.b, "two tensors are named 'a.b'");
  }
  {
    PickleWriter w;  // a 5000-byte key
    w.proto().op('}').str(std::string(5000, 'k')).tensor({}).op('s').op('.');
    rejects(w.b, "names are limited to 4096");
  }
  {
    PickleWriter w;  // one args tuple of a rank-64 tensor, rebuilt 2000 times through the memo
    const std::vector<std::int64_t> ones(64, 1);
    w.proto().op('}').str("fn").global("torch._utils", "_rebuild_tensor_v2").op('q').op(0).op('s');
    w.str("args")
        .op('(')
        .op('(')
        .str("storage")
        .global("torch", "FloatStorage")
        .str("0")
        .str("cpu")
        .integer(1);
    w.op('t').op('Q').integer(0).ints(ones).ints(ones).op(0x89).op('}').op('t').op('q').op(1).op(
        's');
    w.str("x").op(']');
    for (int i = 0; i < 2000; ++i) w.op('h').op(0).op('h').op(1).op('R').op('a');
    w.op('s').op('.');
    rejects(w.b, "exceed what the pickle's size justifies");
  }
  // Tensor arguments.
  auto tensor_rejects = [&](const TensorSpec& t, const std::string& what) {
    rejects(pickle_of({{"w", t}}), what);
  };
  tensor_rejects({.offset = -1}, "storage_offset is negative");
  tensor_rejects({.size = {2, -3}}, "size is negative");
  tensor_rejects({.stride = {3}}, "size has 2 dimensions but stride has 1");
  tensor_rejects({.numel = -6}, "storage numel is negative");
  tensor_rejects(
      {.size = std::vector<std::int64_t>(65, 1), .stride = std::vector<std::int64_t>(65, 1)},
      "more than 64");
  REQUIRE_THROWS_AS(run_vm(PickleWriter{}.proto().global("torch", "QInt8Storage").b),
                    pare::UnsupportedError);
  REQUIRE_THROWS_AS(run_vm(PickleWriter{}.proto().global("torch", "ComplexFloatStorage").b),
                    pare::UnsupportedError);
  // A LONG1 wider than 64 bits is a legal int but not a usable size.
  {
    PickleWriter w;
    w.proto().op('}').str("w").global("torch._utils", "_rebuild_tensor_v2").op('(');
    w.op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").op(0x8a).op(9);
    w.raw(std::string(9, '\x01')).op('t').op('Q');
    w.integer(0).ints({1}).ints({1}).op(0x89).op('}').op('t').op('R').op('s').op('.');
    rejects(w.b, "storage numel must be an int");
  }
  // Negative LONG1 and BININT values decode with their sign.
  {
    PickleWriter w;
    w.proto().op('}').str("w").global("torch._utils", "_rebuild_tensor_v2").op('(');
    w.op('(')
        .str("storage")
        .global("torch", "FloatStorage")
        .str("0")
        .str("cpu")
        .integer(6)
        .op('t')
        .op('Q');
    w.op(0x8a)
        .op(2)
        .raw("\xff\xff")
        .ints({1})
        .ints({1})
        .op(0x89)
        .op('}')
        .op('t')
        .op('R')
        .op('s')
        .op('.');
    rejects(w.b, "storage_offset is negative (-1)");
  }
}

TEST_CASE("torch: limits on objects, stack and memo are enforced", "[io][torch][pickle]") {
  pare::io::detail::PickleLimits small;
  small.max_objects = 50;
  small.max_stack = 20;
  small.max_memo = 5;
  PickleWriter many;
  many.proto().op(']');
  for (int i = 0; i < 100; ++i) many.op(']').op('a');
  many.op('.');
  REQUIRE_THROWS_WITH(pare::io::detail::run_pickle(many.b, "m", 0, small),
                      Catch::Contains("more than 50 objects"));
  PickleWriter deep;
  deep.proto();
  for (int i = 0; i < 30; ++i) deep.op('N');
  REQUIRE_THROWS_WITH(pare::io::detail::run_pickle(deep.b, "m", 0, small),
                      Catch::Contains("stack deeper than 20"));
  PickleWriter memo;
  memo.proto().op('N');
  for (int i = 0; i < 10; ++i) memo.op('q').op(static_cast<unsigned>(i));
  REQUIRE_THROWS_WITH(pare::io::detail::run_pickle(memo.b, "m", 0, small),
                      Catch::Contains("memo holds more than 5"));
  // Errors carry the file offset: the pickle at base 1000, the bad opcode at byte 2.
  try {
    (void)pare::io::detail::run_pickle(PickleWriter{}.proto().op(0xFF).b, "x.pt:x/data.pkl", 1000);
    FAIL("no error");
  } catch (const pare::FormatError& e) {
    REQUIRE(e.offset() == 1002);
    REQUIRE(e.file() == "x.pt:x/data.pkl");
  }
}

TEST_CASE("torch: tensors are checked against their storages", "[io][torch]") {
  {  // a well-formed hand-made checkpoint reads
    const auto ck = open_mem(one_tensor({}));
    REQUIRE(ck.names() == std::vector<std::string>{"w"});
    const auto w = ck.load<float, 2>("w");
    REQUIRE(w(1, 2) == 5.0f);
  }
  {  // one tensor object under two names (tied weights pickled once, then fetched from the memo)
    PickleWriter w;
    w.proto().op('}').op('(').str("a").tensor({}).op('q').op(0).str("b").op('h').op(0).op('u').op(
        '.');
    const auto ck = open_mem(checkpoint(w.b));
    REQUIRE(ck.names() == std::vector<std::string>{"a", "b"});
    REQUIRE(ck.load<float, 2>("b")(1, 0) == 3.0f);
  }
  {  // a repeated key replaces the value in place, as in a Python dict
    PickleWriter w;
    w.proto().op('}').op('(').str("a").tensor({}).str("b").tensor({}).str("a").tensor(
        {.offset = 2, .size = {2}, .stride = {1}});
    w.op('u').op('.');
    const auto ck = open_mem(checkpoint(w.b));
    REQUIRE(ck.names() == std::vector<std::string>{"a", "b"});
    REQUIRE(ck.load<float, 1>("a")(0) == 2.0f);
  }
  {  // a strided view reaching exactly the last element is fine
    const auto ck = open_mem(one_tensor({.offset = 1, .size = {2, 2}, .stride = {3, 1}}));
    const auto w = ck.load<float, 2>("w");
    REQUIRE(w(0, 0) == 1.0f);
    REQUIRE(w(1, 1) == 5.0f);
  }
  auto fails = [](const std::vector<std::byte>& b, const std::string& what) {
    INFO(what);
    REQUIRE_THROWS_AS(open_mem(b), pare::FormatError);
    REQUIRE_THROWS_WITH(open_mem(b), Catch::Contains(what));
  };
  fails(one_tensor({.key = "7"}), "has no entry 'archive/data/7'");
  fails(one_tensor({.numel = 7}), "needs 28 bytes, its entry holds 24");
  fails(one_tensor({.offset = 1}), "reaches element 6 of a storage of 6");
  fails(one_tensor({.size = {3, 3}}), "reaches element 8");
  fails(one_tensor({.size = {2, 2}, .stride = {5, 1}}), "reaches element 6");
  fails(one_tensor({.offset = 7, .size = {0, 3}}), "past the end");
  fails(one_tensor({.size = {5, 3}, .stride = {std::int64_t{1} << 62, 1}}), "overflows 64 bits");
  fails(one_tensor({.size = {std::int64_t{1} << 40, std::int64_t{1} << 40}}), "overflows 64 bits");
  fails(one_tensor({.numel = std::int64_t{1} << 62}), "overflows 64 bits");
  {  // an empty tensor with a zero-sized storage reads
    const auto ck = open_mem(one_tensor({.numel = 0, .size = {0, 3}}, {{"0", 0}}));
    REQUIRE(ck.load<float, 2>("w").empty());
  }
  {  // storage type and bytes disagree with what load asks for
    const auto ck = open_mem(one_tensor({.storage_type = "IntStorage"}));
    REQUIRE(ck.load<std::int32_t, 2>("w")(0, 1) == 0x3f800000);  // the bytes of 1.0f
    REQUIRE_THROWS_AS((ck.load<float, 2>("w")), pare::FormatError);
  }
  {  // a bool storage holding a 2
    auto pkl =
        pickle_of({{"b", {.storage_type = "BoolStorage", .numel = 4, .size = {4}, .stride = {1}}}});
    const auto b = make_zip({{"a/data.pkl", pkl},
                             {"a/data/0", pare_test::bytes(std::string("\x01\x00\x02\x01", 4))},
                             {"a/version", pare_test::bytes("3\n")}});
    const auto ck = open_mem(b);
    REQUIRE_THROWS_WITH((ck.load<bool, 1>("b")), Catch::Contains("neither 0 nor 1"));
    REQUIRE_THROWS_AS(ck.load_float<1>("b"), pare::FormatError);
  }
  {  // version and byteorder records
    auto with = [](std::string version, std::string order) {
      std::vector<std::pair<std::string, std::vector<std::byte>>> e{
          {"a/data.pkl", pickle_of({{"w", {}}})}, {"a/data/0", floats_bytes(6)}};
      if (!version.empty()) e.emplace_back("a/version", pare_test::bytes(version));
      if (!order.empty()) e.emplace_back("a/byteorder", pare_test::bytes(order));
      return make_zip(e);
    };
    REQUIRE(open_mem(with("3", "")).version() == 3);
    REQUIRE(open_mem(with("2\n", "little")).version() == 2);
    REQUIRE_THROWS_WITH(open_mem(with("", "")), Catch::Contains("no version record"));
    REQUIRE_THROWS_WITH(open_mem(with("3x", "")), Catch::Contains("not a decimal number"));
    REQUIRE_THROWS_AS(open_mem(with("99", "")), pare::UnsupportedError);
    REQUIRE_THROWS_WITH(open_mem(with("3\n", "middle")), Catch::Contains("byteorder is 'middle'"));
    const auto big = open_mem(with("3\n", "big"));
    REQUIRE(big.big_endian());
    // 1.0f stored big-endian reads as the byte-swapped little-endian bit pattern
    REQUIRE(big.load<float, 2>("w")(0, 1) == std::bit_cast<float>(std::uint32_t{0x0000803fu}));
  }
  REQUIRE_THROWS_WITH(open_mem(make_zip({{"a/version", pare_test::bytes("3\n")}})),
                      Catch::Contains("no data.pkl"));
}
