// SPDX-License-Identifier: Apache-2.0
// pare — CRC32C (Castagnoli) for pare's own files and CRC-32 (IEEE, the zip/PNG polynomial) for
// the archives we read.
//
// When to use which:
//   - crc32c: pare's formats. With SSE4.2 (`__SSE4_2__`, e.g. -march=native) it runs the crc32
//     instruction on three independent streams at once, hiding its 3-cycle latency, then joins
//     them with precomputed "append N zero bytes" operators; otherwise slicing-by-8 tables.
//   - crc32: checking zip entries (.npz, PyTorch checkpoints). Slicing-by-8 only.
// Both take and return finished CRCs, zlib style: crc(b, crc(a)) == crc(a ++ b), start from 0.
// `crc32c_combine(crc(a), crc(b), b.size())` gives crc(a ++ b) without touching the bytes, so
// blocks can be summed on separate threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

#include "pare/io/detail/byte_reader.hpp"

namespace pare::io {

namespace detail {

inline constexpr std::uint32_t crc32c_poly = 0x82F63B78u;  // reflected 0x1EDC6F41
inline constexpr std::uint32_t crc32_poly = 0xEDB88320u;   // reflected 0x04C11DB7

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

// GF(2) linear operators on the 32-bit CRC register, as 32 columns (zlib's crc32_combine).
[[nodiscard]] constexpr std::uint32_t gf2_times(const std::uint32_t* mat,
                                                std::uint32_t vec) noexcept {
  std::uint32_t sum = 0;
  for (int i = 0; vec != 0; ++i, vec >>= 1)
    if (vec & 1u) sum ^= mat[i];
  return sum;
}
constexpr void gf2_square(std::uint32_t* square, const std::uint32_t* mat) noexcept {
  for (int n = 0; n < 32; ++n) square[n] = gf2_times(mat, mat[n]);
}
constexpr void gf2_one_zero_bit(std::uint32_t* odd, std::uint32_t poly) noexcept {
  odd[0] = poly;
  for (int n = 1; n < 32; ++n) odd[n] = std::uint32_t{1} << (n - 1);
}

/// The raw-register CRC of `a ++ <len zero bytes>` as a function of the CRC of `a`.
template <std::uint32_t Poly>
[[nodiscard]] constexpr std::uint32_t crc_shift(std::uint32_t crc, std::uint64_t len) noexcept {
  std::uint32_t even[32]{};
  std::uint32_t odd[32]{};
  gf2_one_zero_bit(odd, Poly);
  gf2_square(even, odd);  // 2 zero bits
  gf2_square(odd, even);  // 4 zero bits
  while (len != 0) {
    gf2_square(even, odd);  // 1, 4, 16, ... zero bytes
    if (len & 1u) crc = gf2_times(even, crc);
    len >>= 1;
    if (len == 0) break;
    gf2_square(odd, even);  // 2, 8, 32, ... zero bytes
    if (len & 1u) crc = gf2_times(odd, crc);
    len >>= 1;
  }
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

/// True when crc32c() uses the SSE4.2 instruction (decided at compile time).
inline constexpr bool crc32c_is_hardware =
#if defined(__SSE4_2__)
    true;
#else
    false;
#endif

/// CRC32C of `data`, continuing from `crc` (the CRC of the preceding bytes, 0 to start).
///
///     auto c = pare::io::crc32c(std::as_bytes(std::span(buf)));
[[nodiscard]] inline std::uint32_t crc32c(std::span<const std::byte> data,
                                          std::uint32_t crc = 0) noexcept {
#if defined(__SSE4_2__)
  return ~detail::crc32c_sse42(~crc, data.data(), data.size());
#else
  return ~detail::crc_slicing8<detail::crc32c_poly>(~crc, data.data(), data.size());
#endif
}

/// CRC32C with the portable table-driven code, whatever the CPU (tests compare the two paths).
[[nodiscard]] inline std::uint32_t crc32c_portable(std::span<const std::byte> data,
                                                   std::uint32_t crc = 0) noexcept {
  return ~detail::crc_slicing8<detail::crc32c_poly>(~crc, data.data(), data.size());
}

/// CRC32C of `a ++ b` from `crc32c(a)`, `crc32c(b)` and `b.size()`; O(log len_b).
[[nodiscard]] constexpr std::uint32_t crc32c_combine(std::uint32_t crc_a, std::uint32_t crc_b,
                                                     std::uint64_t len_b) noexcept {
  return detail::crc_shift<detail::crc32c_poly>(crc_a, len_b) ^ crc_b;
}

/// CRC-32 (IEEE 802.3 / zip / PNG / zlib) of `data`, continuing from `crc` (0 to start).
[[nodiscard]] inline std::uint32_t crc32(std::span<const std::byte> data,
                                         std::uint32_t crc = 0) noexcept {
  return ~detail::crc_slicing8<detail::crc32_poly>(~crc, data.data(), data.size());
}

/// CRC-32 of `a ++ b` from the CRCs of both parts and the length of `b`.
[[nodiscard]] constexpr std::uint32_t crc32_combine(std::uint32_t crc_a, std::uint32_t crc_b,
                                                    std::uint64_t len_b) noexcept {
  return detail::crc_shift<detail::crc32_poly>(crc_a, len_b) ^ crc_b;
}

}  // namespace pare::io
