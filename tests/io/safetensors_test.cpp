// SPDX-License-Identifier: Apache-2.0
#include "pare/io/safetensors.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <type_traits>

#include "io/io_test_util.hpp"

namespace {

using pare::io::SafetensorsFile;
using pare_test::expected;

SafetensorsFile open_mem(std::vector<std::byte> b) {
  SafetensorsFile f(pare::io::MappedFile::from_buffer(std::move(b), "mem.safetensors"));
  for (const auto& n : f.names()) {  // touch every byte so ASan sees a wrong span
    unsigned sum = 0;
    for (std::byte x : f.info(n).bytes) sum += std::to_integer<unsigned>(x);
    (void)sum;
  }
  return f;
}

// A safetensors image: length, the JSON verbatim (no padding), then `data_bytes` bytes.
std::vector<std::byte> make_st(const std::string& json, std::size_t data_bytes,
                               std::uint8_t fill = 0) {
  std::vector<std::byte> v;
  pare_test::append_le<std::uint64_t>(v, json.size());
  pare_test::append(v, json);
  v.resize(v.size() + data_bytes, std::byte{fill});
  return v;
}

template <class T>
void check_values(const SafetensorsFile& f, const std::string& name) {
  INFO(name);
  const auto v = f.view<T, 2>(name);
  REQUIRE(v.extents() == pare::Shape<2>{2, 3});
  for (std::size_t i = 0; i < 6; ++i) {
    const T want = expected<T>(i);
    REQUIRE(std::memcmp(&v.data()[i], &want, sizeof(T)) == 0);
  }
  const auto t = f.load<T, 2>(name);
  REQUIRE(std::memcmp(t.data(), v.data(), 6 * sizeof(T)) == 0);
}

template <class T>
pare::Tensor<T, 2> expected_tensor() {
  pare::Tensor<T, 2> t({2, 3});
  for (std::size_t i = 0; i < 6; ++i) t.data()[i] = expected<T>(i);
  return t;
}

}  // namespace

TEST_CASE("safetensors: reads every dtype and the metadata", "[io][safetensors]") {
  const auto f = SafetensorsFile::open(pare_test::io_data("safetensors/mixed.safetensors"));
  REQUIRE(f.metadata() ==
          std::map<std::string, std::string>{{"format", "pt"}, {"source", "make_io_refs.py"}});
  REQUIRE(f.names().size() == 14);
  REQUIRE(f.names().front() == "i64");  // data order: widest dtypes first
  check_values<float>(f, "f32");
  check_values<double>(f, "f64");
  check_values<pare::f16>(f, "f16");
  check_values<pare::bf16>(f, "bf16");
  check_values<std::int64_t>(f, "i64");
  check_values<std::int32_t>(f, "i32");
  check_values<std::int16_t>(f, "i16");
  check_values<std::int8_t>(f, "i8");
  check_values<std::uint8_t>(f, "u8");
  check_values<bool>(f, "bool");
  const auto e4 = f.view<pare::fp8_e4m3, 2>("e4m3");
  const auto e5 = f.view<pare::fp8_e5m2, 2>("e5m2");
  for (std::size_t i = 0; i < 6; ++i) {
    REQUIRE(e4.data()[i].bits() == 0x11 * i);
    REQUIRE(e5.data()[i].bits() == 0x11 * i);
  }
  const auto vec = f.view<float, 1>("vec");
  REQUIRE(vec.extent(0) == 4);
  REQUIRE(vec[3] == 3.0f);
  const auto empty = f.view<float, 2>("empty");
  REQUIRE(empty.extents() == pare::Shape<2>{0, 3});
  const auto& info = f.info("i16");
  REQUIRE(info.dtype == pare::DType::i16);
  REQUIRE(info.bytes.size() == 12);
  REQUIRE(info.shape == std::vector<std::size_t>{2, 3});
  REQUIRE_THROWS_AS(f.info("missing"), pare::ArgumentError);
  REQUIRE_THROWS_WITH((f.view<float, 2>("f64")), Catch::Contains("F64") && Catch::Contains("f32") &&
                                                     Catch::Contains("mixed.safetensors"));
  REQUIRE_THROWS_AS((f.view<float, 3>("f32")), pare::ShapeError);
}

TEST_CASE("safetensors: views keep the map alive; the file object can go", "[io][safetensors]") {
  pare::TensorView<const float, 1> v;
  std::shared_ptr<const void> keep;
  {
    const auto f = SafetensorsFile::open(pare_test::io_data("safetensors/mixed.safetensors"));
    v = f.view<float, 1>("vec");
    keep = f.keep_alive();
  }
  REQUIRE(v[2] == 2.0f);
}

TEST_CASE("safetensors: the writer produces the reference layout byte for byte",
          "[io][safetensors]") {
  pare_test::TempDir dir;
  const auto f32 = expected_tensor<float>();
  const auto f64 = expected_tensor<double>();
  const auto f16 = expected_tensor<pare::f16>();
  const auto bf16 = expected_tensor<pare::bf16>();
  const auto i64 = expected_tensor<std::int64_t>();
  const auto i32 = expected_tensor<std::int32_t>();
  const auto i16 = expected_tensor<std::int16_t>();
  const auto i8 = expected_tensor<std::int8_t>();
  const auto u8 = expected_tensor<std::uint8_t>();
  const auto b = expected_tensor<bool>();
  pare::Tensor<pare::fp8_e4m3, 2> e4({2, 3});
  pare::Tensor<pare::fp8_e5m2, 2> e5({2, 3});
  for (std::size_t i = 0; i < 6; ++i) {
    e4.data()[i] = pare::fp8_e4m3::from_bits(static_cast<std::uint8_t>(0x11 * i));
    e5.data()[i] = pare::fp8_e5m2::from_bits(static_cast<std::uint8_t>(0x11 * i));
  }
  pare::Tensor<float, 1> vec({4});
  for (std::size_t i = 0; i < 4; ++i) vec(i) = static_cast<float>(i);
  const pare::Tensor<float, 2> empty({0, 3});
  using pare::io::safetensors_entry;
  // Given in a scrambled order: the writer sorts.
  pare::io::write_safetensors(
      dir / "mixed.safetensors",
      {safetensors_entry("vec", vec), safetensors_entry("bool", b), safetensors_entry("f32", f32),
       safetensors_entry("f64", f64), safetensors_entry("f16", f16),
       safetensors_entry("bf16", bf16), safetensors_entry("i64", i64),
       safetensors_entry("i32", i32), safetensors_entry("i16", i16), safetensors_entry("i8", i8),
       safetensors_entry("u8", u8), safetensors_entry("e4m3", e4), safetensors_entry("e5m2", e5),
       safetensors_entry("empty", empty)},
      {{"source", "make_io_refs.py"}, {"format", "pt"}});
  REQUIRE(pare_test::read_all(dir / "mixed.safetensors") ==
          pare_test::read_all(pare_test::io_data("safetensors/mixed.safetensors")));
  REQUIRE(dir.count() == 1);
}

TEST_CASE("safetensors: random round trips are bit-exact and aligned", "[io][safetensors]") {
  pare_test::TempDir dir;
  std::mt19937_64 rng(11);
  auto fill = [&](auto& t) {
    for (auto& v : t.span()) {
      const std::uint64_t r = rng();
      std::memcpy(static_cast<void*>(&v), &r, sizeof v);
    }
  };
  pare::Tensor<std::uint8_t, 1> odd({3});
  pare::Tensor<float, 2> w({7, 5});
  pare::Tensor<std::uint64_t, 1> u64({9});
  pare::Tensor<std::uint32_t, 3> u32({2, 1, 3});
  pare::Tensor<std::uint16_t, 1> u16({5});
  pare::Tensor<pare::bf16, 2> bf({3, 3});
  fill(odd), fill(w), fill(u64), fill(u32), fill(u16), fill(bf);
  using pare::io::safetensors_entry;
  pare::io::write_safetensors(
      dir / "r.safetensors",
      {safetensors_entry("odd", odd), safetensors_entry("w", w), safetensors_entry("u64", u64),
       safetensors_entry("u32", u32), safetensors_entry("u16", u16), safetensors_entry("bf", bf)});
  const auto f = SafetensorsFile::open(dir / "r.safetensors");
  REQUIRE(f.metadata().empty());
  REQUIRE(std::memcmp(f.view<std::uint8_t, 1>("odd").data(), odd.data(), odd.size_bytes()) == 0);
  REQUIRE(std::memcmp(f.view<float, 2>("w").data(), w.data(), w.size_bytes()) == 0);
  REQUIRE(std::memcmp(f.view<std::uint64_t, 1>("u64").data(), u64.data(), u64.size_bytes()) == 0);
  REQUIRE(std::memcmp(f.view<std::uint32_t, 3>("u32").data(), u32.data(), u32.size_bytes()) == 0);
  REQUIRE(std::memcmp(f.view<std::uint16_t, 1>("u16").data(), u16.data(), u16.size_bytes()) == 0);
  REQUIRE(std::memcmp(f.view<pare::bf16, 2>("bf").data(), bf.data(), bf.size_bytes()) == 0);
  // Writer misuse.
  REQUIRE_THROWS_AS(pare::io::write_safetensors(
                        dir / "x", {safetensors_entry("a", w), safetensors_entry("a", odd)}),
                    pare::ArgumentError);
  REQUIRE_THROWS_AS(pare::io::write_safetensors(dir / "x", {safetensors_entry("__metadata__", w)}),
                    pare::ArgumentError);
  REQUIRE_THROWS_AS(safetensors_entry("t", w.view().transposed()), pare::ShapeError);
  pare::io::SafetensorsEntry short_entry{
      "s",
      pare::DType::f32,
      {4},
      odd.view().span().size() ? std::as_bytes(odd.span()) : std::span<const std::byte>{}};
  REQUIRE_THROWS_AS(pare::io::write_safetensors(dir / "x", {short_entry}), pare::ShapeError);
  REQUIRE_THROWS_AS(pare::io::write_safetensors(
                        dir / "x", {pare::io::SafetensorsEntry{"p", pare::DType::i4, {2}, {}}}),
                    pare::UnsupportedError);
  REQUIRE(dir.count() == 1);
}

TEST_CASE("safetensors: every truncation is a FormatError and every flipped byte is safe",
          "[io][safetensors]") {
  for (const char* f : {"safetensors/small.safetensors", "safetensors/mixed.safetensors"}) {
    INFO(f);
    const auto good = pare_test::read_all(pare_test::io_data(f));
    pare_test::every_prefix_throws_format_error(
        good, [](std::vector<std::byte> b) { (void)open_mem(std::move(b)); });
    pare_test::every_flip_is_safe(good, [](std::vector<std::byte> b) {
      const auto s = open_mem(std::move(b));
      if (s.contains("bool")) (void)s.view<bool, 2>("bool");
    });
  }
}

TEST_CASE("safetensors: hostile headers are FormatErrors naming the problem", "[io][safetensors]") {
  REQUIRE(open_mem(make_st(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8))
              .names()
              .size() == 1);
  REQUIRE(open_mem(make_st(R"({"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}   )", 4))
              .info("a")
              .size() == 1);
  REQUIRE(open_mem(make_st("{}", 0)).names().empty());

  struct Case {
    std::string json;
    std::size_t data;
    std::string needle;
  };
  const Case cases[] = {
      {R"({"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", 8, "unknown dtype \"F33\""},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
       16, "duplicate key \"a\""},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       12, "overlaps"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})",
       20, "belong to no tensor"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 12, "after the last tensor"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12, "belong to no tensor"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,80]}})", 8, "not inside"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8, "not inside"},
      {R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8, "needs 12 bytes"},
      {R"({"a":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}})", 8,
       "overflows"},
      {R"({"a":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,8]}})", 8,
       "needs 4398046511104 bytes"},
      {R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8, "negative"},
      {R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8,
       "not a non-negative integer"},
      {R"({"a":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,8]}})", 8,
       "not a non-negative integer"},
      {R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", 8, "needs \"dtype\", \"shape\""},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8, "needs 2 values"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}})", 8, "more than 2"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", 8, "unknown key \"x\""},
      {R"({"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8, "repeats key"},
      {R"({"a":{"dtype":"F32","shape":[[2]],"data_offsets":[0,8]}})", 8, "unexpected array"},
      {R"({"a":[1,2]})", 0, "expected an object"},
      {R"({"a":"x"})", 0, "unexpected string"},
      {R"({"__metadata__":{"k":1}})", 0, "unexpected number"},
      {R"({"__metadata__":{"k":{"x":"y"}}})", 0, "values must be strings"},
      {R"({"__metadata__":{"k":"a","k":"b"}})", 0, "duplicate __metadata__ key"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})", 8, "header"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} x)", 8, "header"},
      {R"([1,2,3])", 0, "must start with '{'"},
      {R"( {})", 0, "must start with '{'"},
      {"{\"a\xff\":{}}", 0, "header"},
      {"{" + std::string(100000, '['), 0, "header"},
  };
  for (const auto& c : cases) {
    INFO(c.json.substr(0, 200));
    REQUIRE_THROWS_AS(open_mem(make_st(c.json, c.data)), pare::FormatError);
    REQUIRE_THROWS_WITH(open_mem(make_st(c.json, c.data)),
                        Catch::Contains(c.needle) && Catch::Contains("mem.safetensors"));
  }
}

TEST_CASE("safetensors: header length checks come first", "[io][safetensors]") {
  auto b = make_st("{}", 0);
  b[0] = std::byte{0xFF};
  b[1] = std::byte{0xFF};
  b[2] = std::byte{0xFF};
  b[3] = std::byte{0x7F};  // 2 GB: over the 100 MB limit
  REQUIRE_THROWS_WITH(open_mem(b), Catch::Contains("100 MB"));
  auto c = make_st("{}", 0);
  c[0] = std::byte{3};  // 3 bytes promised, 2 present
  REQUIRE_THROWS_WITH(open_mem(c), Catch::Contains("does not fit"));
  REQUIRE_THROWS_WITH(open_mem(pare_test::bytes("abc")), Catch::Contains("shorter than"));
}

TEST_CASE("safetensors: misaligned data is refused for views and copied by load",
          "[io][safetensors]") {
  // A hand-packed file: 3 u8 bytes, then an f32 at data offset 3 (the reference writer never
  // does this, but other writers may).
  std::string json =
      R"({"u":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"f":{"dtype":"F32","shape":[1],"data_offsets":[3,7]}})";
  json.append((8 - json.size() % 8) % 8, ' ');
  auto b = make_st(json, 0);
  const std::size_t data_at = b.size();
  pare_test::append(b, "\x01\x02\x03");
  const float one = 1.5f;
  pare_test::append_le<std::uint32_t>(b, std::bit_cast<std::uint32_t>(one));
  // The data section starts 8-aligned (and the buffer is 16-aligned), so "f" is misaligned.
  REQUIRE(data_at % 8 == 0);
  const auto f = open_mem(b);
  REQUIRE_THROWS_WITH((f.view<float, 1>("f")),
                      Catch::Contains("not aligned") && Catch::Contains("load()"));
  REQUIRE(f.load<float, 1>("f")(0) == 1.5f);
  REQUIRE(f.view<std::uint8_t, 1>("u")(2) == 3);
}

TEST_CASE("safetensors: BOOL tensors must hold 0 or 1", "[io][safetensors]") {
  const auto f =
      open_mem(make_st(R"({"b":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})", 2, 2));
  REQUIRE_THROWS_WITH((f.view<bool, 1>("b")), Catch::Contains("neither 0 nor 1"));
  REQUIRE_THROWS_AS((f.load<bool, 1>("b")), pare::FormatError);
}
