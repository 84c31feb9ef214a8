// SPDX-License-Identifier: Apache-2.0
// pare — definitions for kernels/gemv_codes4.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/kernels/gemv_codes4.hpp"

namespace pare::kernels {

PARE_INLINE void Codes4Activations::quantize(const float* x, std::size_t cols, std::size_t group) {
  const std::size_t groups = cols / group;
  std::vector<std::int8_t> q(cols);
  scale.resize(groups);
  bias.resize(groups);
  sum.resize(groups);
  for (std::size_t g = 0; g < groups; ++g) {
    float m = 0, s = 0;
    for (std::size_t c = g * group; c < (g + 1) * group; ++c) {
      m = std::max(m, std::abs(x[c]));
      s += x[c];
    }
    const float inv = m > 0 ? 127.0f / m : 0.0f;
    std::int32_t codes = 0;
    for (std::size_t c = g * group; c < (g + 1) * group; ++c) {
      q[c] = static_cast<std::int8_t>(std::lrint(std::clamp(x[c] * inv, -127.0f, 127.0f)));
      codes += q[c];
    }
    scale[g] = m / 127.0f;
    bias[g] = -128.0f * scale[g] * static_cast<float>(codes);
    sum[g] = s;
  }
  lo.resize(cols / 2);
  hi.resize(cols / 2);
  for (std::size_t b = 0; b < cols / 128; ++b)
    for (std::size_t p = 0; p < 64; ++p) {
      const std::size_t c = 128 * b + 32 * (p / 16) + p % 16;
      lo[64 * b + p] = q[c];
      hi[64 * b + p] = q[c + 16];
    }
}

}  // namespace pare::kernels
