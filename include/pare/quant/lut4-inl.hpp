// SPDX-License-Identifier: Apache-2.0
// pare — definitions for quant/lut4.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "pare/core/error.hpp"
#include "pare/quant/lut4.hpp"

namespace pare {

PARE_INLINE Lut4Matrix::Lut4Matrix(std::size_t rows, std::size_t cols, std::size_t group,
                                   const Lut4Codebook& levels)
    : rows_(rows), cols_(cols), group_(group), levels_(levels) {
  PARE_CHECK(group > 0 && group % lut4_chunk == 0, ArgumentError, "Lut4Matrix: group size ", group,
             " is not a positive multiple of ", lut4_chunk);
  PARE_CHECK(cols % group == 0, ArgumentError, "Lut4Matrix: ", cols,
             " columns are not a multiple of the group size ", group);
  codes_ = Tensor<std::uint8_t, 2>({rows, cols / 2}, 0);
  scales_ = Tensor<float, 2>({rows, cols / group}, 1.0f);
}

PARE_INLINE void check_lut4_codebook(const Lut4Codebook& levels) {
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

PARE_INLINE Lut4Matrix pack_lut4(TensorView<const float, 2> w, std::size_t group,
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

PARE_INLINE Tensor<float, 2> dequantize(const Lut4Matrix& q) {
  Tensor<float, 2> out({q.rows(), q.cols()});
  for (std::size_t r = 0; r < q.rows(); ++r)
    for (std::size_t c = 0; c < q.cols(); ++c) out(r, c) = q.value(r, c);
  return out;
}

}  // namespace pare
