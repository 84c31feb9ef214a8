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

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"

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
inline constexpr std::size_t lut4_chunk = 32;

/// A [rows, cols] matrix of 4-bit codes into a 16-level codebook, one f32 scale per `group`
/// consecutive weights of a row. Rows are cols / 2 bytes, in chunks of 32 weights (lut4_chunk).
class Lut4Matrix {
 public:
  Lut4Matrix() = default;
  /// All codes 0 and scales 1. Throws ArgumentError unless group is a positive multiple of 32
  /// dividing cols.
  Lut4Matrix(std::size_t rows, std::size_t cols, std::size_t group, const Lut4Codebook& levels)
      : rows_(rows), cols_(cols), group_(group), levels_(levels) {
    PARE_CHECK(group > 0 && group % lut4_chunk == 0, ArgumentError, "Lut4Matrix: group size ",
               group, " is not a positive multiple of ", lut4_chunk);
    PARE_CHECK(cols % group == 0, ArgumentError, "Lut4Matrix: ", cols,
               " columns are not a multiple of the group size ", group);
    codes_ = Tensor<std::uint8_t, 2>({rows, cols / 2}, 0);
    scales_ = Tensor<float, 2>({rows, cols / group}, 1.0f);
  }

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
    const std::size_t chunk = c / lut4_chunk, i = c % lut4_chunk;
    return {chunk * 16 + i % 16, static_cast<unsigned>(i / 16)};
  }
  [[nodiscard]] unsigned code(std::size_t r, std::size_t c) const noexcept {
    const auto [b, hi] = position(c);
    return (codes_(r, b) >> (4 * hi)) & 0xFu;
  }
  /// @pre code < 16.
  void set_code(std::size_t r, std::size_t c, unsigned code) noexcept {
    const auto [b, hi] = position(c);
    std::uint8_t& byte = codes_(r, b);
    byte = static_cast<std::uint8_t>((byte & (hi ? 0x0Fu : 0xF0u)) | (code << (4 * hi)));
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
inline void check_lut4_codebook(const Lut4Codebook& levels) {
  float amax = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    PARE_CHECK(std::isfinite(levels[i]), ArgumentError, "lookup codebook: level ", i,
               " is not finite");
    PARE_CHECK(i == 0 || levels[i] > levels[i - 1], ArgumentError,
               "lookup codebook: levels must be strictly ascending (level ", i, ")");
    amax = std::max(amax, std::abs(levels[i]));
  }
  PARE_CHECK(amax == 1.0f, ArgumentError, "lookup codebook: largest |level| is ", amax,
             ", must be 1 (the group's absolute maximum maps onto it)");
}

/// Packs `w` [rows, cols] with the given codebook: per group, scale = max |w| (absmax, as QLoRA
/// does), each weight the level nearest to w / scale. Throws ArgumentError for a bad codebook or
/// group size, or a non-finite weight.
[[nodiscard]] inline Lut4Matrix pack_lut4(TensorView<const float, 2> w, std::size_t group,
                                          const Lut4Codebook& levels) {
  check_lut4_codebook(levels);
  Lut4Matrix q(w.extent(0), w.extent(1), group, levels);
  for (std::size_t r = 0; r < q.rows(); ++r)
    for (std::size_t g0 = 0; g0 < q.cols(); g0 += group) {
      float amax = 0;
      for (std::size_t c = g0; c < g0 + group; ++c) {
        PARE_CHECK(std::isfinite(w(r, c)), ArgumentError, "pack_lut4: element (", r, ", ", c,
                   ") is not finite");
        amax = std::max(amax, std::abs(w(r, c)));
      }
      q.set_scale(r, g0 / group, amax);
      const float inv = amax > 0 ? 1.0f / amax : 0.0f;
      for (std::size_t c = g0; c < g0 + group; ++c)
        q.set_code(r, c, nearest_lut4_level(levels, w(r, c) * inv));
    }
  return q;
}

/// pack_lut4 with a LookupFormat's levels.
template <LookupFormat F>
[[nodiscard]] Lut4Matrix pack_lut4(TensorView<const float, 2> w, std::size_t group) {
  return pack_lut4(w, group, F::levels());
}

/// The real matrix a Lut4Matrix stands for (the scalar reference of kernels::GemvLut4).
[[nodiscard]] inline Tensor<float, 2> dequantize(const Lut4Matrix& q) {
  Tensor<float, 2> out({q.rows(), q.cols()});
  for (std::size_t r = 0; r < q.rows(); ++r)
    for (std::size_t c = 0; c < q.cols(); ++c) out(r, c) = q.value(r, c);
  return out;
}

}  // namespace pare
