// SPDX-License-Identifier: Apache-2.0
// .pare: bit-exact round trips of every dtype and QuantizedTensor, zero-copy views, atomic saves,
// checksums, and hostile files (truncations, flips, hand-made headers).
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "pare/core/dtype.hpp"
#include "pare/core/tensor.hpp"
#include "pare/io/checksum.hpp"
#include "pare/io/pare_file.hpp"
#include "pare/quant/quantizer.hpp"

namespace {

using namespace pare_test;
using pare::io::PareFile;
using pare::io::PareWriter;

template <class T, std::size_t Rank>
pare::Tensor<T, Rank> random_tensor(const pare::Shape<Rank>& s, std::uint64_t seed) {
  pare::Tensor<T, Rank> t(s);
  std::mt19937_64 rng(seed);
  auto* p = reinterpret_cast<unsigned char*>(t.data());
  for (std::size_t i = 0; i < t.size_bytes(); ++i) p[i] = static_cast<unsigned char>(rng());
  if constexpr (std::is_same_v<T, bool>)
    for (std::size_t i = 0; i < t.size(); ++i) p[i] &= 1u;
  return t;
}

PareFile open_buffer(std::vector<std::byte> b, pare::io::PareOpenOptions o = {}) {
  return PareFile(pare::io::MappedFile::from_buffer(std::move(b), "mem.pare"), o);
}

/// A file with a correct header CRC around `json` and `data` (tests of the deeper checks).
std::vector<std::byte> craft(const std::string& json, std::size_t data_bytes = 64,
                             std::uint16_t major = 1, std::uint16_t minor = 0,
                             std::uint32_t flags = 0) {
  auto h = pare::io::detail::encode_pare_header(json, flags);
  pare::io::detail::store_le<std::uint16_t>(h.data() + 8, major);
  pare::io::detail::store_le<std::uint16_t>(h.data() + 10, minor);
  const std::uint32_t crc = pare::io::crc32c(std::as_bytes(std::span(json.data(), json.size())),
                                             pare::io::crc32c(std::span(h).first(36)));
  pare::io::detail::store_le<std::uint32_t>(h.data() + 36, crc);
  std::vector<std::byte> out(h.begin(), h.end());
  append(out, json);
  out.resize(pare::io::detail::pare_align_up(out.size()), std::byte{0});
  out.resize(out.size() + data_bytes, std::byte{0});
  return out;
}

/// The JSON of one f32 tensor [4, 4] at `offset`, with the CRC of 64 zero bytes.
std::string one_tensor(const std::string& extra = "", const std::string& name = "\"w\"",
                       const std::string& dtype = "\"f32\"", const std::string& shape = "[4,4]",
                       const std::string& offset = "0", const std::string& nbytes = "64") {
  const std::vector<std::byte> zeros(64);
  return "{\"tensors\":[{\"name\":" + name + ",\"dtype\":" + dtype + ",\"shape\":" + shape +
         ",\"offset\":" + offset + ",\"nbytes\":" + nbytes +
         ",\"crc32c\":" + std::to_string(pare::io::crc32c(zeros)) + "}]" + extra + "}";
}

void require_format_error(const std::vector<std::byte>& b, const std::string& field) {
  try {
    (void)open_buffer(b);
    FAIL("opened without error; expected FormatError on " << field);
  } catch (const pare::FormatError& e) {
    INFO(e.what());
    CHECK(e.field() == field);
  }
}

using Q8 = pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel>;
using Q4 = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>>;
using QU4 = pare::Quantizer<pare::UInt<4>, pare::Affine, pare::PerGroup<64>>;

/// A small file with two plain tensors, a quantized group, graph and metadata.
void write_small(const std::filesystem::path& p) {
  const auto w = random_tensor<float, 2>({2, 3}, 1);
  pare::Tensor<float, 2> big({4, 64});
  for (std::size_t i = 0; i < big.size(); ++i) big.data()[i] = static_cast<float>(i % 17) - 8.0f;
  const auto q = Q4{}.quantize(big);
  const auto ids = random_tensor<std::int32_t, 1>({5}, 2);
  PareWriter wr;
  wr.add("dense.weight", w);
  wr.add("ids", ids);
  wr.add_quantized("q", q);
  wr.set_graph(pare::Json::object(
      {{"nodes", pare::Json::array({pare::Json::object({{"op", "linear"}, {"weight", "q"}})})}}));
  wr.set_metadata("producer", "pare tests");
  wr.save(p);
}

}  // namespace

TEMPLATE_TEST_CASE("pare: every whole-byte dtype round-trips bit-exact", "[pare-format]", float,
                   double, pare::f16, pare::bf16, pare::fp8_e4m3, pare::fp8_e5m2, std::int8_t,
                   std::int16_t, std::int32_t, std::int64_t, std::uint8_t, std::uint16_t,
                   std::uint32_t, std::uint64_t, bool) {
  TempDir dir;
  const auto a = random_tensor<TestType, 2>({7, 13}, 3);
  const auto b = random_tensor<TestType, 1>({1}, 4);
  const auto c = random_tensor<TestType, 3>({2, 3, 5}, 5);
  PareWriter w;
  w.add("a", a);
  w.add("b", b);
  w.add("c", c);
  w.save(dir / "t.pare");
  const auto f = PareFile::open(dir / "t.pare", {.verify_checksums = true});
  REQUIRE(f.names() == std::vector<std::string>{"a", "b", "c"});
  CHECK(f.info("a").dtype == pare::dtype_traits<TestType>::dtype);
  CHECK(f.info("a").shape == std::vector<std::uint64_t>{7, 13});
  const auto va = f.view<TestType, 2>("a");
  CHECK(va.extents() == a.extents());
  CHECK(std::memcmp(va.data(), a.data(), a.size_bytes()) == 0);
  const auto lc = f.load<TestType, 3>("c");
  CHECK(std::memcmp(lc.data(), c.data(), c.size_bytes()) == 0);
  CHECK(std::memcmp(f.view<TestType, 1>("b").data(), b.data(), b.size_bytes()) == 0);
  for (const auto& n : f.names()) CHECK(f.info(n).offset % 64 == 0);
  CHECK_THROWS_AS((f.view<TestType, 3>("a")), pare::ShapeError);
  CHECK_THROWS_AS(f.info("nope"), pare::ArgumentError);
}

TEMPLATE_TEST_CASE("pare: packed sub-byte dtypes keep the value count and row-wise packing",
                   "[pare-format]", pare::int4x2, pare::uint4x2, pare::int2x4) {
  TempDir dir;
  constexpr std::size_t lanes = pare::dtype_traits<TestType>::lanes;
  const auto t = random_tensor<TestType, 2>({3, 4}, 6);  // 3 rows of 4 bytes
  PareWriter w;
  w.add("full", t);
  w.add("odd", t.view(), 4 * lanes - 1);  // last byte of each row only partly used
  CHECK_THROWS_AS(w.add("bad", t.view(), 4 * lanes + 1), pare::ShapeError);
  w.save(dir / "p.pare");
  const auto f = PareFile::open(dir / "p.pare", {.verify_checksums = true});
  CHECK(f.info("full").shape == std::vector<std::uint64_t>{3, 4 * lanes});
  CHECK(f.info("odd").shape == std::vector<std::uint64_t>{3, 4 * lanes - 1});
  CHECK(f.info("odd").bytes.size() == 12);
  const auto v = f.view<TestType, 2>("odd");
  CHECK(v.extents() == pare::Shape<2>{3, 4});
  CHECK(std::memcmp(v.data(), t.data(), 12) == 0);
  CHECK(std::memcmp(f.load<TestType, 2>("full").data(), t.data(), 12) == 0);
  CHECK_THROWS_AS((f.view<std::uint8_t, 2>("full")), pare::FormatError);
}

TEST_CASE("pare: strided views are written contiguous; empty tensors and empty files work",
          "[pare-format]") {
  TempDir dir;
  const auto a = random_tensor<float, 2>({5, 9}, 7);
  const auto tr = a.view().transposed();
  const pare::Tensor<float, 2> empty({0, 4});
  const pare::Tensor<std::int8_t, 1> empty1({0});
  PareWriter w;
  w.add("t", tr);
  w.add("e", empty);
  w.add("e1", empty1);
  w.save(dir / "s.pare");
  const auto f = PareFile::open(dir / "s.pare", {.verify_checksums = true});
  const auto v = f.view<float, 2>("t");
  REQUIRE(v.extents() == pare::Shape<2>{9, 5});
  for (std::size_t r = 0; r < 9; ++r)
    for (std::size_t c = 0; c < 5; ++c) CHECK(v(r, c) == a(c, r));
  CHECK(f.view<float, 2>("e").size() == 0);
  CHECK(f.load<std::int8_t, 1>("e1").size() == 0);
  CHECK(f.info("e").shape == std::vector<std::uint64_t>{0, 4});

  PareWriter none;
  none.save(dir / "none.pare");
  const auto g = PareFile::open(dir / "none.pare");
  CHECK(g.names().empty());
  CHECK(g.graph().is_null());
  CHECK(std::filesystem::file_size(dir / "none.pare") % 64 == 0);
}

TEST_CASE("pare: QuantizedTensor round trips dequantize bit for bit", "[pare-format]") {
  TempDir dir;
  const auto w = [] {
    pare::Tensor<float, 2> t({8, 128});
    std::mt19937 rng(11);
    std::normal_distribution<float> n(0.0f, 1.0f);
    for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = n(rng) + (i % 128 == 5 ? 6.0f : 0.0f);
    return t;
  }();
  const auto q8 = Q8{}.quantize(w);
  const auto q4 = Q4{}.quantize(w);
  const auto qu4 = QU4{}.quantize(w);
  PareWriter wr;
  wr.add_quantized("q8", q8);
  wr.add_quantized("q4", q4);
  wr.add_quantized("qu4", qu4);
  wr.save(dir / "q.pare");
  const auto f = PareFile::open(dir / "q.pare", {.verify_checksums = true});
  CHECK(f.groups() == std::vector<std::string>{"q8", "q4", "qu4"});
  CHECK(f.group("q4").kind == "quantized");
  CHECK(f.group("q4").attributes["granularity"]["group_size"] == 32);
  auto same = [](const pare::Tensor<float, 2>& a, const pare::Tensor<float, 2>& b) {
    return a.extents() == b.extents() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
  };
  const auto r8 = f.quantized<pare::Int<8>, pare::PerChannel>("q8");
  const auto r4 = f.quantized<pare::Int<4>, pare::PerGroup<32>>("q4");
  const auto ru4 = f.quantized<pare::UInt<4>, pare::PerGroup<64>>("qu4");
  CHECK(same(pare::dequantize(r8), pare::dequantize(q8)));
  CHECK(same(pare::dequantize(r4), pare::dequantize(q4)));
  CHECK(same(pare::dequantize(ru4), pare::dequantize(qu4)));
  CHECK(ru4.symmetric() == false);
  CHECK(ru4.code_range() == qu4.code_range());
  CHECK(r8.granularity().axis == 0);
  for (std::size_t u = 0; u < qu4.unit_count(); ++u) CHECK(ru4.params(u) == qu4.params(u));
  CHECK(std::memcmp(r4.codes().data(), q4.codes().data(), q4.codes().size()) == 0);
  // Asking for the wrong policies is a FormatError naming the attribute.
  try {
    (void)f.quantized<pare::Int<4>, pare::PerGroup<64>>("q4");
    FAIL("wrong group size accepted");
  } catch (const pare::FormatError& e) {
    CHECK(e.field() == "groups[1].attributes.granularity");
  }
  try {
    (void)f.quantized<pare::UInt<4>, pare::PerGroup<32>>("q4");
    FAIL("wrong format accepted");
  } catch (const pare::FormatError& e) {
    CHECK(e.field() == "groups[1].attributes.format");
  }
  CHECK_THROWS_AS((f.quantized<pare::Int<8>, pare::PerTensor>("q8")), pare::FormatError);
  CHECK_THROWS_AS((f.quantized<pare::Int<8>, pare::PerChannel>("nope")), pare::ArgumentError);
}

TEST_CASE("pare: graph and metadata round trip verbatim", "[pare-format]") {
  TempDir dir;
  using pare::Json;
  const Json graph = Json::object(
      {{"nodes",
        Json::array({Json::object({{"op", "linear"}, {"in", 784}, {"out", 10}, {"bias", true}}),
                     Json::object({{"op", "relu"}})})},
       {"inputs", Json::array({"x"})},
       {"scale", 0.25},
       {"unicode", "\xc3\xa9\xe2\x82\xac"}});
  PareWriter w;
  w.set_graph(graph);
  w.set_metadata("producer", "pare");
  w.set_metadata("note", "key/values are strings");
  w.save(dir / "g.pare");
  const auto f = PareFile::open(dir / "g.pare");
  CHECK(f.graph() == graph);  // members in the order written
  CHECK(f.graph().dump() == graph.dump());
  CHECK(f.metadata() == std::map<std::string, std::string>{{"note", "key/values are strings"},
                                                           {"producer", "pare"}});
  CHECK(f.version() == std::pair<std::uint16_t, std::uint16_t>{1, 0});

  PareWriter bad;
  bad.set_metadata("k", std::string("\xff\xfe"));
  CHECK_THROWS_AS(bad.save(dir / "bad.pare"), pare::ArgumentError);
  CHECK_THROWS_AS(bad.set_graph(Json::array()), pare::ArgumentError);
  // The writer refuses exactly the graphs a reader would: 63 levels (the graph object and 62
  // arrays) sit at depth 64 in the file.
  const auto deep = [](std::size_t arrays) {
    Json v = Json::array();
    for (std::size_t k = 1; k < arrays; ++k) v = Json::array({std::move(v)});
    return Json::object({{"deep", std::move(v)}});
  };
  PareWriter at_limit;
  at_limit.set_graph(deep(62));
  at_limit.save(dir / "deep.pare");
  CHECK(PareFile::open(dir / "deep.pare").graph() == deep(62));
  CHECK_THROWS_AS(PareWriter().set_graph(deep(63)), pare::ArgumentError);
  PareWriter dup;
  const pare::Tensor<float, 1> t({3});
  dup.add("x", t);
  CHECK_THROWS_AS(dup.add("x", t), pare::ArgumentError);
  dup.add_group("g", "csr", {{"values", "missing"}});
  CHECK_THROWS_AS(dup.save(dir / "dup.pare"), pare::ArgumentError);
  CHECK_FALSE(std::filesystem::exists(dir / "dup.pare"));
}

TEST_CASE("pare: views are zero-copy and outlive the PareFile through keep_alive",
          "[pare-format]") {
  TempDir dir;
  write_small(dir / "z.pare");
  std::shared_ptr<const void> keep;
  pare::TensorView<const float, 2> v;
  {
    const auto f = PareFile::open(dir / "z.pare");
    v = f.view<float, 2>("dense.weight");
    const auto all = f.file().bytes();
    const auto* p = reinterpret_cast<const std::byte*>(v.data());
    CHECK(p >= all.data());
    CHECK(p + v.size() * sizeof(float) <= all.data() + all.size());
    CHECK(p == f.info("dense.weight").bytes.data());
    CHECK(reinterpret_cast<std::uintptr_t>(p) % 64 == 0);
    keep = f.keep_alive();
  }
  const auto w = random_tensor<float, 2>({2, 3}, 1);
  CHECK(std::memcmp(v.data(), w.data(), w.size_bytes()) == 0);  // the map is still there
}

TEST_CASE("pare: a save that fails midway leaves the old file and no temp file", "[pare-format]") {
  TempDir dir;
  write_small(dir / "m.pare");
  const auto before = read_all(dir / "m.pare");
  PareWriter w;
  const auto t = random_tensor<float, 1>({1000}, 9);
  w.add("t", t);
  int calls = 0;
  w.add_generated("gen", pare::DType::u8, {256}, [&](const PareWriter::Emit& emit) {
    std::vector<std::byte> half(128, std::byte{7});
    emit(half);
    if (++calls == 2) throw std::runtime_error("disk on fire");  // during the write pass
    emit(half);
  });
  CHECK_THROWS_WITH(w.save(dir / "m.pare"), Catch::Contains("disk on fire"));
  CHECK(calls == 2);
  CHECK(read_all(dir / "m.pare") == before);
  CHECK(dir.count() == 1);
  (void)PareFile::open(dir / "m.pare", {.verify_checksums = true});

  PareWriter short_gen;
  short_gen.add_generated("g", pare::DType::f32, {4}, [](const PareWriter::Emit& emit) {
    std::vector<std::byte> b(12);
    emit(b);
  });
  CHECK_THROWS_AS(short_gen.save(dir / "m.pare"), pare::ArgumentError);
  CHECK(read_all(dir / "m.pare") == before);
  CHECK(dir.count() == 1);
}

TEST_CASE("pare: checksums catch a flipped data byte and name the tensor", "[pare-format]") {
  TempDir dir;
  write_small(dir / "c.pare");
  auto b = read_all(dir / "c.pare");
  const auto f = open_buffer(b);
  const auto& info = f.info("ids");
  b[info.offset + 3] ^= std::byte{0x10};
  const auto lazy = open_buffer(b);  // tensor CRCs are not read without the flag
  CHECK_NOTHROW(lazy.verify("dense.weight"));
  try {
    lazy.verify("ids");
    FAIL("flip not detected");
  } catch (const pare::FormatError& e) {
    CHECK(e.field() == "tensors[1].crc32c");
    CHECK(std::string(e.what()).find("'ids'") != std::string::npos);
  }
  CHECK_THROWS_AS(lazy.verify_all(), pare::FormatError);
  CHECK_THROWS_AS(open_buffer(b, {.verify_checksums = true}), pare::FormatError);
}

TEST_CASE("pare: every truncation and every flipped byte is rejected or harmless",
          "[pare-format]") {
  TempDir dir;
  write_small(dir / "f.pare");
  const auto good = read_all(dir / "f.pare");
  every_prefix_throws_format_error(
      good, [](std::vector<std::byte> b) { (void)open_buffer(std::move(b)); });
  const auto parse_all = [](std::vector<std::byte> b) {
    const auto f = open_buffer(std::move(b), {.verify_checksums = true});
    for (const auto& n : f.names()) (void)f.info(n).bytes;
    (void)f.quantized<pare::Int<4>, pare::PerGroup<32>>("q");
  };
  const std::size_t rejected = every_flip_is_safe(good, parse_all);
  // Flips of the inter-tensor zero padding are the only ones no checksum covers.
  CHECK(rejected > good.size() * 3 * 3 / 4);
}

TEST_CASE("pare: the committed seed file is what the writer produces", "[pare-format]") {
  TempDir dir;
  write_small(dir / "tiny.pare");
  const auto golden = fs::path(PARE_TEST_DATA_DIR) / "pare" / "tiny.pare";
  if (std::getenv("PARE_REGENERATE") != nullptr) {
    fs::create_directories(golden.parent_path());
    fs::copy_file(dir / "tiny.pare", golden, fs::copy_options::overwrite_existing);
  }
  REQUIRE(fs::exists(golden));
  CHECK(read_all(golden) == read_all(dir / "tiny.pare"));
  const auto f = PareFile::open(golden, {.verify_checksums = true});
  CHECK(f.metadata().at("producer") == "pare tests");
}

TEST_CASE("pare: versions and flags", "[pare-format]") {
  const std::string j = one_tensor();
  CHECK_NOTHROW(open_buffer(craft(j)));
  CHECK(open_buffer(craft(j, 64, 1, 7)).version().second == 7);  // newer minor: readable
  CHECK_THROWS_AS(open_buffer(craft(j, 64, 2, 0)), pare::UnsupportedError);
  CHECK_THROWS_AS(open_buffer(craft(j, 64, 0, 9)), pare::UnsupportedError);
  CHECK_THROWS_AS(open_buffer(craft(j, 64, 1, 0, 0x1u)),
                  pare::UnsupportedError);                   // required feature
  CHECK_NOTHROW(open_buffer(craft(j, 64, 1, 0, 0x10000u)));  // optional hint
}

TEST_CASE("pare: hand-made hostile headers", "[pare-format]") {
  const std::string max64 = "18446744073709551615";
  SECTION("magic") {
    auto b = craft(one_tensor());
    b[5] = std::byte{'\n'};  // CR LF -> LF LF, as a text-mode transfer does
    require_format_error(b, "magic");
  }
  SECTION("header CRC") {
    auto b = craft(one_tensor());
    b[40 + 3] ^= std::byte{1};
    require_format_error(b, "header_crc32c");
  }
  SECTION("json_length larger than the file, or over the cap") {
    auto b = craft(one_tensor());
    pare::io::detail::store_le<std::uint64_t>(b.data() + 16, b.size());
    require_format_error(b, "json_length");
    pare::io::detail::store_le<std::uint64_t>(b.data() + 16, std::uint64_t{1} << 40);
    require_format_error(b, "json_length");
  }
  SECTION("data_offset not where the JSON ends") {
    auto b = craft(one_tensor());
    pare::io::detail::store_le<std::uint64_t>(b.data() + 24, 1u << 20);
    require_format_error(b, "data_offset");
  }
  SECTION("nonzero padding") {
    auto b = craft(one_tensor());
    const std::size_t pad = 40 + one_tensor().size();
    REQUIRE(pad % 64 != 0);
    b[pad] = std::byte{1};
    require_format_error(b, "padding");
  }
  SECTION("JSON syntax, type and depth") {
    require_format_error(craft("{\"tensors\":[}"), "json");
    require_format_error(craft("[1,2]"), "json");
    require_format_error(craft("{\"tensors\":[]} x"), "json");
    require_format_error(craft("{\"tensors\":[],\"tensors\":[]}"), "json");  // duplicate key
    require_format_error(craft(std::string(100, '[') + std::string(100, ']')), "json");
    require_format_error(craft("{\"tensors\":[],\"metadata\":{\"k\":\"\xff\"}}"),
                         "json");  // not UTF-8
    require_format_error(craft("{}"), "json.tensors");
    require_format_error(craft("{\"tensors\":{}}"), "tensors");
    require_format_error(craft("{\"tensors\":[3]}"), "tensors[0]");
  }
  SECTION("JSON errors point at the byte, and depth 64 is the limit") {
    const auto offset_of = [](const std::vector<std::byte>& b) -> long long {
      try {
        (void)open_buffer(b);
      } catch (const pare::FormatError& e) {
        return static_cast<long long>(e.offset());
      }
      return -1;
    };
    CHECK(offset_of(craft("{\"tensors\":[}", 0)) == 40 + 12);
    CHECK(offset_of(craft("{\"tensors\":[],\"tensors\":[]}", 0)) == 40 + 14);
    // The top-level object is level 1: 63 arrays inside it are fine, 64 are not.
    const auto nested = [](std::size_t n) {
      return "{\"tensors\":[],\"x\":" + std::string(n, '[') + std::string(n, ']') + "}";
    };
    CHECK(offset_of(craft(nested(63), 0)) == -1);
    CHECK(offset_of(craft(nested(64), 0)) == 40 + 18 + 63);
  }
  SECTION("missing and mistyped keys") {
    require_format_error(craft("{\"tensors\":[{\"dtype\":\"f32\",\"shape\":[],\"offset\":0,"
                               "\"nbytes\":4,\"crc32c\":0}]}"),
                         "tensors[0].name");
    require_format_error(craft(one_tensor("", "7")), "tensors[0].name");
    require_format_error(craft(one_tensor("", "\"\"")), "tensors[0].name");
    require_format_error(craft(one_tensor("", "\"w\"", "\"float32\"")), "tensors[0].dtype");
    require_format_error(craft(one_tensor("", "\"w\"", "\"f32\"", "[4,-4]")),
                         "tensors[0].shape[1]");
    require_format_error(craft(one_tensor("", "\"w\"", "\"f32\"", "[4,4.0]")),
                         "tensors[0].shape[1]");
    require_format_error(craft(one_tensor("", "\"w\"", "\"f32\"", "4")), "tensors[0].shape");
    require_format_error(craft(one_tensor("", "\"w\"", "\"f32\"", "[4,4]", "\"0\"")),
                         "tensors[0].offset");
    require_format_error(craft(one_tensor(",\"metadata\":{\"k\":1}")), "metadata.k");
    require_format_error(craft(one_tensor(",\"graph\":[1]")), "graph");
  }
  SECTION("shape product overflow, nbytes mismatch") {
    require_format_error(craft(one_tensor("", "\"w\"", "\"f32\"", "[" + max64 + ",2]")),
                         "tensors[0].shape");
    require_format_error(craft(one_tensor("", "\"w\"", "\"i4\"", "[4294967296,4294967296,2]")),
                         "tensors[0].shape");
    require_format_error(craft(one_tensor("", "\"w\"", "\"f32\"", "[4,4]", "0", "63")),
                         "tensors[0].nbytes");
    require_format_error(craft(one_tensor("", "\"w\"", "\"f32\"", "[4,4]", "0", max64)),
                         "tensors[0].nbytes");
  }
  SECTION("offsets: alignment, range, overflow, overlap, file end") {
    require_format_error(craft(one_tensor("", "\"w\"", "\"f32\"", "[4,4]", "32"), 96),
                         "tensors[0].offset");
    require_format_error(craft(one_tensor("", "\"w\"", "\"f32\"", "[4,4]", "64")),
                         "tensors[0].offset");
    require_format_error(craft(one_tensor("", "\"w\"", "\"f32\"", "[4,4]", "18446744073709551552")),
                         "tensors[0].offset");
    const std::vector<std::byte> zeros(64);
    const std::string crc = std::to_string(pare::io::crc32c(zeros));
    const std::string two =
        "{\"tensors\":[{\"name\":\"a\",\"dtype\":\"u8\",\"shape\":[64],\"offset\":0,\"nbytes\":64,"
        "\"crc32c\":" +
        crc +
        "},{\"name\":\"b\",\"dtype\":\"u8\",\"shape\":[64],\"offset\":0,"
        "\"nbytes\":64,\"crc32c\":" +
        crc + "}]}";
    require_format_error(craft(two), "tensors[1].offset");
    require_format_error(craft(one_tensor(), 128), "data");  // bytes after the last tensor
    auto dup = two;
    dup.replace(dup.find("\"b\""), 3, "\"a\"");
    require_format_error(craft(dup), "tensors[1].name");
  }
  SECTION("groups") {
    require_format_error(
        craft(one_tensor(
            ",\"groups\":[{\"name\":\"g\",\"kind\":\"csr\",\"members\":{\"v\":\"x\"}}]")),
        "groups[0].members.v");
    require_format_error(craft(one_tensor(",\"groups\":[{\"name\":\"g\",\"members\":{}}]")),
                         "groups[0].kind");
    require_format_error(
        craft(one_tensor(
            ",\"groups\":[{\"name\":\"g\",\"kind\":\"k\",\"members\":{},\"attributes\":[]}]")),
        "groups[0].attributes");
    const auto f = open_buffer(craft(
        one_tensor(",\"groups\":[{\"name\":\"g\",\"kind\":\"csr\",\"members\":{\"v\":\"w\"}}]")));
    CHECK(f.group("g").members.at("v") == "w");
    CHECK_THROWS_AS((f.quantized<pare::Int<8>, pare::PerTensor>("g")), pare::FormatError);
    const auto q = open_buffer(
        craft(one_tensor(",\"groups\":[{\"name\":\"g\",\"kind\":\"quantized\",\"members\":{},"
                         "\"attributes\":{\"format\":\"int8\",\"granularity\":{\"type\":5}}}]")));
    try {
      (void)q.quantized<pare::Int<8>, pare::PerTensor>("g");
      FAIL("mistyped granularity accepted");
    } catch (const pare::FormatError& e) {
      CHECK(e.field() == "groups[0].attributes.granularity");
    }
    try {
      (void)q.quantized<pare::Int<8>, pare::PerChannel>("g");
      FAIL("mistyped granularity accepted");
    } catch (const pare::FormatError& e) {
      CHECK(e.field() == "groups[0].attributes.granularity");
    }
  }
  SECTION("bool bytes other than 0 and 1") {
    std::vector<std::byte> data(64);
    data[0] = std::byte{2};
    const std::string j =
        "{\"tensors\":[{\"name\":\"b\",\"dtype\":\"bool\",\"shape\":[64],\"offset\":0,\"nbytes\":"
        "64,"
        "\"crc32c\":" +
        std::to_string(pare::io::crc32c(data)) + "}]}";
    auto b = craft(j, 0);
    b.insert(b.end(), data.begin(), data.end());
    const auto f = open_buffer(b, {.verify_checksums = true});
    CHECK_THROWS_AS((f.view<bool, 1>("b")), pare::FormatError);
  }
}

TEST_CASE("pare: a quantized group with a bad zero point or wrong member shapes is rejected",
          "[pare-format]") {
  TempDir dir;
  write_small(dir / "zp.pare");
  auto b = read_all(dir / "zp.pare");
  const auto f = open_buffer(b);
  const auto& zp = f.info("q.zero_points");
  pare::io::detail::store_le<std::uint32_t>(b.data() + zp.offset,
                                            0x80000000u);  // INT_MIN: would overflow code - zp
  const auto bad = open_buffer(b);
  try {
    (void)bad.quantized<pare::Int<4>, pare::PerGroup<32>>("q");
    FAIL("zero point accepted");
  } catch (const pare::FormatError& e) {
    CHECK(e.field() == "tensors[" + std::to_string(zp.index) + "].data");
  }
}
