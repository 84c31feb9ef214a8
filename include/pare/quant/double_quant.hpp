// SPDX-License-Identifier: Apache-2.0
// pare — double quantization of group scales (QLoRA, Dettmers et al. 2023): the f32 scale of
// every group is itself quantized to 8 bits, with one f32 scale and one f32 offset per
// super-group of scales. For NF4 with groups of 64 this takes the scales from 32/64 = 0.5 to
// 8/64 + 64/(64 · 256) = 0.127 bits per weight (4.127 bpw in total, QLoRA's number).
//
// QLoRA subtracts the scales' mean and quantizes them with bitsandbytes' 8-bit dynamic float map
// per block of 256; pare subtracts each super-group's mean and uses symmetric int8 (absmax / 127)
// instead, so a kernel can decode a scale with one FMA. Group scales are positive and similar in
// size, so the mean-removed int8 grid loses little (see tests/quant/double_quant_test.cpp).
//
//   auto dq = pare::pack_nf4_double_quant(w.view(), 64);   // dq.matrix runs on gemv_lut4
//   dq.bits_per_weight();                                  // 4.127
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/tensor.hpp"
#include "pare/quant/lut4.hpp"
#include "pare/quant/nf4.hpp"

namespace pare {

/// Group scales stored as int8 codes with a per-super-group f32 step and offset:
/// scale[i] = offset[i / super_group] + step[i / super_group] * code[i].
struct DoubleQuantScales {
  std::size_t super_group = 256;
  std::vector<std::int8_t> codes;
  std::vector<float> steps;
  std::vector<float> offsets;

  [[nodiscard]] std::size_t size() const noexcept { return codes.size(); }
  [[nodiscard]] float scale(std::size_t i) const noexcept {
    const std::size_t s = i / super_group;
    return offsets[s] + steps[s] * static_cast<float>(codes[i]);
  }
  /// Bytes stored: one per scale, eight per super-group.
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    return codes.size() + (steps.size() + offsets.size()) * sizeof(float);
  }
};

/// Quantizes `scales` in super-groups of `super_group` (QLoRA: 256). Throws ArgumentError for a
/// zero super-group or a non-finite scale.
[[nodiscard]] DoubleQuantScales double_quantize_scales(std::span<const float> scales,
                                                       std::size_t super_group = 256);

/// The scales a DoubleQuantScales stands for.
[[nodiscard]] std::vector<float> dequantize(const DoubleQuantScales& dq);

/// A lookup-table matrix whose group scales are double-quantized: `matrix` holds the decoded
/// scales (what gemv_lut4 multiplies with), `scales` what is stored.
struct DoubleQuantLut4 {
  Lut4Matrix matrix;
  DoubleQuantScales scales;
  /// Codes plus double-quantized scales.
  [[nodiscard]] double bits_per_weight() const noexcept {
    const double n = static_cast<double>(matrix.rows() * matrix.cols());
    return n == 0 ? 0.0 : (4.0 * n + 8.0 * static_cast<double>(scales.size_bytes())) / n;
  }
};

/// pack_lut4, then double quantization of its scales; each weight's level is chosen again for
/// its decoded scale, so the codes are the best for the scales actually stored.
[[nodiscard]] DoubleQuantLut4 pack_lut4_double_quant(TensorView<const float, 2> w,
                                                     std::size_t group, const Lut4Codebook& levels,
                                                     std::size_t super_group = 256);

/// NF4 with double-quantized scales (QLoRA's storage format up to the 8-bit scale grid).
[[nodiscard]] inline DoubleQuantLut4 pack_nf4_double_quant(TensorView<const float, 2> w,
                                                           std::size_t group = 64,
                                                           std::size_t super_group = 256) {
  return pack_lut4_double_quant(w, group, Nf4::levels(), super_group);
}

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/quant/double_quant-inl.hpp"
#endif
