// SPDX-License-Identifier: Apache-2.0
// pare — definitions for quant/dynamic.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "pare/quant/dynamic.hpp"
#include "pare/quant/dynamic_kernels.hpp"

namespace pare {

PARE_INLINE QuantParams choose_u8_params(float lo, float hi) noexcept {
  constexpr float small_scale = 6.1e-5f;
  constexpr int qmin = 0, qmax = 255;
  float mn = std::min(lo, 0.0f), mx = std::max(hi, 0.0f);
  double scale = static_cast<double>(mx - mn) / (qmax - qmin);
  if (static_cast<float>(scale) == 0.0f || std::isinf(1.0f / static_cast<float>(scale)))
    scale = 0.1;
  if (scale < small_scale) {
    const float org = static_cast<float>(scale);
    scale = small_scale;
    if (mn == 0.0f) {
      mx = small_scale * (qmax - qmin);
    } else if (mx == 0.0f) {
      mn = -small_scale * (qmax - qmin);
    } else {
      const float amp = small_scale / org;
      mn *= amp;
      mx *= amp;
    }
  }
  const double from_min = qmin - mn / scale, from_max = qmax - mx / scale;
  const double err_min = std::abs(qmin) + std::abs(mn / scale);
  const double err_max = std::abs(qmax) + std::abs(mx / scale);
  const double zp = err_min < err_max ? from_min : from_max;
  std::int32_t nudged = 0;
  if (!(zp >= qmin))  // also a NaN from a non-finite row: defined codes, never UB
    nudged = qmin;
  else if (zp > qmax)
    nudged = qmax;
  else
    nudged = static_cast<std::int32_t>(std::nearbyint(zp));
  return {static_cast<float>(scale), nudged};
}

namespace detail {
// A row's range for its quantization parameters: the vector kernel, or the scalar reference
// the tests compare it with (and the only path without SIMD).
inline void row_minmax(const float* x, std::size_t n, bool reference, float& lo,
                       float& hi) noexcept {
  if (reference || !simd::has_simd)
    kernels::minmax_reference(x, n, lo, hi);
  else
    run_on_default_arch(kernels::MinMax{}, x, n, lo, hi);
}
}  // namespace detail

PARE_INLINE void quantize_rows_u8(const float* x, std::size_t rows, std::size_t cols,
                                  std::size_t ldx, std::uint8_t* q, std::size_t ldq, float* scales,
                                  std::int32_t* zeros, bool reference) noexcept {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    float lo = 0, hi = 0;
    detail::row_minmax(xr, cols, reference, lo, hi);
    const QuantParams p = choose_u8_params(lo, hi);
    scales[r] = p.scale;
    zeros[r] = p.zero_point;
    const float inv = 1.0f / p.scale;
    if (reference || !simd::has_simd)
      kernels::quantize_row_reference(xr, cols, inv, p.zero_point, 0, 255, q + r * ldq);
    else
      detail::run_on_default_arch(kernels::QuantizeRow{}, xr, cols, inv, p.zero_point,
                                  std::int32_t{0}, std::int32_t{255}, q + r * ldq);
  }
}

PARE_INLINE void quantize_rows_u8(const float* x, std::size_t rows, std::size_t cols,
                                  std::size_t ldx, QuantParams params, std::uint8_t* q,
                                  std::size_t ldq, bool reference) noexcept {
  const float inv = 1.0f / params.scale;
  for (std::size_t r = 0; r < rows; ++r) {
    if (reference || !simd::has_simd)
      kernels::quantize_row_reference(x + r * ldx, cols, inv, params.zero_point, 0, 255,
                                      q + r * ldq);
    else
      detail::run_on_default_arch(kernels::QuantizeRow{}, x + r * ldx, cols, inv, params.zero_point,
                                  std::int32_t{0}, std::int32_t{255}, q + r * ldq);
  }
}

PARE_INLINE void quantize_rows_s8(const float* x, std::size_t rows, std::size_t cols,
                                  std::size_t ldx, std::int8_t* q, std::size_t ldq, float* scales,
                                  bool reference) noexcept {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    float lo = 0, hi = 0;
    detail::row_minmax(xr, cols, reference, lo, hi);
    const float scale = choose_s8_scale(std::max(-lo, hi));
    scales[r] = scale;
    const float inv = 1.0f / scale;
    if (reference || !simd::has_simd)
      kernels::quantize_row_reference(xr, cols, inv, 0, -127, 127, q + r * ldq);
    else
      detail::run_on_default_arch(kernels::QuantizeRow{}, xr, cols, inv, std::int32_t{0},
                                  std::int32_t{-127}, std::int32_t{127}, q + r * ldq);
  }
}

}  // namespace pare
