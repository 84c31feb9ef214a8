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

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "pare/core/error.hpp"
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
[[nodiscard]] inline DoubleQuantScales double_quantize_scales(std::span<const float> scales,
                                                              std::size_t super_group = 256) {
  PARE_CHECK(super_group > 0, ArgumentError, "double_quantize_scales: super_group must be > 0");
  DoubleQuantScales dq;
  dq.super_group = super_group;
  dq.codes.resize(scales.size());
  for (std::size_t s0 = 0; s0 < scales.size(); s0 += super_group) {
    const std::size_t s1 = std::min(scales.size(), s0 + super_group);
    double sum = 0;
    for (std::size_t i = s0; i < s1; ++i) {
      PARE_CHECK(std::isfinite(scales[i]), ArgumentError, "double_quantize_scales: scale ", i,
                 " is not finite");
      sum += scales[i];
    }
    const auto offset = static_cast<float>(sum / static_cast<double>(s1 - s0));
    float amax = 0;
    for (std::size_t i = s0; i < s1; ++i) amax = std::max(amax, std::abs(scales[i] - offset));
    const float step = amax > 0 ? amax / 127.0f : 1.0f;
    for (std::size_t i = s0; i < s1; ++i)
      dq.codes[i] = static_cast<std::int8_t>(
          std::clamp(std::nearbyint((scales[i] - offset) / step), -127.0f, 127.0f));
    dq.steps.push_back(step);
    dq.offsets.push_back(offset);
  }
  return dq;
}

/// The scales a DoubleQuantScales stands for.
[[nodiscard]] inline std::vector<float> dequantize(const DoubleQuantScales& dq) {
  std::vector<float> s(dq.size());
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = dq.scale(i);
  return s;
}

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
[[nodiscard]] inline DoubleQuantLut4 pack_lut4_double_quant(TensorView<const float, 2> w,
                                                            std::size_t group,
                                                            const Lut4Codebook& levels,
                                                            std::size_t super_group = 256) {
  Lut4Matrix q = pack_lut4(w, group, levels);
  const std::size_t groups = q.cols() / group;
  std::vector<float> s(q.rows() * groups);
  for (std::size_t r = 0; r < q.rows(); ++r)
    for (std::size_t g = 0; g < groups; ++g) s[r * groups + g] = q.scale(r, g);
  DoubleQuantLut4 out{std::move(q), double_quantize_scales(s, super_group)};
  for (std::size_t r = 0; r < out.matrix.rows(); ++r)
    for (std::size_t g = 0; g < groups; ++g) {
      const float sc = out.scales.scale(r * groups + g);
      out.matrix.set_scale(r, g, sc);
      const float inv = sc != 0 ? 1.0f / sc : 0.0f;
      for (std::size_t c = g * group; c < (g + 1) * group; ++c)
        out.matrix.set_code(r, c, nearest_lut4_level(levels, w(r, c) * inv));
    }
  return out;
}

/// NF4 with double-quantized scales (QLoRA's storage format up to the 8-bit scale grid).
[[nodiscard]] inline DoubleQuantLut4 pack_nf4_double_quant(TensorView<const float, 2> w,
                                                           std::size_t group = 64,
                                                           std::size_t super_group = 256) {
  return pack_lut4_double_quant(w, group, Nf4::levels(), super_group);
}

}  // namespace pare
