// SPDX-License-Identifier: Apache-2.0
#include "pare/io/detail/byte_reader.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>

#include "io/io_test_util.hpp"

using pare::io::detail::ByteReader;

TEST_CASE("ByteReader reads little-endian values and advances", "[io][byte_reader]") {
  const auto b =
      pare_test::bytes(std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x00\x00\x80\x3f"
                                   "abc",
                                   15));
  ByteReader r(b, "mem.bin");
  REQUIRE(r.read_u8("a") == 0x01);
  REQUIRE(r.read_u16("b") == 0x0302);
  REQUIRE(r.read_u32("c") == 0x07060504u);
  r.seek(0, "start");
  REQUIRE(r.read_u64("d") == 0x0807060504030201ull);
  r.seek(0, "start");
  REQUIRE(r.read_i64("e") == 0x0807060504030201ll);
  REQUIRE(r.read_f32("f") == 1.0f);
  REQUIRE(r.read_string(3, "g") == "abc");
  REQUIRE(r.at_end());
  r.seek(8, "h");
  REQUIRE(r.read_bytes(4, "i").size() == 4);
  REQUIRE(r.remaining() == 3);
}

TEST_CASE("ByteReader throws FormatError naming file, field and offset past the end",
          "[io][byte_reader]") {
  const auto b = pare_test::bytes("abcdef");
  ByteReader r(b, "short.bin");
  r.skip(4, "skip");
  try {
    (void)r.read_u32("magic number");
    FAIL("no throw");
  } catch (const pare::FormatError& e) {
    REQUIRE(e.file() == "short.bin");
    REQUIRE(e.field() == "magic number");
    REQUIRE(e.offset() == 4);
    REQUIRE_THAT(e.what(), Catch::Contains("short.bin") && Catch::Contains("magic number"));
  }
  REQUIRE(r.offset() == 4);  // a failed read does not move the cursor
  REQUIRE_THROWS_AS(r.read_bytes(3, "x"), pare::FormatError);
  REQUIRE_THROWS_AS(r.seek(7, "x"), pare::FormatError);
  REQUIRE_THROWS_AS(r.skip(std::numeric_limits<std::uint64_t>::max(), "x"), pare::FormatError);
  REQUIRE_THROWS_AS(r.bytes_at(std::numeric_limits<std::uint64_t>::max() - 1, 4, "x"),
                    pare::FormatError);
  REQUIRE_THROWS_WITH(
      pare::io::detail::checked_add(std::numeric_limits<std::uint64_t>::max(), 1, "f", "size", 9),
      Catch::Contains("overflows"));
  REQUIRE_THROWS_AS(pare::io::detail::checked_mul(std::uint64_t{1} << 40, std::uint64_t{1} << 40,
                                                  "f", "shape", 0),
                    pare::FormatError);
  REQUIRE(pare::io::detail::checked_mul(0, std::numeric_limits<std::uint64_t>::max(), "f", "shape",
                                        0) == 0);
}

TEST_CASE("ByteReader over a window reports offsets in the enclosing file", "[io][byte_reader]") {
  const auto b = pare_test::bytes("xy");
  ByteReader r(b, "archive.npz:a.npy", 1000);
  (void)r.read_u8("a");
  try {
    (void)r.read_u16("b");
    FAIL("no throw");
  } catch (const pare::FormatError& e) {
    REQUIRE(e.offset() == 1001);
  }
}
