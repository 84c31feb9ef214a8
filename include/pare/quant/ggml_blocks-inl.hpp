// SPDX-License-Identifier: Apache-2.0
// pare — definitions for quant/ggml_blocks.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <cmath>
#include <cstring>
#include <string>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/float16.hpp"
#include "pare/quant/ggml_blocks.hpp"

namespace pare {

namespace detail {
/// rows * cols / 32 blocks of `block_bytes`, refusing shapes whose sizes overflow.
inline std::size_t ggml_checked_blocks(const char* what, std::size_t rows, std::size_t cols) {
  PARE_CHECK(cols > 0 && cols % GgmlBlockMatrix::block == 0, ArgumentError, what, ": ", cols,
             " columns is not a positive multiple of 32 (ggml's block)");
  PARE_CHECK(rows > 0, ArgumentError, what, ": 0 rows");
  const std::size_t per_row = cols / GgmlBlockMatrix::block;
  PARE_CHECK(rows <= (std::size_t{1} << 40) / per_row, ArgumentError, what, ": [", rows, ", ", cols,
             "] is too large");
  return rows * per_row;
}
}  // namespace detail

PARE_INLINE GgmlBlockMatrix::GgmlBlockMatrix(GgmlBlockType type, std::size_t rows, std::size_t cols)
    : rows_(rows), cols_(cols), type_(type) {
  const std::size_t blocks = detail::ggml_checked_blocks(
      type == GgmlBlockType::q4_0 ? "GgmlQ4_0Matrix" : "GgmlQ8_0Matrix", rows, cols);
  scales_.resize(blocks);
  codes_.resize(blocks * block_code_bytes());
}

PARE_INLINE void GgmlBlockMatrix::set_block(std::size_t r, std::size_t b, std::uint16_t d,
                                            const std::uint8_t* qs) noexcept {
  scales_[r * blocks_per_row() + b] = d;
  std::uint8_t* row = codes_.data() + r * blocks_per_row() * block_code_bytes();
  if (type_ == GgmlBlockType::q4_0) {
    std::memcpy(row + 16 * b, qs, 16);
    return;
  }
  // Group g = b / 4 starts at 128 g; within it block k's halves go to 16 k and 16 (n + k), n the
  // group's block count (4, or fewer for a row's last group).
  const std::size_t g = b / group, k = b % group;
  const std::size_t n = std::min(group, blocks_per_row() - g * group);
  std::uint8_t* p = row + 128 * g;
  for (std::size_t j = 0; j < 16; ++j) {
    p[16 * k + j] = static_cast<std::uint8_t>(qs[j] ^ 0x80u);
    p[16 * (n + k) + j] = static_cast<std::uint8_t>(qs[16 + j] ^ 0x80u);
  }
}

PARE_INLINE void GgmlBlockMatrix::dequantize_row(std::size_t r, float* out) const noexcept {
  const std::size_t nb = blocks_per_row();
  for (std::size_t b = 0; b < nb; ++b) {
    const float d = static_cast<float>(f16::from_bits(scales(r)[b]));
    float* o = out + 32 * b;
    if (type_ == GgmlBlockType::q4_0) {
      const std::uint8_t* qs = codes(r) + 16 * b;
      for (std::size_t j = 0; j < 16; ++j) {
        o[j] = static_cast<float>((qs[j] & 15) - 8) * d;
        o[j + 16] = static_cast<float>((qs[j] >> 4) - 8) * d;
      }
    } else {
      const std::size_t g = b / group, k = b % group;
      const std::size_t n = std::min(group, nb - g * group);
      const std::uint8_t* p = codes(r) + 128 * g;
      for (std::size_t j = 0; j < 16; ++j) {
        o[j] = static_cast<float>(static_cast<std::int8_t>(p[16 * k + j] ^ 0x80u)) * d;
        o[j + 16] = static_cast<float>(static_cast<std::int8_t>(p[16 * (n + k) + j] ^ 0x80u)) * d;
      }
    }
  }
}

PARE_INLINE void GgmlBlockMatrix::load(std::span<const std::byte> bytes) {
  const std::size_t nb = blocks_per_row(), bb = 2 + block_code_bytes();
  const char* what = type_ == GgmlBlockType::q4_0 ? "GgmlQ4_0Matrix" : "GgmlQ8_0Matrix";
  PARE_CHECK(bytes.size() / bb == rows_ * nb && bytes.size() % bb == 0, ArgumentError, what,
             "::from_gguf_bytes: [", rows_, ", ", cols_, "] needs ", rows_ * nb * bb,
             " bytes, got ", bytes.size());
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  for (std::size_t r = 0; r < rows_; ++r)
    for (std::size_t b = 0; b < nb; ++b, p += bb) {
      const auto d = static_cast<std::uint16_t>(p[0] | (p[1] << 8));  // little-endian f16
      if ((d & 0x7C00u) == 0x7C00u)
        throw FormatError(
            std::string(what) + "::from_gguf_bytes", "d (block scale)", (r * nb + b) * bb,
            detail::concat("block ", b, " of row ", r, " has a non-finite scale (f16 bits 0x",
                           detail::Hex{d}, ")"));
      set_block(r, b, d, p + 2);
    }
}

PARE_INLINE void GgmlBlockMatrix::quantize(const float* values) {
  const std::size_t nb = blocks_per_row();
  const char* what = type_ == GgmlBlockType::q4_0 ? "GgmlQ4_0Matrix" : "GgmlQ8_0Matrix";
  std::uint8_t qs[32];
  for (std::size_t r = 0; r < rows_; ++r)
    for (std::size_t b = 0; b < nb; ++b) {
      const float* x = values + r * cols_ + 32 * b;
      for (std::size_t j = 0; j < 32; ++j)
        PARE_CHECK(std::isfinite(x[j]), ArgumentError, what, "::from_floats: value [", r, ", ",
                   32 * b + j, "] is not finite");
      float d = 0;
      if (type_ == GgmlBlockType::q4_0) {
        // quantize_row_q4_0_ref: the signed value of largest magnitude (first one) maps to -8.
        float amax = 0, max = 0;
        for (std::size_t j = 0; j < 32; ++j)
          if (amax < std::fabs(x[j])) {
            amax = std::fabs(x[j]);
            max = x[j];
          }
        d = max / -8;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        for (std::size_t j = 0; j < 16; ++j) {
          // ggml: MIN(15, (int8_t)(x * id + 8.5f)), truncation toward zero.
          const auto lo = std::min<int>(15, static_cast<std::int8_t>(x[j] * id + 8.5f));
          const auto hi = std::min<int>(15, static_cast<std::int8_t>(x[j + 16] * id + 8.5f));
          qs[j] = static_cast<std::uint8_t>(lo | (hi << 4));
        }
      } else {
        float amax = 0;
        for (std::size_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
        d = amax / 127;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        for (std::size_t j = 0; j < 32; ++j)
          qs[j] = static_cast<std::uint8_t>(static_cast<std::int8_t>(std::round(x[j] * id)));
      }
      const f16 h(d);
      PARE_CHECK(!h.is_inf(), ArgumentError, what, "::from_floats: block ", b, " of row ", r,
                 " needs a scale beyond f16's range");
      set_block(r, b, h.bits(), qs);
    }
}

PARE_INLINE GgmlQ4_0Matrix GgmlQ4_0Matrix::from_gguf_bytes(std::span<const std::byte> bytes,
                                                           std::size_t rows, std::size_t cols) {
  GgmlQ4_0Matrix m(rows, cols);
  m.load(bytes);
  return m;
}

PARE_INLINE GgmlQ4_0Matrix GgmlQ4_0Matrix::from_floats(std::span<const float> values,
                                                       std::size_t rows, std::size_t cols) {
  detail::ggml_checked_blocks("GgmlQ4_0Matrix::from_floats", rows, cols);
  PARE_CHECK(values.size() == rows * cols, ArgumentError, "GgmlQ4_0Matrix::from_floats: [", rows,
             ", ", cols, "] needs ", rows * cols, " values, got ", values.size());
  GgmlQ4_0Matrix m(rows, cols);
  m.quantize(values.data());
  return m;
}

PARE_INLINE GgmlQ8_0Matrix GgmlQ8_0Matrix::from_gguf_bytes(std::span<const std::byte> bytes,
                                                           std::size_t rows, std::size_t cols) {
  GgmlQ8_0Matrix m(rows, cols);
  m.load(bytes);
  return m;
}

PARE_INLINE GgmlQ8_0Matrix GgmlQ8_0Matrix::from_floats(std::span<const float> values,
                                                       std::size_t rows, std::size_t cols) {
  detail::ggml_checked_blocks("GgmlQ8_0Matrix::from_floats", rows, cols);
  PARE_CHECK(values.size() == rows * cols, ArgumentError, "GgmlQ8_0Matrix::from_floats: [", rows,
             ", ", cols, "] needs ", rows * cols, " values, got ", values.size());
  GgmlQ8_0Matrix m(rows, cols);
  m.quantize(values.data());
  return m;
}

}  // namespace pare
