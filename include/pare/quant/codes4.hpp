// SPDX-License-Identifier: Apache-2.0
// pare — Codes4Matrix: 4-bit codes of any Decode4Format with one f32 scale (and, for zero points,
// one f32 offset) per group, the layout of the generic 4-bit kernel (kernels/gemv_codes4.hpp):
//
//     w[r, c] = scale[r, g] * F::decode(code[r, c]) + offset[r, g],   g = c / group
//
// It holds three kinds of 4-bit weights:
//   - Int<4> / UInt<4> codes from Quantizer<..., PerGroup<G>> (linear: decode is the integer,
//     the offset is -scale * zero point; pack_for_kernel makes it from a QuantizedTensor);
//   - a user's Decode4Format (pack_codes4<F>: absmax scale per group, nearest level);
//   - anything else expressible as 16 levels, a scale and an offset per group.
// Codes are packed like Lut4Matrix: chunks of 32 weights in 16 bytes, byte i holding weight i in
// its low nibble and weight 16 + i in the high one, so a kernel widens bytes to lanes with x read
// in order.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/quant/code_format.hpp"
#include "pare/quant/nibble_chunks.hpp"
#include "pare/simd/arch.hpp"

namespace pare {

/// Weights per packed chunk of a Codes4Matrix (16 bytes).
inline constexpr std::size_t codes4_chunk = nibble_chunk;

/// The integer grid of Int<4> (Signed) or UInt<4> as a Decode4Format: nibble n stands for n - 8
/// (Int<4>, stored offset by 8) or n (UInt<4>). Its SIMD decode is one conversion.
template <bool Signed>
struct LinearCodes4 {
  static constexpr const char* name = Signed ? "int4" : "uint4";
  static constexpr int bits = 4;
  /// Levels are the integers -8..7 (or 0..15): the int8 kernel multiplies them exactly.
  static constexpr bool int8_levels = true;
  static constexpr float decode(unsigned n) noexcept {
    return static_cast<float>(static_cast<int>(n) - (Signed ? 8 : 0));
  }
  /// The SIMD decode the generic kernel inlines: one int -> float conversion.
  template <class Arch>
  static xsimd::batch<float, Arch> decode(xsimd::batch<std::int32_t, Arch> n) noexcept {
    if constexpr (Signed)
      return xsimd::to_float(n - xsimd::batch<std::int32_t, Arch>(8));
    else
      return xsimd::to_float(n);
  }
};
static_assert(Decode4Format<LinearCodes4<true>> && Decode4Format<LinearCodes4<false>>);

/// A [rows, cols] matrix of 4-bit codes of format F, f32 scale and offset per `group` weights.
/// @tparam F a Decode4Format
template <class F>
class Codes4Matrix {
  static_assert(Decode4Format<F>, "Codes4Matrix<F> needs a Decode4Format (see code_format.hpp)");

 public:
  using format_type = F;

  Codes4Matrix() = default;
  /// All codes 0, scales 1, no offsets. ArgumentError unless group is a positive multiple of 32
  /// that divides cols.
  Codes4Matrix(std::size_t rows, std::size_t cols, std::size_t group)
      : rows_(rows), cols_(cols), group_(group) {
    PARE_CHECK(group > 0 && group % codes4_chunk == 0 && cols % group == 0, ArgumentError,
               "Codes4Matrix: group ", group, " must be a positive multiple of ", codes4_chunk,
               " dividing the ", cols, " columns");
    codes_ = Tensor<std::uint8_t, 2>({rows, cols / 2}, 0);
    scales_ = Tensor<float, 2>({rows, cols / group}, 1.0f);
  }

  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  [[nodiscard]] std::size_t cols() const noexcept { return cols_; }
  [[nodiscard]] std::size_t group() const noexcept { return group_; }
  [[nodiscard]] std::size_t groups() const noexcept { return cols_ / group_; }
  /// Packed codes, [rows, cols / 2].
  [[nodiscard]] const std::uint8_t* codes() const noexcept { return codes_.data(); }
  [[nodiscard]] std::uint8_t* codes() noexcept { return codes_.data(); }
  /// Scales [rows, groups], row-major.
  [[nodiscard]] const float* scales() const noexcept { return scales_.data(); }
  [[nodiscard]] float scale(std::size_t r, std::size_t g) const noexcept { return scales_(r, g); }
  void set_scale(std::size_t r, std::size_t g, float s) noexcept { scales_(r, g) = s; }
  /// Offsets [rows, groups], or null when every offset is 0 (symmetric codes).
  [[nodiscard]] const float* offsets() const noexcept {
    return offsets_.size() == 0 ? nullptr : offsets_.data();
  }
  [[nodiscard]] float offset(std::size_t r, std::size_t g) const noexcept {
    return offsets_.size() == 0 ? 0.0f : offsets_(r, g);
  }
  void set_offset(std::size_t r, std::size_t g, float o) {
    if (offsets_.size() == 0) {
      if (o == 0.0f) return;
      offsets_ = Tensor<float, 2>({rows_, groups()}, 0.0f);
    }
    offsets_(r, g) = o;
  }

  /// Byte and nibble (0 low, 1 high) of column c within a row.
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
  /// The real value element (r, c) stands for (the scalar reference of the kernel).
  [[nodiscard]] float value(std::size_t r, std::size_t c) const noexcept {
    const std::size_t g = c / group_;
    return scale(r, g) * static_cast<float>(F::decode(code(r, c))) + offset(r, g);
  }
  /// Bytes of codes, scales and offsets (if any).
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    return codes_.size_bytes() + scales_.size_bytes() + offsets_.size_bytes();
  }
  /// Storage bits per weight, everything included.
  [[nodiscard]] double bits_per_weight() const noexcept {
    const double n = static_cast<double>(rows_ * cols_);
    return n == 0 ? 0.0 : 8.0 * static_cast<double>(size_bytes()) / n;
  }

 private:
  std::size_t rows_ = 0, cols_ = 0, group_ = codes4_chunk;
  Tensor<std::uint8_t, 2> codes_;
  Tensor<float, 2> scales_;
  Tensor<float, 2> offsets_;
};

/// The 16 levels of a Decode4Format, decode(0..15).
template <class F>
[[nodiscard]] std::array<float, 16> decode4_levels() noexcept {
  std::array<float, 16> l{};
  for (unsigned i = 0; i < 16; ++i) l[i] = static_cast<float>(F::decode(i));
  return l;
}

/// Packs w [rows, cols] with format F: per group of `group` weights, scale = max|w| / max|level|
/// (absmax, as QLoRA does), each weight the code whose level is nearest to w / scale (ties to the
/// lower code). ArgumentError for a group that is not a multiple of 32 dividing cols, a format
/// whose levels are all 0 or not finite, or a non-finite weight.
/// ```
/// auto q = pare::pack_codes4<LogScale4>(w.view(), 64);
/// pare::gemv(q, x.view(), y.view());
/// ```
template <class F>
[[nodiscard]] Codes4Matrix<F> pack_codes4(TensorView<const float, 2> w, std::size_t group) {
  static_assert(Decode4Format<F>, "pack_codes4<F> needs a Decode4Format (see code_format.hpp)");
  const std::size_t rows = w.extent(0), cols = w.extent(1);
  Codes4Matrix<F> q(rows, cols, group);
  const auto levels = decode4_levels<F>();
  float lmax = 0;
  for (float l : levels) {
    PARE_CHECK(std::isfinite(l), ArgumentError, "pack_codes4: format '", F::name,
               "' decodes a code to a non-finite level");
    lmax = std::max(lmax, std::abs(l));
  }
  PARE_CHECK(lmax > 0, ArgumentError, "pack_codes4: every level of format '", F::name, "' is 0");
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t g0 = 0; g0 < cols; g0 += group) {
      float amax = 0;
      for (std::size_t c = g0; c < g0 + group; ++c) {
        const float v = w(r, c);
        PARE_CHECK(std::isfinite(v), ArgumentError, "pack_codes4: element (", r, ", ", c,
                   ") of a matrix of shape ", to_string(w.extents()), " is not finite");
        amax = std::max(amax, std::abs(v));
      }
      const float scale = amax > 0 ? amax / lmax : 1.0f;
      q.set_scale(r, g0 / group, scale);
      const float inv = 1.0f / scale;
      for (std::size_t c = g0; c < g0 + group; ++c) {
        const float t = w(r, c) * inv;
        unsigned best = 0;
        float err = std::abs(t - levels[0]);
        for (unsigned k = 1; k < 16; ++k)
          if (const float e = std::abs(t - levels[k]); e < err) {
            err = e;
            best = k;
          }
        q.set_code(r, c, best);
      }
    }
  return q;
}

/// The real-valued matrix a Codes4Matrix stands for.
template <class F>
[[nodiscard]] Tensor<float, 2> dequantize(const Codes4Matrix<F>& q) {
  Tensor<float, 2> out({q.rows(), q.cols()});
  for (std::size_t r = 0; r < q.rows(); ++r)
    for (std::size_t c = 0; c < q.cols(); ++c) out(r, c) = q.value(r, c);
  return out;
}

}  // namespace pare
