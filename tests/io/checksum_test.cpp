// SPDX-License-Identifier: Apache-2.0
#include "pare/io/checksum.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <span>
#include <string_view>
#include <vector>

namespace {

std::span<const std::byte> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// Bit-at-a-time reference, straight from the definition of a reflected CRC.
std::uint32_t crc_bitwise(std::uint32_t poly, std::span<const std::byte> data) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::byte b : data) {
    c ^= std::to_integer<std::uint32_t>(b);
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ poly : c >> 1;
  }
  return ~c;
}

}  // namespace

TEST_CASE("CRC32C and CRC-32 match their published check values", "[io][checksum]") {
  const auto check = bytes_of("123456789");
  REQUIRE(pare::io::crc32c(check) == 0xE3069283u);
  REQUIRE(pare::io::crc32c_portable(check) == 0xE3069283u);
  REQUIRE(pare::io::crc32(check) == 0xCBF43926u);
  REQUIRE(pare::io::crc32c({}) == 0u);
  REQUIRE(pare::io::crc32({}) == 0u);
  // RFC 3720 (iSCSI) B.4 test vectors: 32 bytes of zeros, of 0xFF, and an ascending sequence.
  std::vector<std::byte> v(32, std::byte{0});
  REQUIRE(pare::io::crc32c(v) == 0x8A9136AAu);
  std::fill(v.begin(), v.end(), std::byte{0xFF});
  REQUIRE(pare::io::crc32c(v) == 0x62A8AB43u);
  for (std::size_t i = 0; i < 32; ++i) v[i] = static_cast<std::byte>(i);
  REQUIRE(pare::io::crc32c(v) == 0x46DD794Eu);
}

TEST_CASE("CRC32C hardware and portable paths agree on random lengths and unaligned starts",
          "[io][checksum]") {
  std::mt19937_64 rng(42);
  std::vector<std::byte> buf(10000 + 64 + 3 * 8192 * 3);
  for (auto& b : buf) b = static_cast<std::byte>(rng());
  std::uniform_int_distribution<std::size_t> len_d(0, 10000);
  for (int trial = 0; trial < 400; ++trial) {
    const std::size_t start = trial % 16;
    const std::size_t len = trial < 20 ? static_cast<std::size_t>(trial) : len_d(rng);
    std::span<const std::byte> s(buf.data() + start, len);
    const auto hw = pare::io::crc32c(s);
    REQUIRE(hw == pare::io::crc32c_portable(s));
    if (len < 2000) REQUIRE(hw == crc_bitwise(0x82F63B78u, s));
  }
  // Lengths that exercise the three-stream blocks (3 x 8192 and 3 x 256) and their edges.
  for (std::size_t len : {767u, 768u, 769u, 24575u, 24576u, 24577u, 24576u + 768u + 13u,
                          static_cast<unsigned>(buf.size() - 7)}) {
    std::span<const std::byte> s(buf.data() + 5, len);
    REQUIRE(pare::io::crc32c(s) == pare::io::crc32c_portable(s));
    REQUIRE(pare::io::crc32c(s) == crc_bitwise(0x82F63B78u, s));
  }
  for (std::size_t len : {0u, 1u, 7u, 8u, 9u, 4097u}) {
    std::span<const std::byte> s(buf.data() + 3, len);
    REQUIRE(pare::io::crc32(s) == crc_bitwise(0xEDB88320u, s));
  }
}

TEST_CASE("CRCs continue across calls and combine without the data", "[io][checksum]") {
  std::mt19937 rng(7);
  std::vector<std::byte> buf(50000);
  for (auto& b : buf) b = static_cast<std::byte>(rng());
  const std::span<const std::byte> all(buf);
  for (std::size_t cut : {0u, 1u, 100u, 24577u, 49999u, 50000u}) {
    const auto a = all.first(cut);
    const auto b = all.subspan(cut);
    REQUIRE(pare::io::crc32c(b, pare::io::crc32c(a)) == pare::io::crc32c(all));
    REQUIRE(pare::io::crc32(b, pare::io::crc32(a)) == pare::io::crc32(all));
    REQUIRE(pare::io::crc32c_combine(pare::io::crc32c(a), pare::io::crc32c(b), b.size()) ==
            pare::io::crc32c(all));
    REQUIRE(pare::io::crc32_combine(pare::io::crc32(a), pare::io::crc32(b), b.size()) ==
            pare::io::crc32(all));
  }
  static_assert(pare::io::crc32c_combine(0x1234u, 0u, 0u) == 0x1234u);
}
