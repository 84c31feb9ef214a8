// SPDX-License-Identifier: Apache-2.0
// pare — definitions for quant/double_quant.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/quant/double_quant.hpp"

namespace pare {

PARE_INLINE DoubleQuantScales double_quantize_scales(std::span<const float> scales,
                                                     std::size_t super_group) {
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

PARE_INLINE std::vector<float> dequantize(const DoubleQuantScales& dq) {
  std::vector<float> s(dq.size());
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = dq.scale(i);
  return s;
}

PARE_INLINE DoubleQuantLut4 pack_lut4_double_quant(TensorView<const float, 2> w, std::size_t group,
                                                   const Lut4Codebook& levels,
                                                   std::size_t super_group) {
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

}  // namespace pare
