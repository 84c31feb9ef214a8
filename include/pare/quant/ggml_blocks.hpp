// SPDX-License-Identifier: Apache-2.0
// pare — GGUF Q4_0 and Q8_0 weight matrices kept in their own bits, for kernels/matmul_ggml.hpp.
//
// ggml stores a row of `cols` weights as cols / 32 blocks:
//   block_q4_0 = { f16 d; u8 qs[16] }  w[j] = d * ((qs[j] & 15) - 8), w[j + 16] = d * ((qs[j] >> 4)
//   - 8) block_q8_0 = { f16 d; i8 qs[32] }  w[j] = d * qs[j]
// The matrices here hold exactly those bits, only moved: per row, the f16 scales in one array and
// the code bytes in another (so the kernels load whole 64-byte vectors of codes, 4 blocks at a
// time, without the 2-byte scales between them), Q8_0 codes reordered per group of 4 blocks as
// the 4 first halves (16 bytes each) then the 4 second halves, matching the Q4_0 nibble order, and
// stored + 128 (xor 0x80) so that VNNI's unsigned x signed `vpdpbusd` takes them as they are.
// Nothing is requantized: dequantize_row() gives ggml's dequantize_row_q4_0 / q8_0 values, and the
// memory is the GGUF bytes' (18 or 34 bytes per 32 weights) plus the object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace pare {

/// Which ggml block type a GgmlBlockMatrix holds.
enum class GgmlBlockType : std::uint8_t { q4_0, q8_0 };

/// What GgmlQ4_0Matrix and GgmlQ8_0Matrix share: shape, scales and code bytes (see the file
/// comment for the layout), read by the kernels.
class GgmlBlockMatrix {
 public:
  static constexpr std::size_t block = 32;  ///< weights per ggml block
  static constexpr std::size_t group = 4;   ///< blocks per kernel group (128 weights)

  GgmlBlockMatrix() = default;

  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  [[nodiscard]] std::size_t cols() const noexcept { return cols_; }
  [[nodiscard]] GgmlBlockType type() const noexcept { return type_; }
  /// cols / 32.
  [[nodiscard]] std::size_t blocks_per_row() const noexcept { return cols_ / block; }
  /// Groups of 4 blocks per row, the last one possibly partial.
  [[nodiscard]] std::size_t groups_per_row() const noexcept {
    return (blocks_per_row() + group - 1) / group;
  }
  /// Code bytes of one block: 16 (Q4_0) or 32 (Q8_0).
  [[nodiscard]] std::size_t block_code_bytes() const noexcept {
    return type_ == GgmlBlockType::q4_0 ? 16 : 32;
  }
  /// Bytes of weight data held (codes and f16 scales): the size of the GGUF tensor.
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    return codes_.size() + scales_.size() * sizeof(std::uint16_t);
  }
  /// The f16 scale bits of row r's blocks.
  [[nodiscard]] const std::uint16_t* scales(std::size_t r) const noexcept {
    return scales_.data() + r * blocks_per_row();
  }
  /// Row r's code bytes (blocks_per_row() * block_code_bytes()).
  [[nodiscard]] const std::uint8_t* codes(std::size_t r) const noexcept {
    return codes_.data() + r * blocks_per_row() * block_code_bytes();
  }
  /// Code bytes of the full group g of row r: Q4_0 64 bytes (block k's qs at 16 k), Q8_0 128
  /// bytes (block k's first 16 codes + 128 at 16 k, its last 16 at 64 + 16 k).
  /// @pre g < blocks_per_row() / 4.
  [[nodiscard]] const std::uint8_t* group_codes(std::size_t r, std::size_t g) const noexcept {
    return codes(r) + g * group * block_code_bytes();
  }
  /// Row r decoded to floats, exactly as ggml's dequantize_row_q4_0 / q8_0. @pre r < rows().
  void dequantize_row(std::size_t r, float* out) const noexcept;

 protected:
  GgmlBlockMatrix(GgmlBlockType type, std::size_t rows, std::size_t cols);
  /// Validates and unpacks ggml blocks (ArgumentError for sizes, FormatError for a scale that
  /// is not finite).
  void load(std::span<const std::byte> bytes);
  /// Quantizes floats as ggml's quantize_row_q4_0_ref / q8_0_ref.
  void quantize(const float* values);

 private:
  void set_block(std::size_t r, std::size_t b, std::uint16_t d, const std::uint8_t* qs) noexcept;

  std::size_t rows_ = 0, cols_ = 0;
  GgmlBlockType type_ = GgmlBlockType::q4_0;
  std::vector<std::uint16_t> scales_;
  std::vector<std::uint8_t> codes_;
};

/// A GGUF Q4_0 weight matrix [rows, cols] (rows = output features; one row = ggml's ne[0]).
class GgmlQ4_0Matrix : public GgmlBlockMatrix {
 public:
  GgmlQ4_0Matrix() = default;
  /// From the packed bytes of a GGUF tensor (GgufFile::raw): rows * cols / 32 blocks of 18 bytes.
  /// ArgumentError when cols is not a positive multiple of 32, rows is 0 or the byte count
  /// differs; FormatError when a block's f16 scale is infinite or NaN.
  [[nodiscard]] static GgmlQ4_0Matrix from_gguf_bytes(std::span<const std::byte> bytes,
                                                      std::size_t rows, std::size_t cols);
  /// values [rows, cols] row-major quantized bit for bit as ggml's quantize_row_q4_0_ref.
  /// ArgumentError for the shapes from_gguf_bytes refuses or a non-finite value.
  [[nodiscard]] static GgmlQ4_0Matrix from_floats(std::span<const float> values, std::size_t rows,
                                                  std::size_t cols);

 private:
  GgmlQ4_0Matrix(std::size_t rows, std::size_t cols)
      : GgmlBlockMatrix(GgmlBlockType::q4_0, rows, cols) {}
};

/// A GGUF Q8_0 weight matrix [rows, cols]; as GgmlQ4_0Matrix, with blocks of 34 bytes.
class GgmlQ8_0Matrix : public GgmlBlockMatrix {
 public:
  GgmlQ8_0Matrix() = default;
  /// From the packed bytes of a GGUF tensor: rows * cols / 32 blocks of 34 bytes. Errors as
  /// GgmlQ4_0Matrix::from_gguf_bytes.
  [[nodiscard]] static GgmlQ8_0Matrix from_gguf_bytes(std::span<const std::byte> bytes,
                                                      std::size_t rows, std::size_t cols);
  /// values [rows, cols] quantized bit for bit as ggml's quantize_row_q8_0_ref.
  [[nodiscard]] static GgmlQ8_0Matrix from_floats(std::span<const float> values, std::size_t rows,
                                                  std::size_t cols);

 private:
  GgmlQ8_0Matrix(std::size_t rows, std::size_t cols)
      : GgmlBlockMatrix(GgmlBlockType::q8_0, rows, cols) {}
};

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/quant/ggml_blocks-inl.hpp"
#endif
