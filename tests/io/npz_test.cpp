// SPDX-License-Identifier: Apache-2.0
#include "pare/io/npz.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>

#include "io/io_test_util.hpp"
#include "pare/io/checksum.hpp"
#include "pare/io/detail/zip.hpp"

namespace {

pare::io::NpzFile open_mem(std::vector<std::byte> b) {
  return pare::io::NpzFile(pare::io::MappedFile::from_buffer(std::move(b), "mem.npz"));
}

// Opens and reads every entry (so CRCs and .npy headers are checked too).
void read_everything(std::vector<std::byte> b) {
  const auto z = open_mem(std::move(b));
  for (const auto& n : z.names()) {
    const auto a = z.array(n);
    unsigned sum = 0;
    for (std::byte x : a.data) sum += std::to_integer<unsigned>(x);
    (void)sum;
  }
}

struct ZipSpec {
  std::string name = "a.npy";
  std::string data = "hello";
  std::uint16_t method = 0;
  std::uint16_t flags = 0;        // 8: sizes in a data descriptor, local sizes unchecked
  bool zip64_size_in_cd = false;  // put the size in a zip64 extra field of the CD record
  std::uint64_t zip64_size = 0;   // ... with this value
};

// A minimal, valid zip with one stored entry, built from the spec.
std::vector<std::byte> make_zip(const ZipSpec& s) {
  using pare_test::append;
  using pare_test::append_le;
  std::vector<std::byte> v;
  const auto data = pare_test::bytes(s.data);
  const std::uint32_t crc = pare::io::crc32(data);
  append_le<std::uint32_t>(v, 0x04034b50u);
  append_le<std::uint16_t>(v, 20);
  append_le<std::uint16_t>(v, s.flags);
  append_le<std::uint16_t>(v, s.method);
  append_le<std::uint32_t>(v, 0);
  append_le<std::uint32_t>(v, crc);
  append_le<std::uint32_t>(v, static_cast<std::uint32_t>(data.size()));
  append_le<std::uint32_t>(v, static_cast<std::uint32_t>(data.size()));
  append_le<std::uint16_t>(v, static_cast<std::uint16_t>(s.name.size()));
  append_le<std::uint16_t>(v, 0);
  append(v, s.name);
  v.insert(v.end(), data.begin(), data.end());
  const auto cd_offset = static_cast<std::uint32_t>(v.size());
  append_le<std::uint32_t>(v, 0x02014b50u);
  append_le<std::uint16_t>(v, 20);
  append_le<std::uint16_t>(v, 20);
  append_le<std::uint16_t>(v, s.flags);
  append_le<std::uint16_t>(v, s.method);
  append_le<std::uint32_t>(v, 0);
  append_le<std::uint32_t>(v, crc);
  const std::uint32_t size32 =
      s.zip64_size_in_cd ? 0xFFFFFFFFu : static_cast<std::uint32_t>(data.size());
  append_le<std::uint32_t>(v, size32);
  append_le<std::uint32_t>(v, size32);
  append_le<std::uint16_t>(v, static_cast<std::uint16_t>(s.name.size()));
  append_le<std::uint16_t>(v, s.zip64_size_in_cd ? 20 : 0);
  append_le<std::uint16_t>(v, 0);
  append_le<std::uint16_t>(v, 0);
  append_le<std::uint16_t>(v, 0);
  append_le<std::uint32_t>(v, 0);
  append_le<std::uint32_t>(v, 0);
  append(v, s.name);
  if (s.zip64_size_in_cd) {
    append_le<std::uint16_t>(v, 0x0001);
    append_le<std::uint16_t>(v, 16);
    append_le<std::uint64_t>(v, s.zip64_size);
    append_le<std::uint64_t>(v, s.zip64_size);
  }
  const auto cd_size = static_cast<std::uint32_t>(v.size() - cd_offset);
  append_le<std::uint32_t>(v, 0x06054b50u);
  append_le<std::uint16_t>(v, 0);
  append_le<std::uint16_t>(v, 0);
  append_le<std::uint16_t>(v, 1);
  append_le<std::uint16_t>(v, 1);
  append_le<std::uint32_t>(v, cd_size);
  append_le<std::uint32_t>(v, cd_offset);
  append_le<std::uint16_t>(v, 0);
  return v;
}

void put_u32(std::vector<std::byte>& v, std::size_t at, std::uint32_t x) {
  for (int i = 0; i < 4; ++i) v[at + i] = static_cast<std::byte>((x >> (8 * i)) & 0xFF);
}

}  // namespace

TEST_CASE("npz: reads every array np.savez wrote", "[io][npz]") {
  const auto z = pare::io::NpzFile::open(pare_test::io_data("npy/arrays.npz"));
  REQUIRE(z.names() == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(z.contains("a"));
  REQUIRE(z.contains("b.npy"));
  const auto a = z.read<float, 2>("a");
  REQUIRE(a.extents() == pare::Shape<2>{2, 3});
  for (std::size_t i = 0; i < 6; ++i) REQUIRE(a.data()[i] == (static_cast<float>(i) - 2.5f) * 0.5f);
  const auto b = z.read<std::int64_t, 2>("b");
  REQUIRE(b(0, 0) == std::numeric_limits<std::int64_t>::min());
  REQUIRE(b(1, 2) == std::numeric_limits<std::int64_t>::max());
  REQUIRE(z.array("c").item<double>() == 3.5);
  REQUIRE_THROWS_WITH(z.array("nope"),
                      Catch::Contains("no array 'nope'") && Catch::Contains("a, b, c"));
  REQUIRE_THROWS_AS(z.array("nope"), pare::ArgumentError);
  // Errors inside an entry name the archive, the entry and the offset within the archive.
  REQUIRE_THROWS_WITH((z.read<double, 2>("a")), Catch::Contains("arrays.npz:a.npy"));
}

TEST_CASE("npz: compressed entries are listed but reading them is UnsupportedError", "[io][npz]") {
  const auto z = pare::io::NpzFile::open(pare_test::io_data("npy/arrays_compressed.npz"));
  REQUIRE(z.names() == std::vector<std::string>{"a"});
  REQUIRE_THROWS_AS(z.array("a"), pare::UnsupportedError);
  REQUIRE_THROWS_WITH(z.array("a"), Catch::Contains("'a.npy'") && Catch::Contains("deflate"));
}

TEST_CASE("npz: every truncation is a FormatError and every flipped byte is safe",
          "[io][npz][zip]") {
  const auto good = pare_test::read_all(pare_test::io_data("npy/arrays.npz"));
  pare_test::every_prefix_throws_format_error(
      good, [](std::vector<std::byte> b) { read_everything(std::move(b)); });
  const std::size_t rejected = pare_test::every_flip_is_safe(
      good, [](std::vector<std::byte> b) { read_everything(std::move(b)); });
  // Nearly every byte is covered by a signature, a size, a CRC or the .npy header check.
  REQUIRE(rejected > good.size());
  const auto compressed = pare_test::read_all(pare_test::io_data("npy/arrays_compressed.npz"));
  pare_test::every_prefix_throws_format_error(
      compressed, [](std::vector<std::byte> b) { (void)open_mem(std::move(b)); });
}

TEST_CASE("zip: a flipped data byte fails the CRC check", "[io][zip]") {
  auto b = pare_test::read_all(pare_test::io_data("npy/arrays.npz"));
  const auto z = open_mem(b);
  const auto a = z.array("a");
  b[a.data_offset] ^= std::byte{1};
  const auto z2 = open_mem(b);
  REQUIRE_THROWS_WITH(z2.array("a"), Catch::Contains("CRC-32"));
}

TEST_CASE("zip: hostile directories are FormatErrors", "[io][zip]") {
  using pare::io::detail::ZipReader;
  const auto ok = make_zip({});
  {
    const ZipReader z(ok, "ok.zip");
    REQUIRE(z.entries().size() == 1);
    const auto d = z.read(z.entries()[0]);
    REQUIRE(std::string(reinterpret_cast<const char*>(d.data()), d.size()) == "hello");
  }
  const std::size_t eocd = ok.size() - 22;
  {  // EOCD points the central directory outside the file
    auto b = ok;
    put_u32(b, eocd + 16, 0x7FFFFFF0u);
    REQUIRE_THROWS_WITH(ZipReader(b, "bad.zip"),
                        Catch::Contains("central directory") && Catch::Contains("bad.zip"));
  }
  {  // central directory size runs past the end record
    auto b = ok;
    put_u32(b, eocd + 12, 0xFFFFFF00u);
    REQUIRE_THROWS_AS(ZipReader(b, "bad.zip"), pare::FormatError);
  }
  {  // entry count larger than the directory can hold
    auto b = ok;
    b[eocd + 8] = b[eocd + 10] = std::byte{0xFE};
    b[eocd + 9] = b[eocd + 11] = std::byte{0xFF};
    REQUIRE_THROWS_WITH(ZipReader(b, "bad.zip"), Catch::Contains("entries cannot fit"));
  }
  {  // zip64 size that overflows offset + size
    const auto b =
        make_zip({.flags = 8, .zip64_size_in_cd = true, .zip64_size = 0xFFFFFFFFFFFFFFF0ull});
    REQUIRE_THROWS_WITH(ZipReader(b, "bad.zip"), Catch::Contains("overflows"));
  }
  {  // zip64 size that is merely too large (with and without a data descriptor)
    REQUIRE_THROWS_AS(
        ZipReader(make_zip({.zip64_size_in_cd = true, .zip64_size = 1ull << 40}), "bad.zip"),
        pare::FormatError);
    REQUIRE_THROWS_WITH(
        ZipReader(make_zip({.flags = 8, .zip64_size_in_cd = true, .zip64_size = 1ull << 40}),
                  "bad.zip"),
        Catch::Contains("runs into the central directory"));
  }
  {  // zip64 size equal to the real size is fine
    const auto b = make_zip({.zip64_size_in_cd = true, .zip64_size = 5});
    REQUIRE(ZipReader(b, "ok.zip").entries()[0].size == 5);
  }
  {  // local header disagreeing with the directory
    auto b = ok;
    b[30] = std::byte{'b'};
    REQUIRE_THROWS_WITH(ZipReader(b, "bad.zip"), Catch::Contains("local header names"));
  }
  {  // not a zip at all, and too short
    REQUIRE_THROWS_WITH(ZipReader(pare_test::bytes(std::string(100, 'x')), "x.zip"),
                        Catch::Contains("end-of-central-directory"));
    REQUIRE_THROWS_AS(ZipReader(pare_test::bytes("PK"), "x.zip"), pare::FormatError);
  }
  {  // unknown compression method: listed, unreadable
    const auto b = make_zip({.method = 12});
    const ZipReader z(b, "bz.zip");
    REQUIRE_THROWS_WITH(z.read(z.entries()[0]), Catch::Contains("method 12"));
  }
}

namespace {
// The stored bytes of every member of an archive, by member name.
std::vector<std::pair<std::string, std::vector<std::byte>>> members(
    const std::vector<std::byte>& b) {
  const pare::io::detail::ZipReader zip(b, "mem.npz");
  std::vector<std::pair<std::string, std::vector<std::byte>>> out;
  for (const auto& e : zip.entries()) {
    const auto d = zip.read(e);
    out.emplace_back(e.name, std::vector<std::byte>(d.begin(), d.end()));
  }
  return out;
}
}  // namespace

TEST_CASE("npz: write_npz writes the members np.savez writes", "[io][npz][write]") {
  // Rewrite numpy's own archive: every member must come out byte for byte as numpy wrote it.
  const auto src_path = pare_test::io_data("npy/arrays.npz");
  const auto src = pare::io::NpzFile::open(src_path);
  std::vector<pare::io::NpyArray> arrays;
  std::vector<pare::io::NpzEntry> entries;
  for (const auto& n : src.names()) arrays.push_back(src.array(n));
  for (std::size_t i = 0; i < arrays.size(); ++i)
    entries.push_back({src.names()[i], arrays[i].dtype, arrays[i].shape, arrays[i].data,
                       arrays[i].fortran_order});
  pare_test::TempDir dir;
  for (bool zip64 : {false, true}) {
    INFO("always_zip64 = " << zip64);
    const auto out = dir / (zip64 ? "z64.npz" : "z.npz");
    pare::io::write_npz(out, entries, zip64);
    const auto written = pare_test::read_all(out);
    REQUIRE(members(written) == members(pare_test::read_all(src_path)));
    const auto back = pare::io::NpzFile::open(out);
    REQUIRE(back.names() == src.names());
    CHECK(back.read<float, 2>("a")(1, 2) == 1.25f);
    CHECK(back.array("c").item<double>() == 3.5);
    // The reader's strictness applies to what pare writes: every prefix is refused.
    pare_test::every_prefix_throws_format_error(
        written, [](std::vector<std::byte> b) { read_everything(std::move(b)); });
  }
}

TEST_CASE("npz: write_npz round-trips dtypes, orders, 0-d, empty and UTF-8 names",
          "[io][npz][write]") {
  pare::Tensor<float, 2> f({2, 3});
  for (std::size_t i = 0; i < 6; ++i) f.data()[i] = static_cast<float>(i) * 0.25f;
  pare::Tensor<std::int8_t, 1> i8({4});
  i8[0] = -128;
  i8[3] = 127;
  pare::Tensor<bool, 2> mask({2, 2});
  mask(1, 0) = true;
  pare::Tensor<pare::f16, 1> half({3});
  half[1] = pare::f16(1.5f);
  pare::Tensor<float, 2> empty({0, 5});
  const double scalar = -2.5;
  const auto fortran = pare::io::read_npy_array(pare_test::io_data("npy/f4_fortran.npy"));
  pare_test::TempDir dir;
  const auto path = dir / "mixed.npz";
  pare::io::write_npz(path, {pare::io::npz_entry("f", f),
                             pare::io::npz_entry("i8", i8),
                             pare::io::npz_entry("mask", mask),
                             pare::io::npz_entry("half", half),
                             pare::io::npz_entry("empty", empty),
                             {"scalar", pare::DType::f64, {}, std::as_bytes(std::span(&scalar, 1))},
                             {"fortran", fortran.dtype, fortran.shape, fortran.data, true},
                             pare::io::npz_entry("größe", f)});
  const auto z = pare::io::NpzFile::open(path);
  REQUIRE(z.names() == std::vector<std::string>{"f", "i8", "mask", "half", "empty", "scalar",
                                                "fortran", "größe"});
  CHECK(z.read<float, 2>("f")(1, 2) == 1.25f);
  CHECK(z.read<std::int8_t, 1>("i8")[0] == -128);
  CHECK(z.read<bool, 2>("mask")(1, 0));
  CHECK(static_cast<float>(z.read<pare::f16, 1>("half")[1]) == 1.5f);
  CHECK(z.read<float, 2>("empty").extents() == pare::Shape<2>{0, 5});
  CHECK(z.array("scalar").item<double>() == -2.5);
  CHECK(z.array("fortran").fortran_order);
  const auto want = pare::io::read_npy<float, 2>(pare_test::io_data("npy/f4_fortran.npy"));
  const auto got = z.read<float, 2>("fortran");
  REQUIRE(got.extents() == want.extents());
  for (std::size_t k = 0; k < got.size(); ++k) CHECK(got.data()[k] == want.data()[k]);
  CHECK(z.read<float, 2>("größe")(0, 1) == 0.25f);
}

TEST_CASE("npz: write_npz refuses bad arrays and keeps the old file", "[io][npz][write]") {
  pare::Tensor<float, 1> x({3}, 1.0f);
  pare::Tensor<pare::bf16, 1> b({2});
  pare_test::TempDir dir;
  const auto path = dir / "keep.npz";
  pare::io::write_npz(path, {pare::io::npz_entry("x", x)});
  const auto before = pare_test::read_all(path);
  CHECK_THROWS_WITH(
      pare::io::write_npz(path, {pare::io::npz_entry("x", x), pare::io::npz_entry("x", x)}),
      Catch::Contains("two arrays are named 'x'"));
  CHECK_THROWS_AS(pare::io::write_npz(path, {pare::io::npz_entry("", x)}), pare::ArgumentError);
  CHECK_THROWS_AS(
      pare::io::write_npz(
          path, {{std::string("a\0b", 3), pare::DType::f32, {3}, std::as_bytes(x.span())}}),
      pare::ArgumentError);
  CHECK_THROWS_WITH(
      pare::io::write_npz(path, {{"b", pare::DType::bf16, {2}, std::as_bytes(b.span())}}),
      Catch::Contains("bf16"));
  CHECK_THROWS_AS(
      pare::io::write_npz(path, {{"x", pare::DType::f32, {4}, std::as_bytes(x.span())}}),
      pare::ShapeError);
  CHECK(pare_test::read_all(path) == before);
  CHECK(dir.count() == 1);  // no temporary file left behind
}
