// SPDX-License-Identifier: Apache-2.0
// GGUF: reference files written by llama.cpp's own ggml library (tests/data/gguf/
// make_gguf_refs.py drives libggml-base.so from npm's @node-llama-cpp/linux-x64 via ctypes),
// round trips, and hostile headers.
#include "pare/io/gguf.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "io/io_test_util.hpp"
#include "pare/io/npy.hpp"

namespace {

using pare::io::GgmlType;
using pare::io::GgufArray;
using pare::io::GgufFile;
using pare::io::GgufMetadata;
using pare::io::GgufValue;
using pare::io::GgufValueType;

std::filesystem::path gguf_data(std::string_view rel) {
  return std::filesystem::path(PARE_TEST_DATA_DIR) / "gguf" / rel;
}

GgufFile open_mem(std::vector<std::byte> b) {
  GgufFile f(pare::io::MappedFile::from_buffer(std::move(b), "mem.gguf"));
  for (const auto& t : f.tensors()) {  // touch every byte so ASan sees a wrong span
    unsigned sum = 0;
    for (std::byte x : f.raw(t.name)) sum += std::to_integer<unsigned>(x);
    (void)sum;
    if (pare::io::ggml_type_info(t.type)->dequantizable) (void)f.dequantize(t.name);
  }
  return f;
}

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
}

// ----------------------------------------------------------------- hand-made files
struct Builder {
  std::vector<std::byte> v;
  Builder& u8(std::uint8_t x) { return pare_test::append_le(v, x), *this; }
  Builder& u32(std::uint32_t x) { return pare_test::append_le(v, x), *this; }
  Builder& u64(std::uint64_t x) { return pare_test::append_le(v, x), *this; }
  Builder& str(std::string_view s) {
    u64(s.size());
    pare_test::append(v, s);
    return *this;
  }
  Builder& header(std::uint64_t n_tensors, std::uint64_t n_kv, std::uint32_t version = 3) {
    pare_test::append(v, "GGUF");
    return u32(version).u64(n_tensors).u64(n_kv);
  }
  Builder& kv_u32(std::string_view key, std::uint32_t x) { return str(key).u32(4).u32(x); }
  Builder& info(std::string_view name, std::vector<std::uint64_t> ne, std::uint32_t type,
                std::uint64_t offset) {
    str(name).u32(static_cast<std::uint32_t>(ne.size()));
    for (auto d : ne) u64(d);
    return u32(type).u64(offset);
  }
  Builder& pad(std::size_t a = 32) {
    v.resize((v.size() + a - 1) / a * a, std::byte{0});
    return *this;
  }
  Builder& zeros(std::size_t n) {
    v.resize(v.size() + n, std::byte{0});
    return *this;
  }
};

// A valid file whose last tensor ends exactly at the end of the file (so every proper prefix
// is invalid): two f32 tensors of 8 values, one key.
std::vector<std::byte> small_valid() {
  Builder b;
  b.header(2, 1).kv_u32("general.alignment", 32);
  b.info("a", {8}, 0, 0).info("b", {4, 2}, 0, 32).pad();
  for (int i = 0; i < 16; ++i) {
    const float f = static_cast<float>(i) * 0.5f;
    std::uint32_t bits;
    std::memcpy(&bits, &f, 4);
    b.u32(bits);
  }
  return b.v;
}

template <class E = pare::FormatError>
void require_error(std::vector<std::byte> bytes, std::string_view needle) {
  INFO("expecting an error mentioning: " << needle);
  try {
    (void)open_mem(std::move(bytes));
    FAIL("parsed without error");
  } catch (const E& e) {
    INFO(e.what());
    REQUIRE(std::string(e.what()).find(needle) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("gguf: reads every metadata type llama.cpp writes", "[io][gguf]") {
  const auto f = GgufFile::open(gguf_data("ggml_types.gguf"));
  REQUIRE(f.version() == 3);
  REQUIRE(f.alignment() == 32);
  REQUIRE(f.data_offset() % 32 == 0);
  const GgufMetadata& m = f.metadata();
  REQUIRE(m.size() == 28);
  REQUIRE(m.begin()->key == "general.architecture");  // file order
  REQUIRE(m.get<std::string>("general.architecture") == "pare-test");
  REQUIRE(m.get<std::string>("general.name") ==
          "\xC3\xBCn\xC3\xAF"
          "code name");
  REQUIRE(m.get<std::uint8_t>("test.u8") == 200);
  REQUIRE(m.get<std::int8_t>("test.i8") == -100);
  REQUIRE(m.get<std::uint16_t>("test.u16") == 60000);
  REQUIRE(m.get<std::int16_t>("test.i16") == -30000);
  REQUIRE(m.get<std::uint32_t>("test.u32") == 4000000000u);
  REQUIRE(m.get<std::int32_t>("test.i32") == -2000000000);
  REQUIRE(m.get<float>("test.f32") == 0.1f);
  REQUIRE(m.get<std::uint64_t>("test.u64") == 18000000000000000000ull);
  REQUIRE(m.get<std::int64_t>("test.i64") == -9000000000000000000ll);
  REQUIRE(m.get<double>("test.f64") == 0.1);
  REQUIRE(m.get<bool>("test.bool_true"));
  REQUIRE_FALSE(m.get<bool>("test.bool_false"));
  REQUIRE(m.get<std::string>("test.empty_str").empty());
  REQUIRE(m.get_array<std::uint8_t>("test.arr_u8") == std::vector<std::uint8_t>{0, 1, 255});
  REQUIRE(m.get_array<std::int8_t>("test.arr_i8") == std::vector<std::int8_t>{-128, 0, 127});
  REQUIRE(m.get_array<std::uint16_t>("test.arr_u16") == std::vector<std::uint16_t>{0, 65535});
  REQUIRE(m.get_array<std::int16_t>("test.arr_i16") == std::vector<std::int16_t>{-32768, 32767});
  REQUIRE(m.get_array<std::uint32_t>("test.arr_u32") ==
          std::vector<std::uint32_t>{1, 2, 3, 4294967295u});
  REQUIRE(m.get_array<std::int32_t>("test.arr_i32") == std::vector<std::int32_t>{-1, 0, 1});
  REQUIRE(m.get_array<float>("test.arr_f32") == std::vector<float>{0.5f, -1.25f, 3.0e38f});
  REQUIRE(m.get_array<std::uint64_t>("test.arr_u64") ==
          std::vector<std::uint64_t>{0, std::numeric_limits<std::uint64_t>::max()});
  REQUIRE(m.get_array<std::int64_t>("test.arr_i64") ==
          std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min(),
                                    std::numeric_limits<std::int64_t>::max()});
  REQUIRE(m.get_array<double>("test.arr_f64") == std::vector<double>{1.0 / 3.0, -2.5});
  REQUIRE(m.get_array<bool>("test.arr_bool") == std::vector<bool>{true, false, true});
  REQUIRE(m.get_array<std::int32_t>("test.arr_empty").empty());
  REQUIRE(m.get_array<std::string>("test.arr_str") ==
          std::vector<std::string>{"", "a", "hello world", "\xC3\xBC"});
  REQUIRE(m.get_or<std::uint32_t>("general.alignment", 32) == 32);

  // Wrong type: FormatError naming the key; missing key: ArgumentError.
  REQUIRE_THROWS_AS(m.get<std::uint32_t>("test.u8"), pare::FormatError);
  REQUIRE_THROWS_AS(m.get_array<std::uint32_t>("test.arr_i32"), pare::FormatError);
  REQUIRE_THROWS_AS(m.get_array<std::uint32_t>("test.u32"), pare::FormatError);
  REQUIRE_THROWS_AS(m.get<std::uint32_t>("no.such.key"), pare::ArgumentError);
}

TEST_CASE("gguf: dequantizes every type bit for bit as ggml's dequantize_row", "[io][gguf]") {
  const auto f = GgufFile::open(gguf_data("ggml_types.gguf"));
  REQUIRE(f.tensors().size() == 20);
  for (const auto& t : f.tensors()) {
    const std::string tname(pare::io::ggml_type_info(t.type)->name);
    INFO(t.name << " " << tname);
    REQUIRE(t.name == "t." + tname);
    const auto want = pare::io::read_npy_array(gguf_data("deq_" + tname + ".npy"));
    REQUIRE(t.shape == want.shape);  // ggml's ne reversed
    REQUIRE(f.raw(t.name).size() == t.byte_size);
    REQUIRE(t.file_offset % 32 == 0);
    const auto ref =
        std::span<const float>(reinterpret_cast<const float*>(want.data.data()), want.size());
    const auto m = f.dequantize(t.name);
    REQUIRE(m.extent(1) == t.shape.back());
    REQUIRE(m.extent(0) * m.extent(1) == want.size());
    REQUIRE(same_bits(m.span(), ref));
    if (t.shape.size() == 1) REQUIRE(same_bits(f.dequantize<1>(t.name).span(), ref));
    if (t.shape.size() == 2) REQUIRE(same_bits(f.dequantize<2>(t.name).span(), ref));
    if (t.shape.size() == 3) REQUIRE(same_bits(f.dequantize<3>(t.name).span(), ref));
    // The free function on raw() blocks decodes the same.
    std::vector<float> again(want.size());
    pare::io::gguf_dequantize(t.type, f.raw(t.name), again);
    REQUIRE(same_bits(again, ref));
  }
  const auto& q4 = f.info("t.q4_K");
  REQUIRE(q4.shape == std::vector<std::size_t>{2, 256});
  REQUIRE(q4.byte_size == 2 * 144);
  REQUIRE(f.info("t.f32").shape == std::vector<std::size_t>{2, 3, 32});
  REQUIRE(f.dequantize("t.f32").extents() == pare::Shape<2>{6, 32});
  REQUIRE_THROWS_AS(f.dequantize<2>("t.f32"), pare::ShapeError);
  REQUIRE_THROWS_AS(f.info("nope"), pare::ArgumentError);
  REQUIRE(std::isinf(f.dequantize<1>("t.f64")(2)));  // 1e300 overflows float to +inf
}

TEST_CASE("gguf: Q8_0 and Q4_0 quantizers match ggml's reference bit for bit", "[io][gguf]") {
  const auto x = pare::io::read_npy<float, 1>(gguf_data("quant_input.npy"));
  for (auto [type, file, bsize] : {std::tuple{GgmlType::q8_0, "q8_0_ref.bin", 34},
                                   std::tuple{GgmlType::q4_0, "q4_0_ref.bin", 18}}) {
    INFO(file);
    const auto ref = pare_test::read_all(gguf_data(file));
    std::vector<std::byte> got(x.size() / 32 * static_cast<std::size_t>(bsize));
    pare::io::gguf_quantize(type, x.span(), got);
    for (std::size_t b = 0; b < got.size(); b += static_cast<std::size_t>(bsize)) {
      INFO("block " << b / static_cast<std::size_t>(bsize));
      REQUIRE(std::memcmp(got.data() + b, ref.data() + b, static_cast<std::size_t>(bsize)) == 0);
    }
  }
  std::vector<float> bad(32, 1.0f);
  bad[3] = std::numeric_limits<float>::quiet_NaN();
  std::vector<std::byte> out(34);
  REQUIRE_THROWS_AS(pare::io::gguf_quantize(GgmlType::q8_0, bad, out), pare::ArgumentError);
  REQUIRE_THROWS_AS(
      pare::io::gguf_quantize(GgmlType::q8_0, std::span<const float>(bad).first(16), out),
      pare::ArgumentError);
  REQUIRE_THROWS_AS(pare::io::gguf_quantize(GgmlType::q4_k, bad, out), pare::UnsupportedError);
}

TEST_CASE("gguf: write_gguf writes the bytes llama.cpp's gguf_write_to_file writes", "[io][gguf]") {
  const auto x = pare::io::read_npy<float, 1>(gguf_data("quant_input.npy"));
  const auto m = pare::TensorView<const float, 2>(x.data(), {5, 64});
  const auto v = pare::TensorView<const float, 1>(x.data(), {7});
  GgufMetadata md{{"general.architecture", "pare-test"},
                  {"general.alignment", std::uint32_t{32}},
                  {"test.scale", 0.25f},
                  {"test.flag", true},
                  {"test.ids", GgufArray{std::vector<std::int32_t>{3, 1, 4, 1, 5}}},
                  {"test.tokens", GgufArray{std::vector<std::string>{"tok_a", "tok_b"}}}};
  pare_test::TempDir dir;
  pare::io::write_gguf(
      dir / "w.gguf", md,
      {pare::io::gguf_tensor("w.f32", m), pare::io::gguf_tensor("w.f16", m, GgmlType::f16),
       pare::io::gguf_tensor("w.q8_0", m, GgmlType::q8_0),
       pare::io::gguf_tensor("w.q4_0", m, GgmlType::q4_0), pare::io::gguf_tensor("b.f32", v)});
  REQUIRE(pare_test::read_all(dir / "w.gguf") == pare_test::read_all(gguf_data("writer_ref.gguf")));
}

TEST_CASE("gguf: write then read round-trips metadata and data", "[io][gguf]") {
  std::vector<float> w(4 * 96);
  for (std::size_t i = 0; i < w.size(); ++i)
    w[i] = std::sin(static_cast<float>(i) * 0.37f) * (1.0f + static_cast<float>(i % 7));
  const auto wv = pare::TensorView<const float, 2>(w.data(), {4, 96});
  const auto src = GgufFile::open(gguf_data("ggml_types.gguf"));
  GgufMetadata md{
      {"general.alignment", std::uint32_t{64}},
      {"s", "text"},
      {"nested", GgufArray{std::vector<GgufArray>{GgufArray{std::vector<float>{1.5f}},
                                                  GgufArray{std::vector<std::string>{"x", "y"}}}}},
      {"empty", GgufArray{std::vector<std::uint64_t>{}}},
      {"b", false}};
  pare_test::TempDir dir;
  pare::io::GgufWriteTensor packed{"copied.q4_K", {2, 256}, GgmlType::q4_k, {}, src.raw("t.q4_K")};
  pare::io::write_gguf(
      dir / "r.gguf", md,
      {pare::io::gguf_tensor("f32", wv), pare::io::gguf_tensor("f16", wv, GgmlType::f16),
       pare::io::gguf_tensor("q8", wv, GgmlType::q8_0),
       pare::io::gguf_tensor("q4", wv, GgmlType::q4_0), packed,
       pare::io::GgufWriteTensor{"zero", {0, 32}, GgmlType::q8_0, {}, {}}});
  const auto f = GgufFile::open(dir / "r.gguf");
  REQUIRE(f.alignment() == 64);
  for (const auto& t : f.tensors()) REQUIRE(t.file_offset % 64 == 0);
  auto it = md.begin();
  for (const auto& e : f.metadata()) {
    REQUIRE(e.key == it->key);
    REQUIRE(e.value == it->value);
    ++it;
  }
  REQUIRE(same_bits(f.dequantize("f32").span(), w));
  const auto h = f.dequantize<2>("f16");
  for (std::size_t i = 0; i < w.size(); ++i)
    REQUIRE(h.data()[i] == static_cast<float>(pare::f16(w[i])));
  REQUIRE(f.info("copied.q4_K").type == GgmlType::q4_k);
  REQUIRE(same_bits(f.dequantize("copied.q4_K").span(), src.dequantize("t.q4_K").span()));
  REQUIRE(f.info("zero").element_count == 0);
  REQUIRE(f.dequantize("zero").extents() == pare::Shape<2>{0, 32});

  for (auto [type, bsize] : {std::pair{GgmlType::q8_0, 34}, std::pair{GgmlType::q4_0, 18}}) {
    const std::string n = type == GgmlType::q8_0 ? "q8" : "q4";
    INFO(n);
    std::vector<std::byte> blocks(w.size() / 32 * static_cast<std::size_t>(bsize));
    pare::io::gguf_quantize(type, w, blocks);
    const auto raw = f.raw(n);
    REQUIRE(std::vector<std::byte>(raw.begin(), raw.end()) == blocks);
    const auto d = f.dequantize(n);
    for (std::size_t b = 0; b < w.size() / 32; ++b) {
      const float step = std::fabs(static_cast<float>(pare::f16::from_bits(
          static_cast<std::uint16_t>(std::to_integer<unsigned>(raw[b * bsize]) |
                                     (std::to_integer<unsigned>(raw[b * bsize + 1]) << 8)))));
      for (std::size_t j = 0; j < 32; ++j) {
        const std::size_t i = 32 * b + j;
        const float err = std::fabs(d.data()[i] - w[i]);
        // Half a step, plus the f16 rounding of the scale (|q| <= 128 steps of 2^-11 relative).
        float bound = 0.5f * step + 128.0f * step * 0x1p-11f;
        // Q4_0 maps the largest magnitude to -8 and clips +8 to 7: the opposite extreme may be a
        // whole step off, as in ggml.
        if (type == GgmlType::q4_0 && std::fabs(w[i]) > 7.0f * step) bound += 0.5f * step;
        INFO("element " << i << " value " << w[i] << " decoded " << d.data()[i] << " step "
                        << step);
        REQUIRE(err <= bound);
      }
    }
  }
}

TEST_CASE("gguf: write_gguf rejects bad arguments", "[io][gguf]") {
  pare_test::TempDir dir;
  std::vector<float> w(64, 1.0f);
  const auto path = dir / "bad.gguf";
  using T = pare::io::GgufWriteTensor;
  auto write = [&](T t, GgufMetadata md = {}) { pare::io::write_gguf(path, md, {t}); };
  REQUIRE_THROWS_AS(write(T{"", {64}, GgmlType::f32, w, {}}), pare::ArgumentError);
  REQUIRE_THROWS_AS(write(T{std::string(64, 'x'), {64}, GgmlType::f32, w, {}}),
                    pare::ArgumentError);
  REQUIRE_THROWS_AS(write(T{"t", {}, GgmlType::f32, w, {}}), pare::ArgumentError);
  REQUIRE_THROWS_AS(write(T{"t", {1, 1, 1, 1, 64}, GgmlType::f32, w, {}}), pare::ArgumentError);
  REQUIRE_THROWS_AS(write(T{"t", {4, 16}, GgmlType::q8_0, w, {}}),
                    pare::ArgumentError);  // row of 16
  REQUIRE_THROWS_AS(write(T{"t", {65}, GgmlType::f32, w, {}}), pare::ArgumentError);
  REQUIRE_THROWS_AS(write(T{"t", {64}, GgmlType::q4_k, {}, {}}), pare::ArgumentError);
  REQUIRE_THROWS_AS(write(T{"t", {2, 32}, GgmlType::q4_1, w, {}}), pare::UnsupportedError);
  REQUIRE_THROWS_AS(write(T{"t", {64}, static_cast<GgmlType>(4), w, {}}), pare::ArgumentError);
  REQUIRE_THROWS_AS(
      write(T{"t", {64}, GgmlType::f32, w, {}}, {{"general.alignment", std::uint64_t{32}}}),
      pare::ArgumentError);
  REQUIRE_THROWS_AS(
      write(T{"t", {64}, GgmlType::f32, w, {}}, {{"general.alignment", std::uint32_t{24}}}),
      pare::ArgumentError);
  w[5] = std::numeric_limits<float>::infinity();
  REQUIRE_THROWS_AS(write(T{"t", {64}, GgmlType::q4_0, w, {}}), pare::ArgumentError);
  REQUIRE_THROWS_AS(
      pare::io::write_gguf(
          path, {}, {T{"a", {64}, GgmlType::f32, w, {}}, T{"a", {64}, GgmlType::f32, w, {}}}),
      pare::ArgumentError);
  GgufArray deep{std::vector<std::int8_t>{1}};
  for (int i = 0; i < 8; ++i) deep = GgufArray{std::vector<GgufArray>{deep}};
  REQUIRE_THROWS_AS(write(T{"t", {64}, GgmlType::f32, w, {}}, {{"deep", deep}}),
                    pare::ArgumentError);
  REQUIRE_FALSE(std::filesystem::exists(path));
}

TEST_CASE("gguf: versions and unsupported types", "[io][gguf]") {
  auto with_version = [](std::uint32_t v) {
    auto b = small_valid();
    for (int i = 0; i < 4; ++i) b[4 + i] = static_cast<std::byte>((v >> (8 * i)) & 0xFF);
    return b;
  };
  REQUIRE(open_mem(with_version(2)).version() == 2);
  REQUIRE(open_mem(with_version(3)).tensors().size() == 2);
  require_error<pare::UnsupportedError>(with_version(1), "version 1");
  require_error<pare::UnsupportedError>(with_version(0x03000000), "big-endian");
  require_error<pare::UnsupportedError>(with_version(4), "version 4");
  require_error(with_version(0), "version 0");

  // A real type pare does not decode parses, sizes and bounds-checks; only dequantize refuses.
  Builder b;
  b.header(1, 0).info("iq", {256}, 16, 0).pad().zeros(66);
  const auto f = open_mem(b.v);
  REQUIRE(f.info("iq").byte_size == 66);
  REQUIRE(f.raw("iq").size() == 66);
  REQUIRE_THROWS_AS(f.dequantize("iq"), pare::UnsupportedError);
  std::vector<float> out(256);
  REQUIRE_THROWS_AS(pare::io::gguf_dequantize(GgmlType::iq2_xxs, f.raw("iq"), out),
                    pare::UnsupportedError);

  Builder empty;  // no tensors: no data section needed, no padding required
  empty.header(0, 1).kv_u32("k", 7);
  REQUIRE(open_mem(empty.v).metadata().get<std::uint32_t>("k") == 7);
}

TEST_CASE("gguf: hostile headers throw FormatError before allocating", "[io][gguf]") {
  constexpr std::uint64_t huge = std::uint64_t{1} << 60;
  auto hdr = [](std::uint64_t nt, std::uint64_t nkv) { return Builder{}.header(nt, nkv); };

  require_error(pare_test::bytes("GGUX\3\0\0\0"), "magic");
  require_error(hdr(0, huge).v, "metadata_kv_count");
  require_error(hdr(huge, 0).v, "tensor_count");
  require_error(hdr(0, 1).u64(huge).zeros(16).v, "string length");  // key length 2^60
  require_error(hdr(0, 1).str("k").u32(8).u64(huge).zeros(16).v, "string length");  // string value
  require_error(hdr(0, 1).str("k").u32(9).u32(4).u64(huge / 4).zeros(64).v,
                "array of");  // array count
  require_error(hdr(0, 1).str("k").u32(9).u32(8).u64(huge).zeros(64).v,
                "array of");  // string array
  require_error(hdr(0, 1).str("k").u32(13).u32(0).v, "unknown GGUF value type 13");
  require_error(hdr(0, 1).str("k").u32(9).u32(13).u64(1).zeros(8).v, "unknown GGUF value type 13");
  require_error(hdr(0, 1).str("k").u32(7).u8(2).v, "neither 0 nor 1");
  require_error(hdr(0, 1).str("k").u32(9).u32(7).u64(2).u8(1).u8(5).v, "neither 0 nor 1");
  require_error(hdr(0, 1).str("").u32(4).u32(1).v, "empty");
  require_error(hdr(0, 2).kv_u32("k", 1).kv_u32("k", 2).v, "duplicate metadata key");
  {
    Builder nested = hdr(0, 1);
    nested.str("k").u32(9);
    for (int i = 0; i < 8; ++i) nested.u32(9).u64(1);
    nested.u32(4).u64(1).u32(7);
    require_error(nested.v, "nested deeper");
    Builder ok = hdr(0, 1);
    ok.str("k").u32(9);
    for (int i = 0; i < 7; ++i) ok.u32(9).u64(1);
    ok.u32(4).u64(1).u32(7);
    const auto f = open_mem(ok.v);
    const GgufValue* v = f.metadata().find("k");
    for (int i = 0; i < 7; ++i) v = &v->get_if<GgufArray>()->items().at(0);
    REQUIRE(v->get_if<GgufArray>()->values<std::uint32_t>() == std::vector<std::uint32_t>{7});
  }
  require_error(hdr(0, 1).str("general.alignment").u32(10).u64(32).v, "must be a u32");
  require_error(hdr(0, 1).kv_u32("general.alignment", 0).v, "power of two");
  require_error(hdr(0, 1).kv_u32("general.alignment", 48).v, "power of two");

  auto one = [&](std::vector<std::uint64_t> ne, std::uint32_t type, std::uint64_t off,
                 std::size_t data) {
    return hdr(1, 0).info("t", std::move(ne), type, off).pad().zeros(data).v;
  };
  require_error(hdr(1, 0).u64(huge).zeros(64).v, "string length");  // tensor name length
  require_error(one({1, 1, 1, 1, 1}, 0, 0, 4), "n_dims is 5");
  require_error(one({std::uint64_t{1} << 40, std::uint64_t{1} << 40}, 0, 0, 0), "overflows");
  require_error(one({std::uint64_t{1} << 63}, 0, 0, 0), "above 2^63");
  require_error(one({32}, 99, 0, 64), "unknown ggml type 99");
  require_error(one({32}, 4, 0, 64), "q4_2");
  require_error(one({16}, 2, 0, 64), "not a multiple");  // Q4_0 row of 16
  require_error(one({8}, 0, 4, 64), "not a multiple of the alignment");
  require_error(one({8}, 0, 0, 31), "past the end");
  require_error(one({8}, 0, std::uint64_t{1} << 62, 32), "past the end");
  require_error(one({std::uint64_t{1} << 61}, 0, 0, 32), "past the end");
  require_error(hdr(2, 0).info("a", {16}, 0, 0).info("b", {8}, 0, 32).pad().zeros(64).v,
                "overlaps tensor 'a'");
  require_error(hdr(2, 0).info("a", {8}, 0, 0).info("a", {8}, 0, 32).pad().zeros(64).v,
                "duplicate tensor name");
  require_error(hdr(1, 0).info("t", {8}, 0, 0).v, "data section");  // infos end, no data at all
}

TEST_CASE("gguf: every truncation is a FormatError and no flipped byte crashes", "[io][gguf]") {
  const auto good = small_valid();
  REQUIRE(open_mem(good).tensors().size() == 2);
  pare_test::every_prefix_throws_format_error(
      good, [](std::vector<std::byte> b) { (void)open_mem(std::move(b)); });
  const auto rejected = pare_test::every_flip_is_safe(
      good, [](std::vector<std::byte> b) { (void)open_mem(std::move(b)); });
  REQUIRE(rejected > 0);

  // The llama.cpp-written file too (flips only: its trailing tensor padding is optional).
  const auto real = pare_test::read_all(gguf_data("writer_ref.gguf"));
  (void)pare_test::every_flip_is_safe(
      real, [](std::vector<std::byte> b) { (void)open_mem(std::move(b)); }, {0xFFu, 0x10u});
}
