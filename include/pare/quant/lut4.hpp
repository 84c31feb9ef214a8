// SPDX-License-Identifier: Apache-2.0
// pare — 4-bit lookup-table formats: each weight is one of 16 arbitrary levels times its group's
// f32 scale, w = scale[group] * levels[code]. NF4 (quant/nf4.hpp) is one such codebook; a user's
// codebook (log-scale, learned, ...) is another, and both run through kernels/gemv_lut4.hpp.
//
// When to use which:
//   Lut4Matrix + NF4     QLoRA's 4-bit NormalFloat: the levels are quantiles of N(0, 1), so they
//                        are information-theoretically right for normally distributed weights.
//   Lut4Matrix + yours   any 16 levels: satisfy `LookupFormat` (a static `levels()`).
//   Int4Matrix           (quant/int4_block.hpp) the fastest 4-bit GEMV with 8-bit log scales;
//                        fixed codebooks only.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/quant/nibble_chunks.hpp"

namespace pare {

/// 16 levels of a 4-bit lookup-table code, ascending.
using Lut4Codebook = std::array<float, 16>;

/// A 4-bit lookup-table format: `levels()` gives its 16 levels, ascending, with the largest
/// magnitude 1 (a group's absolute maximum maps onto it).
template <class F>
concept LookupFormat = requires {
  { F::levels() } -> std::convertible_to<Lut4Codebook>;
};

/// Weights per packed chunk: 16 bytes, byte i holding weight i (low nibble) and weight 16 + i
/// (high nibble), so one 16-byte load widens to 16 indices per nibble with x read in order.
inline constexpr std::size_t lut4_chunk = nibble_chunk;

/// A [rows, cols] matrix of 4-bit codes into a 16-level codebook, one f32 scale per `group`
/// consecutive weights of a row. Rows are cols / 2 bytes, in chunks of 32 weights (lut4_chunk).
class Lut4Matrix {
 public:
  Lut4Matrix() = default;
  /// All codes 0 and scales 1. Throws ArgumentError unless group is a positive multiple of 32
  /// dividing cols.
  Lut4Matrix(std::size_t rows, std::size_t cols, std::size_t group, const Lut4Codebook& levels);

  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  [[nodiscard]] std::size_t cols() const noexcept { return cols_; }
  [[nodiscard]] std::size_t group() const noexcept { return group_; }
  [[nodiscard]] const Lut4Codebook& levels() const noexcept { return levels_; }
  /// Packed codes [rows, cols / 2].
  [[nodiscard]] const std::uint8_t* codes() const noexcept { return codes_.data(); }
  /// Scales [rows, cols / group], row-major.
  [[nodiscard]] const float* scales() const noexcept { return scales_.data(); }
  [[nodiscard]] float scale(std::size_t r, std::size_t g) const noexcept { return scales_(r, g); }
  void set_scale(std::size_t r, std::size_t g, float s) noexcept { scales_(r, g) = s; }

  /// Byte and nibble (0 low, 1 high) of element (r, c).
  [[nodiscard]] static constexpr std::pair<std::size_t, unsigned> position(std::size_t c) noexcept {
    return nibble_position(c);
  }
  [[nodiscard]] unsigned code(std::size_t r, std::size_t c) const noexcept {
    const auto [b, hi] = position(c);
    return get_nibble(codes_(r, b), hi);
  }
  /// @pre code < 16.
  void set_code(std::size_t r, std::size_t c, unsigned code) noexcept {
    const auto [b, hi] = position(c);
    set_nibble(codes_(r, b), hi, code);
  }
  [[nodiscard]] float value(std::size_t r, std::size_t c) const noexcept {
    return scales_(r, c / group_) * levels_[code(r, c)];
  }
  /// Bytes of codes and f32 scales (the codebook's 64 bytes not counted).
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    return codes_.size_bytes() + scales_.size_bytes();
  }
  [[nodiscard]] double bits_per_weight() const noexcept {
    return rows_ * cols_ == 0
               ? 0.0
               : 8.0 * static_cast<double>(size_bytes()) / static_cast<double>(rows_ * cols_);
  }

 private:
  std::size_t rows_ = 0, cols_ = 0, group_ = lut4_chunk;
  Lut4Codebook levels_{};
  Tensor<std::uint8_t, 2> codes_;
  Tensor<float, 2> scales_;
};

/// Index of the level nearest to v (ties to the lower level): QLoRA's rounding.
[[nodiscard]] inline unsigned nearest_lut4_level(const Lut4Codebook& levels, float v) noexcept {
  unsigned k = 0;
  for (std::size_t i = 0; i + 1 < 16; ++i) k += v > 0.5f * (levels[i] + levels[i + 1]) ? 1u : 0u;
  return k;
}

/// Checks a codebook: ascending, finite, largest magnitude 1.
void check_lut4_codebook(const Lut4Codebook& levels);

/// Packs `w` [rows, cols] with the given codebook: per group, scale = max |w| (absmax, as QLoRA
/// does), each weight the level nearest to w / scale. Throws ArgumentError for a bad codebook or
/// group size, or a non-finite weight.
[[nodiscard]] Lut4Matrix pack_lut4(TensorView<const float, 2> w, std::size_t group,
                                   const Lut4Codebook& levels);

/// pack_lut4 with a LookupFormat's levels.
template <LookupFormat F>
[[nodiscard]] Lut4Matrix pack_lut4(TensorView<const float, 2> w, std::size_t group) {
  return pack_lut4(w, group, F::levels());
}

/// The real matrix a Lut4Matrix stands for (the scalar reference of kernels::GemvLut4).
[[nodiscard]] Tensor<float, 2> dequantize(const Lut4Matrix& q);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/quant/lut4-inl.hpp"
#endif
