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

#include "pare/core/config.hpp"

namespace pare::io {

namespace detail {

inline constexpr std::uint32_t crc32c_poly = 0x82F63B78u;  // reflected 0x1EDC6F41
inline constexpr std::uint32_t crc32_poly = 0xEDB88320u;   // reflected 0x04C11DB7

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

}  // namespace detail

/// True when crc32c() uses the SSE4.2 instruction (decided at compile time; with pare::compiled,
/// by the flags the library was built with, which must be the program's: core/config.hpp).
inline constexpr bool crc32c_is_hardware =
#if defined(__SSE4_2__)
    true;
#else
    false;
#endif

/// CRC32C of `data`, continuing from `crc` (the CRC of the preceding bytes, 0 to start).
///
///     auto c = pare::io::crc32c(std::as_bytes(std::span(buf)));
[[nodiscard]] std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t crc = 0) noexcept;

/// CRC32C with the portable table-driven code, whatever the CPU (tests compare the two paths).
[[nodiscard]] std::uint32_t crc32c_portable(std::span<const std::byte> data,
                                            std::uint32_t crc = 0) noexcept;

/// CRC32C of `a ++ b` from `crc32c(a)`, `crc32c(b)` and `b.size()`; O(log len_b).
[[nodiscard]] constexpr std::uint32_t crc32c_combine(std::uint32_t crc_a, std::uint32_t crc_b,
                                                     std::uint64_t len_b) noexcept {
  return detail::crc_shift<detail::crc32c_poly>(crc_a, len_b) ^ crc_b;
}

/// CRC-32 (IEEE 802.3 / zip / PNG / zlib) of `data`, continuing from `crc` (0 to start).
[[nodiscard]] std::uint32_t crc32(std::span<const std::byte> data, std::uint32_t crc = 0) noexcept;

/// CRC-32 of `a ++ b` from the CRCs of both parts and the length of `b`.
[[nodiscard]] constexpr std::uint32_t crc32_combine(std::uint32_t crc_a, std::uint32_t crc_b,
                                                    std::uint64_t len_b) noexcept {
  return detail::crc_shift<detail::crc32_poly>(crc_a, len_b) ^ crc_b;
}

}  // namespace pare::io

#ifndef PARE_COMPILED_LIB
#include "pare/io/checksum-inl.hpp"
#endif
