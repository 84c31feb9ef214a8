// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/checksum.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
//
// The lookup tables are built at compile time here, not in the header, so a program that only
// calls crc32c() pays for evaluating them once, in the library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

#include "pare/core/config.hpp"
#include "pare/io/checksum.hpp"
#include "pare/io/detail/byte_reader.hpp"

namespace pare::io {

namespace detail {

struct SliceTables {
  std::uint32_t t[8][256];
};

[[nodiscard]] constexpr SliceTables make_slice_tables(std::uint32_t poly) noexcept {
  SliceTables s{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ poly : c >> 1;
    s.t[0][n] = c;
  }
  for (std::uint32_t n = 0; n < 256; ++n)
    for (int k = 1; k < 8; ++k) s.t[k][n] = (s.t[k - 1][n] >> 8) ^ s.t[0][s.t[k - 1][n] & 0xFFu];
  return s;
}

template <std::uint32_t Poly>
inline constexpr SliceTables slice_tables = make_slice_tables(Poly);

/// Slicing-by-8 over the raw (unconditioned) CRC register.
template <std::uint32_t Poly>
[[nodiscard]] inline std::uint32_t crc_slicing8(std::uint32_t crc, const std::byte* p,
                                                std::size_t n) noexcept {
  const auto& t = slice_tables<Poly>.t;
  while (n >= 8) {
    const std::uint32_t lo = load_le<std::uint32_t>(p) ^ crc;
    const std::uint32_t hi = load_le<std::uint32_t>(p + 4);
    crc = t[7][lo & 0xFFu] ^ t[6][(lo >> 8) & 0xFFu] ^ t[5][(lo >> 16) & 0xFFu] ^ t[4][lo >> 24] ^
          t[3][hi & 0xFFu] ^ t[2][(hi >> 8) & 0xFFu] ^ t[1][(hi >> 16) & 0xFFu] ^ t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = t[0][(crc ^ std::to_integer<std::uint32_t>(*p++)) & 0xFFu] ^ (crc >> 8);
  return crc;
}

/// The "append `Len` zero bytes" operator as four byte-indexed tables (4 lookups per shift).
struct ShiftTable {
  std::uint32_t t[4][256];
};
template <std::uint32_t Poly>
[[nodiscard]] constexpr ShiftTable make_shift_table(std::uint64_t len) noexcept {
  // Column j of the operator is the shifted register of the unit vector 1 << j.
  std::uint32_t op[32]{};
  for (int j = 0; j < 32; ++j) op[j] = crc_shift<Poly>(std::uint32_t{1} << j, len);
  ShiftTable s{};
  for (int k = 0; k < 4; ++k)
    for (std::uint32_t n = 0; n < 256; ++n) s.t[k][n] = gf2_times(op, n << (8 * k));
  return s;
}
[[nodiscard]] inline std::uint32_t apply_shift(const ShiftTable& s, std::uint32_t crc) noexcept {
  return s.t[0][crc & 0xFFu] ^ s.t[1][(crc >> 8) & 0xFFu] ^ s.t[2][(crc >> 16) & 0xFFu] ^
         s.t[3][crc >> 24];
}

#if defined(__SSE4_2__)
// Block lengths per stream: long blocks amortize the two shifts; short ones catch the middle.
inline constexpr std::size_t crc32c_long_block = 8192;
inline constexpr std::size_t crc32c_short_block = 256;
inline constexpr ShiftTable crc32c_long_shift = make_shift_table<crc32c_poly>(crc32c_long_block);
inline constexpr ShiftTable crc32c_short_shift = make_shift_table<crc32c_poly>(crc32c_short_block);

[[nodiscard]] inline std::uint64_t load_u64(const std::byte* p) noexcept {
  return load_le<std::uint64_t>(p);
}

/// SSE4.2 CRC32C over the raw register, three streams interleaved.
[[nodiscard]] inline std::uint32_t crc32c_sse42(std::uint32_t crc, const std::byte* p,
                                                std::size_t n) noexcept {
  std::uint64_t c0 = crc;
  while (n > 0 && (reinterpret_cast<std::uintptr_t>(p) & 7u) != 0) {
    c0 = _mm_crc32_u8(static_cast<std::uint32_t>(c0), std::to_integer<unsigned char>(*p++));
    --n;
  }
  auto three_streams = [&](std::size_t len, const ShiftTable& shift) {
    while (n >= 3 * len) {
      std::uint64_t c1 = 0;
      std::uint64_t c2 = 0;
      const std::byte* end = p + len;
      do {
        c0 = _mm_crc32_u64(c0, load_u64(p));
        c1 = _mm_crc32_u64(c1, load_u64(p + len));
        c2 = _mm_crc32_u64(c2, load_u64(p + 2 * len));
        p += 8;
      } while (p < end);
      c0 = apply_shift(shift, static_cast<std::uint32_t>(c0)) ^ c1;
      c0 = apply_shift(shift, static_cast<std::uint32_t>(c0)) ^ c2;
      p += 2 * len;
      n -= 3 * len;
    }
  };
  three_streams(crc32c_long_block, crc32c_long_shift);
  three_streams(crc32c_short_block, crc32c_short_shift);
  for (; n >= 8; n -= 8, p += 8) c0 = _mm_crc32_u64(c0, load_u64(p));
  for (; n > 0; --n)
    c0 = _mm_crc32_u8(static_cast<std::uint32_t>(c0), std::to_integer<unsigned char>(*p++));
  return static_cast<std::uint32_t>(c0);
}
#endif

}  // namespace detail

PARE_INLINE std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t crc) noexcept {
#if defined(__SSE4_2__)
  return ~detail::crc32c_sse42(~crc, data.data(), data.size());
#else
  return ~detail::crc_slicing8<detail::crc32c_poly>(~crc, data.data(), data.size());
#endif
}

PARE_INLINE std::uint32_t crc32c_portable(std::span<const std::byte> data,
                                          std::uint32_t crc) noexcept {
  return ~detail::crc_slicing8<detail::crc32c_poly>(~crc, data.data(), data.size());
}

PARE_INLINE std::uint32_t crc32(std::span<const std::byte> data, std::uint32_t crc) noexcept {
  return ~detail::crc_slicing8<detail::crc32_poly>(~crc, data.data(), data.size());
}

}  // namespace pare::io
