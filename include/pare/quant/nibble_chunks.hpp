// SPDX-License-Identifier: Apache-2.0
// pare — the packed layout every 4-bit kernel reads (Lut4Matrix, Codes4Matrix): a row is chunks of
// 32 weights in 16 bytes, byte i holding weight i (low nibble) and weight 16 + i (high nibble), so
// one 16-byte load widens to 16 indices per nibble with x read in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

namespace pare {

/// Weights per packed chunk (16 bytes).
inline constexpr std::size_t nibble_chunk = 32;

/// Byte and nibble (0 low, 1 high) of column c within a packed row.
[[nodiscard]] constexpr std::pair<std::size_t, unsigned> nibble_position(std::size_t c) noexcept {
  const std::size_t chunk = c / nibble_chunk, i = c % nibble_chunk;
  return {chunk * 16 + i % 16, static_cast<unsigned>(i / 16)};
}

/// The code in nibble `hi` of `byte`.
[[nodiscard]] constexpr unsigned get_nibble(std::uint8_t byte, unsigned hi) noexcept {
  return (static_cast<unsigned>(byte) >> (4 * hi)) & 0xFu;
}

/// Writes `code` (< 16) into nibble `hi` of `byte`, keeping the other nibble.
constexpr void set_nibble(std::uint8_t& byte, unsigned hi, unsigned code) noexcept {
  byte = static_cast<std::uint8_t>((byte & (hi ? 0x0Fu : 0xF0u)) | (code << (4 * hi)));
}

}  // namespace pare
