// SPDX-License-Identifier: Apache-2.0
// pare — 4-bit weight-only block formats for the fused-dequantization GEMV (kernels/gemv_int4.hpp).
//
// Each group of `Group` consecutive weights of a row stores 4-bit codes into a 16-level
// non-uniform codebook of small integers plus one 8-bit scale code:
//
//     w = scale(code8) * level[code4],   scale(s) = (s & 0x80 ? -1 : 1) * T * 2^(-(s & 0x7F) / 8)
//
// with T one f32 per matrix. The levels are a Lloyd–Max fit to group-normalized Gaussian weights,
// rounded to int8 (docs/quantization.md, "4-bit formats: accuracy per bit"): a 16-entry table that
// AVX-512 decodes with one `vpermps` (16 codes to f32) or one `vpshufb` (64 codes to int8), so
// non-uniform levels cost the kernel nothing over uniform int4. The 8-bit logarithmic scale
// (sign, 7-bit exponent in eighths of an octave, a 2^15.9 range below T) is half the bits of an
// f16 scale at no measurable loss once each group's scale is searched for the least squared
// error; the halved cost pays for groups of 16.
//
// When to use which (docs/quantization.md, "The 4-bit formats", compares them with the linear
// int4 grid and NF4):
//   Codebook4Log<16>  4.5 bits per weight, 23.2 dB SQNR on N(0,1) weights (Q4_K-class: 22.9).
//   Codebook4Log<32>  4.25 bits per weight, 22.2 dB; 6 % smaller, 1 dB worse.
//   Codebook4Log<64> / <128>  4.125 / 4.0625 bits per weight, for the largest models;
//          docs/quantization-accuracy.md has their SQNR.
// The old names Q4G16, Q4G32, Q4G64, Q4G128 (and Int4BlockFormat<G>) are aliases of these.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"

namespace pare {

/// The 16 levels of a 4-bit code, ascending, as small integers (the scale carries the units).
using Int4Codebook = std::array<std::int8_t, 16>;

/// Lloyd–Max levels for groups of 16 N(0,1) weights scaled so the group's extreme lands on -127.
inline constexpr Int4Codebook gauss_levels_g16 = {-127, -107, -89, -73, -58, -43, -28, -14,
                                                  0,    14,   28,  43,  58,  73,  89,  107};
/// The same fit for groups of 32.
inline constexpr Int4Codebook gauss_levels_g32 = {-127, -104, -86, -70, -56, -42, -28, -14,
                                                  0,    14,   28,  42,  56,  71,  87,  107};
/// Lloyd–Max fits for groups of 64 and 128 (the group-128 layout), with the level nearest
/// zero set to 0 so that exact zeros stay exact.
inline constexpr Int4Codebook gauss_levels_g64 = {-127, -100, -79, -62, -48, -34, -22, -10,
                                                  0,    14,   26,  39,  53,  69,  87,  110};
inline constexpr Int4Codebook gauss_levels_g128 = {-127, -98, -77, -60, -46, -33, -21, -10,
                                                   0,    13,  25,  37,  50,  66,  84,  108};

/// A 4-bit codebook format with logarithmic scales: `Group` codes per 8-bit log scale, each code
/// one of 16 Lloyd–Max levels (not a linear int4 grid: that is Quantizer<Int<4>, ...,
/// PerGroup<G>> on kernels::GemvCodes4). Formerly Int4BlockFormat / Q4G<Group>.
/// @tparam Group weights per scale: 16, 32, 64 or 128 (a divisor of the 128-weight layout block).
template <std::size_t Group>
struct Codebook4Log {
  static_assert(Group == 16 || Group == 32 || Group == 64 || Group == 128,
                "Codebook4Log<Group> supports groups of 16, 32, 64 or 128 weights: the kernels "
                "decode 128-weight blocks and expand one scale per 2, 4, 8 or 16 lanes");
  static constexpr std::size_t group = Group;
  /// Storage bits per weight: 4 per code, 8 per group scale (plus 4 bytes per matrix for T).
  static constexpr double bits_per_weight = 4.0 + 8.0 / static_cast<double>(Group);
  static constexpr const Int4Codebook& levels() noexcept {
    if constexpr (Group == 16)
      return gauss_levels_g16;
    else if constexpr (Group == 32)
      return gauss_levels_g32;
    else if constexpr (Group == 64)
      return gauss_levels_g64;
    else
      return gauss_levels_g128;
  }
};

// The names before the 4-bit formats were named for what they are ("Q4G32" read as "int4, group
// 32", which three different formats could claim). Kept for existing code; define
// PARE_WARN_DEPRECATED_NAMES to have the compiler point at each use.
#ifdef PARE_WARN_DEPRECATED_NAMES
#define PARE_DEPRECATED_NAME(msg) [[deprecated(msg)]]
#else
#define PARE_DEPRECATED_NAME(msg)
#endif
template <std::size_t Group>
using Int4BlockFormat PARE_DEPRECATED_NAME("use pare::Codebook4Log<Group>") = Codebook4Log<Group>;
using Q4G16 PARE_DEPRECATED_NAME("use pare::Codebook4Log<16>") = Codebook4Log<16>;
using Q4G32 PARE_DEPRECATED_NAME("use pare::Codebook4Log<32>") = Codebook4Log<32>;
/// 4.0625 bits per weight: the group-128 case, for speed comparisons and the largest models.
using Q4G64 PARE_DEPRECATED_NAME("use pare::Codebook4Log<64>") = Codebook4Log<64>;
using Q4G128 PARE_DEPRECATED_NAME("use pare::Codebook4Log<128>") = Codebook4Log<128>;

/// Layout block: 128 weights of a row in 64 bytes.
inline constexpr std::size_t int4_block = 128;

/// The weight (within a full 128-weight block) whose code is the low nibble of byte p (< 64);
/// the high nibble holds the weight Group / 2 further on.
template <std::size_t Group>
[[nodiscard]] constexpr std::size_t int4_block_offset(std::size_t p) noexcept {
  constexpr std::size_t lanes_per_group = 16 / (int4_block / Group);
  const std::size_t lane = p / 4;
  return lane / lanes_per_group * Group + lane % lanes_per_group * 4 + p % 4;
}

/// A [rows, cols] matrix packed for kernels::GemvInt4.
///
/// Codes: each row is cols / 2 bytes in blocks of 128 weights (64 bytes). A block is read as 16
/// lanes of 4 bytes (the lanes of one `vpdpbusd`); each group owns 16 / (128 / Group) consecutive
/// lanes, and byte i of its k-th lane holds weight 4k + i of the group in the low nibble and
/// weight Group / 2 + 4k + i in the high nibble (int4_block_offset). So one 64-byte load, a mask
/// and a shift give two vectors of 64 codes whose every 4-byte lane stays inside one group, in
/// the same lane for both halves: the int8 kernel sums both halves in int32 and scales each lane
/// once. A last partial block of n < 128 weights (n a multiple of Group) is simple: byte j holds
/// weight j low and j + n / 2 high.
/// Rows are interleaved in row blocks of 8 (fewer in the last): a row block's bytes are its full
/// 128-weight blocks in column order, each as the 8 rows' 64 bytes one after the other, then the
/// rows' partial blocks; its scale codes are chunks of 16 groups, each with the 8 rows' codes one
/// after the other. An 8-row kernel thus reads two sequential streams instead of 16 short ones.
template <class Format>
class Int4Matrix {
 public:
  using format_type = Format;
  static constexpr std::size_t group = Format::group;

  Int4Matrix() = default;
  /// All codes and scale codes zero; `scale_top` is T.
  Int4Matrix(std::size_t rows, std::size_t cols, float scale_top)
      : rows_(rows),
        cols_(cols),
        top_(scale_top),
        codes_({rows, cols / 2}, 0),
        scales_({rows, cols / group}, 0) {
    for (std::size_t i = 0; i < 16; ++i)
      frac_[i] =
          static_cast<float>(static_cast<double>(top_) * std::exp2(-static_cast<double>(i) / 8.0));
    // Every scale code decoded once here: kernels look scales up instead of calling ldexp, which
    // for small matrices cost more than the products.
    for (unsigned s = 0; s < 256; ++s) {
      const float m = std::ldexp(frac_[s & 0xFu], -2 * static_cast<int>((s & 0x7Fu) >> 4));
      scale_lut_[s] = (s & 0x80u) != 0 ? -m : m;
    }
  }

  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  [[nodiscard]] std::size_t cols() const noexcept { return cols_; }
  [[nodiscard]] static constexpr const Int4Codebook& levels() noexcept { return Format::levels(); }
  /// T, the largest scale magnitude (scale code 0).
  [[nodiscard]] float scale_top() const noexcept { return top_; }
  /// T * 2^(-i/8) for i < 16, each rounded once: scale codes decode through this table.
  [[nodiscard]] const std::array<float, 16>& scale_fractions() const noexcept { return frac_; }
  /// Packed codes, rows * cols / 2 bytes (order: code_position).
  [[nodiscard]] const std::uint8_t* codes() const noexcept { return codes_.data(); }
  [[nodiscard]] std::uint8_t* codes() noexcept { return codes_.data(); }
  /// Scale codes, rows * cols / Group bytes (order: scale_index).
  [[nodiscard]] const std::uint8_t* scale_codes() const noexcept { return scales_.data(); }
  [[nodiscard]] std::uint8_t* scale_codes() noexcept { return scales_.data(); }

  /// Rows per interleaved row block (see the class comment).
  static constexpr std::size_t row_block = 8;

  /// First row and row count of the row block holding row r.
  [[nodiscard]] std::pair<std::size_t, std::size_t> row_block_of(std::size_t r) const noexcept {
    const std::size_t r0 = r / row_block * row_block;
    return {r0, std::min(row_block, rows_ - r0)};
  }
  /// The 64 code bytes of full 128-weight block k of row r; block k + 1 is `block_stride(r)`
  /// bytes further on, and the next row of the same row block 64 bytes further on.
  [[nodiscard]] const std::uint8_t* block_codes(std::size_t r, std::size_t k) const noexcept {
    const auto [r0, rb] = row_block_of(r);
    return codes_.data() + r0 * (cols_ / 2) + (k * rb + (r - r0)) * 64;
  }
  [[nodiscard]] std::size_t block_stride(std::size_t r) const noexcept {
    return row_block_of(r).second * 64;
  }
  /// Index of the scale code of group g of row r: per row block, chunks of 16 groups, each chunk
  /// holding the row block's rows one after the other.
  [[nodiscard]] std::size_t scale_index(std::size_t r, std::size_t g) const noexcept {
    const auto [r0, rb] = row_block_of(r);
    const std::size_t ls = cols_ / group, j = g / 16,
                      chunk = std::min<std::size_t>(16, ls - 16 * j);
    return r0 * ls + j * 16 * rb + (r - r0) * chunk + g % 16;
  }
  /// Byte offset and shift (0 or 4) of element (r, c)'s code. Always inlined: the SIMD kernels'
  /// tails call it from pare_isa's per-tier objects, which must not hold an arch-free copy.
  [[nodiscard, gnu::always_inline]] std::pair<std::size_t, unsigned> code_position(
      std::size_t r, std::size_t c) const noexcept {
    const auto [r0, rb] = row_block_of(r);
    const std::size_t base = c / int4_block * int4_block, k = c / int4_block;
    const std::size_t n = std::min(int4_block, cols_ - base), j = c - base;
    const std::size_t region = r0 * (cols_ / 2);
    if (n < int4_block) {
      const std::size_t tail = region + k * rb * 64 + (r - r0) * (n / 2);
      return j < n / 2 ? std::pair{tail + j, 0u} : std::pair{tail + j - n / 2, 4u};
    }
    // Inverse of int4_block_offset.
    constexpr std::size_t lanes_per_group = 16 / (int4_block / group);
    const std::size_t g = j / group, t = j % group, half = t / (group / 2), u = t % (group / 2);
    return {region + (k * rb + (r - r0)) * 64 + 4 * (g * lanes_per_group + u / 4) + u % 4,
            half != 0 ? 4u : 0u};
  }
  /// The code (0..15) of element (r, c). Always inlined, as code_position.
  [[nodiscard, gnu::always_inline]] unsigned code(std::size_t r, std::size_t c) const noexcept {
    const auto [off, shift] = code_position(r, c);
    return (codes_.data()[off] >> shift) & 0xFu;
  }
  void set_code(std::size_t r, std::size_t c, unsigned code) noexcept {
    const auto [off, shift] = code_position(r, c);
    std::uint8_t& b = codes_.data()[off];
    b = static_cast<std::uint8_t>((b & ~(0xFu << shift)) | ((code & 0xFu) << shift));
  }
  /// The real scale a scale code stands for: exact, T's table entry times a power of two.
  [[nodiscard]] float decode_scale(std::uint8_t s) const noexcept { return scale_lut_[s]; }
  /// decode_scale for all 256 scale codes.
  [[nodiscard]] const std::array<float, 256>& scale_table() const noexcept { return scale_lut_; }
  [[nodiscard]] float scale(std::size_t r, std::size_t g) const noexcept {
    return decode_scale(scales_.data()[scale_index(r, g)]);
  }
  /// The real value element (r, c) stands for.
  [[nodiscard]] float value(std::size_t r, std::size_t c) const noexcept {
    return scale(r, c / group) * static_cast<float>(levels()[code(r, c)]);
  }

  /// Bytes of codes, scale codes and T.
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    return codes_.size_bytes() + scales_.size_bytes() + sizeof(float);
  }
  /// Storage bits per weight, everything included.
  [[nodiscard]] double bits_per_weight() const noexcept {
    const double n = static_cast<double>(rows_ * cols_);
    return n == 0 ? 0.0 : 8.0 * static_cast<double>(size_bytes()) / n;
  }

 private:
  std::size_t rows_ = 0, cols_ = 0;
  float top_ = 1.0f;
  std::array<float, 16> frac_{};
  std::array<float, 256> scale_lut_{};
  Tensor<std::uint8_t, 2> codes_;
  Tensor<std::uint8_t, 2> scales_;
};

/// Options of pack_int4_blocks.
struct Int4PackOptions {
  /// Scale codes tried per group on each side of the one nearest the signed absolute maximum, with
  /// both signs (codes step by 2^(1/8)); 0 rounds the absolute maximum to the nearest code.
  int search_radius = 3;
  /// T, the largest scale magnitude; 0 picks 1.3 * max|w| / 127 (room for the search). Give a
  /// matrix's own scale_top() to re-pack its dequantized values exactly.
  float scale_top = 0.0f;
};

namespace detail {

inline std::array<float, 15> level_midpoints(const Int4Codebook& cb) noexcept {
  std::array<float, 15> m{};
  for (std::size_t i = 0; i < 15; ++i)
    m[i] = 0.5f * (static_cast<float>(cb[i]) + static_cast<float>(cb[i + 1]));
  return m;
}

/// Index of the level nearest to v (ties to the lower one), branch-free over the 15 midpoints.
inline unsigned nearest_level(const std::array<float, 15>& mid, float v) noexcept {
  unsigned k = 0;
  for (float m : mid) k += v > m ? 1u : 0u;
  return k;
}

}  // namespace detail

/// Packs `w` into Format. Per group: the scale code with the least squared error among
/// 2 * (2 * search_radius + 1) candidates (both signs, codes around the signed absolute maximum),
/// then each weight's nearest level for that scale.
/// Throws ArgumentError when cols is not a multiple of Format::group or w holds a non-finite value.
/// ```
/// auto q = pare::pack_int4_blocks<pare::Codebook4Log<16>>(w.view());
/// pare::gemv(q, x.view(), y.view());
/// ```
template <class Format>
[[nodiscard]] Int4Matrix<Format> pack_int4_blocks(TensorView<const float, 2> w,
                                                  Int4PackOptions opt = {}) {
  constexpr std::size_t G = Format::group;
  const std::size_t rows = w.extent(0), cols = w.extent(1);
  PARE_CHECK(cols % G == 0, ArgumentError, "pack_int4_blocks: a matrix of shape ",
             to_string(w.extents()), " has ", cols, " columns, not a multiple of the group size ",
             G);
  PARE_CHECK(opt.search_radius >= 0 && opt.search_radius <= 64, ArgumentError,
             "pack_int4_blocks: search_radius = ", opt.search_radius, ", needs 0..64");
  PARE_CHECK(
      opt.scale_top == 0.0f || (std::isnormal(opt.scale_top) && opt.scale_top >= 0x1.0p-100f),
      ArgumentError, "pack_int4_blocks: scale_top = ", opt.scale_top,
      ", needs 0 (automatic) or a normal float >= 2^-100");
  float amax = 0;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) {
      const float v = w(r, c);
      PARE_CHECK(std::isfinite(v), ArgumentError, "pack_int4_blocks: element (", r, ", ", c,
                 ") of a matrix of shape ", to_string(w.extents()), " is not finite");
      amax = std::max(amax, std::abs(v));
    }
  // T leaves room above the largest group's absmax / 127 for the search (+2^(3/8) = 30 %).
  // Kept above 2^-100 so that the smallest scale, T * 2^-15.9, stays a normal float (the SIMD
  // kernels decode scales by exponent arithmetic).
  const float top = opt.scale_top > 0 ? opt.scale_top : std::max(amax / 127.0f * 1.3f, 0x1.0p-100f);
  Int4Matrix<Format> q(rows, cols, top);
  const Int4Codebook& cb = Format::levels();
  const auto mid = detail::level_midpoints(cb);
  std::array<float, G> g{};
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t g0 = 0; g0 < cols; g0 += G) {
      float gmax = 0, extreme = 0;
      for (std::size_t i = 0; i < G; ++i) {
        g[i] = w(r, g0 + i);
        if (std::abs(g[i]) > gmax) {
          gmax = std::abs(g[i]);
          extreme = g[i];
        }
      }
      const auto error_of = [&](std::uint8_t s) {
        const float sc = q.decode_scale(s), inv = 1.0f / sc;
        double e = 0;
        for (std::size_t i = 0; i < G; ++i) {
          const double d = static_cast<double>(g[i]) -
                           static_cast<double>(
                               sc * static_cast<float>(cb[detail::nearest_level(mid, g[i] * inv)]));
          e += d * d;
        }
        return e;
      };
      std::uint8_t best_s = 0x7F;  // the smallest scale: an all-zero group codes to level 0
      if (gmax > 0) {
        // The level -127 is the codebook's extreme: aim the group's extreme at it.
        const int k0 = static_cast<int>(
            std::lround(-8.0 * std::log2(static_cast<double>(gmax) / 127.0 / top)));
        const std::uint8_t sign = extreme > 0 ? 0x80 : 0x00;
        double best = HUGE_VAL;
        for (int flip = 0; flip < 2; ++flip) {
          for (int k = k0 - opt.search_radius - 2 * flip; k <= k0 + opt.search_radius; ++k) {
            const auto s =
                static_cast<std::uint8_t>((flip != 0 ? sign ^ 0x80 : sign) | std::clamp(k, 0, 127));
            const double e = error_of(s);
            if (e < best) {
              best = e;
              best_s = s;
            }
          }
          if (opt.search_radius == 0) break;
        }
      }
      q.scale_codes()[q.scale_index(r, g0 / G)] = best_s;
      const float inv = 1.0f / q.decode_scale(best_s);
      for (std::size_t i = 0; i < G; ++i)
        q.set_code(r, g0 + i, detail::nearest_level(mid, g[i] * inv));
    }
  }
  return q;
}

/// The real-valued matrix an Int4Matrix stands for: the scalar reference of kernels::GemvInt4.
template <class Format>
[[nodiscard]] Tensor<float, 2> dequantize(const Int4Matrix<Format>& q) {
  Tensor<float, 2> out({q.rows(), q.cols()});
  for (std::size_t r = 0; r < q.rows(); ++r)
    for (std::size_t c = 0; c < q.cols(); ++c) out(r, c) = q.value(r, c);
  return out;
}

}  // namespace pare
