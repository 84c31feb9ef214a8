// SPDX-License-Identifier: Apache-2.0
#include "pare/io/npy.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>

#include "io/io_test_util.hpp"

namespace {

using pare::io::NpyArray;
using pare_test::expected;

template <class T>
std::string tag() {
  using pare::DType;
  switch (pare::dtype_traits<T>::dtype) {
    case DType::f32:
      return "f4";
    case DType::f64:
      return "f8";
    case DType::f16:
      return "f2";
    case DType::i8:
      return "i1";
    case DType::i16:
      return "i2";
    case DType::i32:
      return "i4";
    case DType::i64:
      return "i8";
    case DType::u8:
      return "u1";
    case DType::u16:
      return "u2";
    case DType::u32:
      return "u4";
    case DType::u64:
      return "u8";
    case DType::boolean:
      return "b1";
    default:
      return "?";
  }
}

template <class T>
bool same_bits(const T& a, const T& b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

template <class T>
pare::Tensor<T, 2> expected_tensor() {
  pare::Tensor<T, 2> t({2, 3});
  for (std::size_t i = 0; i < 6; ++i) t.data()[i] = expected<T>(i);
  return t;
}

NpyArray parse_mem(std::vector<std::byte> b) {
  auto owner = std::make_shared<std::vector<std::byte>>(std::move(b));
  NpyArray a = pare::io::parse_npy(*owner, owner, "mem.npy");
  // Touch every data byte, so a wrong size would show up under AddressSanitizer.
  unsigned sum = 0;
  for (std::byte x : a.data) sum += std::to_integer<unsigned>(x);
  (void)sum;
  return a;
}

// A .npy image with the given header dict (padded as numpy pads) and data.
std::vector<std::byte> make_npy(const std::string& dict, std::size_t data_bytes, int major = 1) {
  std::vector<std::byte> v;
  pare_test::append(v, std::string("\x93NUMPY", 6));
  v.push_back(static_cast<std::byte>(major));
  v.push_back(std::byte{0});
  std::string h = dict;
  const std::size_t pre = major == 1 ? 10 : 12;
  while ((pre + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  if (major == 1)
    pare_test::append_le<std::uint16_t>(v, static_cast<std::uint16_t>(h.size()));
  else
    pare_test::append_le<std::uint32_t>(v, static_cast<std::uint32_t>(h.size()));
  pare_test::append(v, h);
  v.resize(v.size() + data_bytes, std::byte{0});
  return v;
}

}  // namespace

#define PARE_NPY_TYPES                                                                           \
  float, double, pare::f16, std::int8_t, std::int16_t, std::int32_t, std::int64_t, std::uint8_t, \
      std::uint16_t, std::uint32_t, std::uint64_t, bool

TEMPLATE_TEST_CASE("read_npy reads what numpy wrote, C and Fortran order", "[io][npy]",
                   PARE_NPY_TYPES) {
  using T = TestType;
  const auto want = expected_tensor<T>();
  const auto c = pare::io::read_npy<T, 2>(pare_test::io_data("npy/" + tag<T>() + "_c.npy"));
  const auto f = pare::io::read_npy<T, 2>(pare_test::io_data("npy/" + tag<T>() + "_fortran.npy"));
  REQUIRE(c.extents() == pare::Shape<2>{2, 3});
  REQUIRE(f.extents() == pare::Shape<2>{2, 3});
  for (std::size_t i = 0; i < 6; ++i) {
    REQUIRE(same_bits(c.data()[i], want.data()[i]));
    REQUIRE(same_bits(f.data()[i], want.data()[i]));
  }
  const auto raw = pare::io::read_npy_array(pare_test::io_data("npy/" + tag<T>() + "_fortran.npy"));
  REQUIRE(raw.fortran_order);
  REQUIRE(raw.dtype == pare::dtype_traits<T>::dtype);
  REQUIRE(raw.shape == std::vector<std::size_t>{2, 3});
}

TEMPLATE_TEST_CASE("write_npy writes the bytes numpy writes", "[io][npy]", PARE_NPY_TYPES) {
  using T = TestType;
  pare_test::TempDir dir;
  const auto t = expected_tensor<T>();
  pare::io::write_npy(dir / "out.npy", t);
  REQUIRE(pare_test::read_all(dir / "out.npy") ==
          pare_test::read_all(pare_test::io_data("npy/" + tag<T>() + "_c.npy")));
  REQUIRE(dir.count() == 1);
}

TEMPLATE_TEST_CASE("npy round trips are bit-exact for every dtype", "[io][npy]", PARE_NPY_TYPES) {
  using T = TestType;
  pare_test::TempDir dir;
  std::mt19937_64 rng(3);
  pare::Tensor<T, 3> t({3, 4, 5});
  for (auto& v : t.span()) {
    if constexpr (std::is_same_v<T, bool>) {
      v = (rng() & 1) != 0;
    } else {
      const std::uint64_t r = rng();
      std::memcpy(static_cast<void*>(&v), &r, sizeof(T));  // every bit pattern, NaNs included
    }
  }
  pare::io::write_npy(dir / "t.npy", t);
  const auto back = pare::io::read_npy<T, 3>(dir / "t.npy");
  REQUIRE(back.extents() == t.extents());
  REQUIRE(std::memcmp(back.data(), t.data(), t.size_bytes()) == 0);
  // A strided view is written in row-major order of the view.
  const auto tr = t.view().transposed(0, 2);
  pare::io::write_npy(dir / "tr.npy", tr);
  const auto back_tr = pare::io::read_npy<T, 3>(dir / "tr.npy");
  REQUIRE(back_tr.extents() == pare::Shape<3>{5, 4, 3});
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t j = 0; j < 4; ++j)
      for (std::size_t k = 0; k < 3; ++k) REQUIRE(same_bits(back_tr(i, j, k), t(k, j, i)));
  // A Fortran-order array read type-erased and written back keeps its bytes.
  const auto fa = pare::io::read_npy_array(pare_test::io_data("npy/" + tag<T>() + "_fortran.npy"));
  pare::io::write_npy(dir / "f.npy", fa);
  REQUIRE(pare_test::read_all(dir / "f.npy") ==
          pare_test::read_all(pare_test::io_data("npy/" + tag<T>() + "_fortran.npy")));
}

TEST_CASE("npy: rank-3 Fortran, big-endian, 0-d, empty, versions 2 and 3", "[io][npy]") {
  const auto f3 = pare::io::read_npy<std::int16_t, 3>(pare_test::io_data("npy/i2_fortran3d.npy"));
  REQUIRE(f3.extents() == pare::Shape<3>{2, 3, 4});
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 4; ++k)
        REQUIRE(f3(i, j, k) == static_cast<std::int16_t>(12 * i + 4 * j + k));

  const auto be = pare::io::read_npy<float, 2>(pare_test::io_data("npy/f4_be.npy"));
  const auto bi = pare::io::read_npy<std::int32_t, 2>(pare_test::io_data("npy/i4_be.npy"));
  for (std::size_t i = 0; i < 6; ++i) {
    REQUIRE(be.data()[i] == expected<float>(i));
    REQUIRE(bi.data()[i] == expected<std::int32_t>(i));
  }

  const auto s = pare::io::read_npy_array(pare_test::io_data("npy/scalar_f8.npy"));
  REQUIRE(s.shape.empty());
  REQUIRE(s.size() == 1);
  REQUIRE(s.item<double>() == 3.5);
  REQUIRE_THROWS_AS((s.to_tensor<double, 1>()), pare::ShapeError);

  const auto e = pare::io::read_npy<float, 2>(pare_test::io_data("npy/empty_f4.npy"));
  REQUIRE(e.extents() == pare::Shape<2>{0, 3});
  REQUIRE(e.empty());

  for (const char* v : {"npy/f4_v2.npy", "npy/f4_v3.npy"}) {
    const auto t = pare::io::read_npy<float, 2>(pare_test::io_data(v));
    for (std::size_t i = 0; i < 6; ++i) REQUIRE(t.data()[i] == expected<float>(i));
  }
  pare_test::TempDir dir;
  pare::io::write_npy(dir / "v2.npy", expected_tensor<float>(), 2);
  REQUIRE(pare_test::read_all(dir / "v2.npy") ==
          pare_test::read_all(pare_test::io_data("npy/f4_v2.npy")));
  pare::io::write_npy(dir / "v3.npy", expected_tensor<float>(), 3);
  REQUIRE(pare_test::read_all(dir / "v3.npy") ==
          pare_test::read_all(pare_test::io_data("npy/f4_v3.npy")));
  // Empty arrays round-trip too.
  pare::io::write_npy(dir / "e.npy", e);
  REQUIRE(pare_test::read_all(dir / "e.npy") ==
          pare_test::read_all(pare_test::io_data("npy/empty_f4.npy")));
}

TEST_CASE("npy: asking for the wrong type or rank names the file and both sides", "[io][npy]") {
  const auto p = pare_test::io_data("npy/f8_c.npy");
  REQUIRE_THROWS_AS((pare::io::read_npy<float, 2>(p)), pare::FormatError);
  REQUIRE_THROWS_WITH((pare::io::read_npy<float, 2>(p)),
                      Catch::Contains("f8_c.npy") && Catch::Contains("f64") &&
                          Catch::Contains("f32") && Catch::Contains("descr"));
  REQUIRE_THROWS_AS((pare::io::read_npy<double, 3>(p)), pare::ShapeError);
  REQUIRE_THROWS_WITH((pare::io::read_npy<double, 3>(p)),
                      Catch::Contains("(2, 3)") && Catch::Contains("rank 3"));
}

TEST_CASE("npy: every truncation is a FormatError and every flipped byte is safe", "[io][npy]") {
  for (const char* f : {"npy/f4_c.npy", "npy/u8_fortran.npy", "npy/b1_c.npy", "npy/f4_v2.npy",
                        "npy/scalar_f8.npy", "npy/i4_be.npy"}) {
    INFO(f);
    const auto good = pare_test::read_all(pare_test::io_data(f));
    pare_test::every_prefix_throws_format_error(
        good, [](std::vector<std::byte> b) { (void)parse_mem(std::move(b)); });
    pare_test::every_flip_is_safe(good, [](std::vector<std::byte> b) {
      const NpyArray a = parse_mem(std::move(b));
      if (a.dtype == pare::DType::boolean && a.rank() == 2) (void)a.to_tensor<bool, 2>();
    });
  }
  // One trailing byte is as wrong as one missing byte.
  auto extra = pare_test::read_all(pare_test::io_data("npy/f4_c.npy"));
  extra.push_back(std::byte{0});
  REQUIRE_THROWS_WITH(parse_mem(extra), Catch::Contains("after the end of the array data"));
}

TEST_CASE("npy: malformed headers are FormatErrors naming the field and offset", "[io][npy]") {
  const std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  REQUIRE(parse_mem(make_npy(ok, 8)).shape == std::vector<std::size_t>{2});
  REQUIRE(
      parse_mem(make_npy("{\"shape\":(2,),\"descr\":\"<f4\",\"fortran_order\":False}", 8)).size() ==
      2);
  REQUIRE(parse_mem(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 1L), }", 8))
              .size() == 2);

  auto bad_magic = make_npy(ok, 8);
  bad_magic[1] = std::byte{'X'};
  REQUIRE_THROWS_WITH(parse_mem(bad_magic), Catch::Contains("magic") && Catch::Contains("mem.npy"));
  auto v4 = make_npy(ok, 8);
  v4[6] = std::byte{4};
  REQUIRE_THROWS_WITH(parse_mem(v4), Catch::Contains("unknown .npy version 4.0"));
  auto v11 = make_npy(ok, 8);
  v11[7] = std::byte{1};
  REQUIRE_THROWS_AS(parse_mem(v11), pare::FormatError);

  struct Case {
    std::string dict;
    std::string needle;
  };
  const Case cases[] = {
      {"[1, 2]", "must be a dict"},
      {"{'descr': '<x4', 'fortran_order': False, 'shape': (2,), }", "unknown dtype '<x4'"},
      {"{'descr': 'f4', 'fortran_order': False, 'shape': (2,), }", "unknown dtype"},
      {"{'descr': '|f4', 'fortran_order': False, 'shape': (2,), }", "wider than one byte"},
      {"{'descr': '<f4', 'shape': (2,), }", "missing key 'fortran_order'"},
      {"{'fortran_order': False, 'shape': (2,), }", "missing key 'descr'"},
      {"{'descr': '<f4', 'fortran_order': False, }", "missing key 'shape'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1, }", "unknown key"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
       "duplicate key"},
      {"{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", "True or False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", "not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", "non-negative integer"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", "expected a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
       "overflows"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }",
       "overflows"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x", "after the closing"},
      {"{'descr': '<f4' 'fortran_order': False, 'shape': (2,), }", "expected ','"},
      {"{'descr': '<f4\\n', 'fortran_order': False, 'shape': (2,), }", "unexpected character"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", "expected ','"},
  };
  for (const auto& c : cases) {
    INFO(c.dict);
    REQUIRE_THROWS_AS(parse_mem(make_npy(c.dict, 8)), pare::FormatError);
    REQUIRE_THROWS_WITH(parse_mem(make_npy(c.dict, 8)), Catch::Contains(c.needle));
  }
  // The error offset points into the header: the bad dtype string starts at byte 19.
  try {
    (void)parse_mem(make_npy("{'descr': '<x4', 'fortran_order': False, 'shape': (2,), }", 8));
    FAIL("no throw");
  } catch (const pare::FormatError& e) {
    REQUIRE(e.field() == "descr");
    REQUIRE(e.offset() == 20);
  }
  // Valid numpy dtypes pare does not hold are UnsupportedError, not FormatError.
  REQUIRE_THROWS_AS(
      parse_mem(make_npy("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16)),
      pare::UnsupportedError);
  REQUIRE_THROWS_AS(
      parse_mem(make_npy("{'descr': '<f16', 'fortran_order': False, 'shape': (2,), }", 32)),
      pare::UnsupportedError);
  REQUIRE_THROWS_AS(
      parse_mem(make_npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8)),
      pare::UnsupportedError);
  // Header length larger than the file.
  auto huge = make_npy(ok, 8);
  huge[8] = std::byte{0xFF};
  huge[9] = std::byte{0xFF};
  REQUIRE_THROWS_WITH(parse_mem(huge), Catch::Contains("header length"));
  auto huge2 = make_npy(ok, 8, 2);
  huge2[8] = huge2[9] = huge2[10] = huge2[11] = std::byte{0xFF};
  REQUIRE_THROWS_AS(parse_mem(huge2), pare::FormatError);
}

TEST_CASE("npy: a 100-byte file declaring 2^40 elements fails before allocating", "[io][npy]") {
  const auto b =
      make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, 1048576), }", 36);
  REQUIRE(b.size() == 164);
  REQUIRE_THROWS_WITH(parse_mem(b),
                      Catch::Contains("truncated") && Catch::Contains("4398046511104 bytes"));
  pare_test::TempDir dir;
  pare_test::write_all(dir / "big.npy", b);
  REQUIRE_THROWS_AS((pare::io::read_npy<float, 2>(dir / "big.npy")), pare::FormatError);
}

TEST_CASE("npy: bool arrays must hold 0 or 1", "[io][npy]") {
  auto b = make_npy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", 3);
  b[b.size() - 1] = std::byte{2};
  const NpyArray a = parse_mem(b);
  REQUIRE_THROWS_WITH((a.to_tensor<bool, 1>()), Catch::Contains("neither 0 nor 1"));
}
