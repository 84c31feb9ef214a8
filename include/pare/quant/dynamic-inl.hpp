// SPDX-License-Identifier: Apache-2.0
// pare — definitions for quant/dynamic.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "pare/core/parallel.hpp"
#include "pare/quant/dynamic.hpp"
#include "pare/quant/dynamic_kernels.hpp"
#include "pare/simd/dispatch.hpp"

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
  if constexpr (simd::has_simd) {
    if (!reference) {
      simd::dispatch([&](auto arch) { kernels::MinMax{}(arch, x, n, lo, hi); });
      return;
    }
  }
  kernels::minmax_reference(x, n, lo, hi);
}

// One row's codes: the vector kernel, or the scalar reference.
template <class Code>
inline void quantize_row(const float* x, std::size_t n, float inv, std::int32_t zero_point,
                         std::int32_t qmin, std::int32_t qmax, Code* q, bool reference) noexcept {
  if constexpr (simd::has_simd) {
    if (!reference) {
      simd::dispatch(
          [&](auto arch) { kernels::QuantizeRow{}(arch, x, n, inv, zero_point, qmin, qmax, q); });
      return;
    }
  }
  kernels::quantize_row_reference(x, n, inv, zero_point, qmin, qmax, q);
}

// Floats one task of a row quantization takes at least (two passes: tens of µs).
inline constexpr std::size_t quantize_task_floats = std::size_t{1} << 16;
}  // namespace detail

PARE_INLINE void quantize_rows_u8(const float* x, std::size_t rows, std::size_t cols,
                                  std::size_t ldx, std::uint8_t* q, std::size_t ldq, float* scales,
                                  std::int32_t* zeros, bool reference) noexcept {
  // Rows in parallel, each quantized whole by one task: the codes do not depend on the cut.
  parallel_for(0, rows, detail::quantize_task_floats / (cols > 0 ? cols : 1) + 1,
               [&](std::size_t lo_row, std::size_t hi_row) {
                 for (std::size_t r = lo_row; r < hi_row; ++r) {
                   const float* xr = x + r * ldx;
                   float lo = 0, hi = 0;
                   detail::row_minmax(xr, cols, reference, lo, hi);
                   const QuantParams p = choose_u8_params(lo, hi);
                   scales[r] = p.scale;
                   zeros[r] = p.zero_point;
                   detail::quantize_row(xr, cols, 1.0f / p.scale, p.zero_point, 0, 255, q + r * ldq,
                                        reference);
                 }
               });
}

PARE_INLINE void quantize_rows_u8(const float* x, std::size_t rows, std::size_t cols,
                                  std::size_t ldx, QuantParams params, std::uint8_t* q,
                                  std::size_t ldq, bool reference) noexcept {
  const float inv = 1.0f / params.scale;
  parallel_for(0, rows, detail::quantize_task_floats / (cols > 0 ? cols : 1) + 1,
               [&](std::size_t lo_row, std::size_t hi_row) {
                 for (std::size_t r = lo_row; r < hi_row; ++r)
                   detail::quantize_row(x + r * ldx, cols, inv, params.zero_point, 0, 255,
                                        q + r * ldq, reference);
               });
}

PARE_INLINE void quantize_rows_s8(const float* x, std::size_t rows, std::size_t cols,
                                  std::size_t ldx, std::int8_t* q, std::size_t ldq, float* scales,
                                  bool reference) noexcept {
  parallel_for(0, rows, detail::quantize_task_floats / (cols > 0 ? cols : 1) + 1,
               [&](std::size_t lo_row, std::size_t hi_row) {
                 for (std::size_t r = lo_row; r < hi_row; ++r) {
                   const float* xr = x + r * ldx;
                   float lo = 0, hi = 0;
                   detail::row_minmax(xr, cols, reference, lo, hi);
                   const float scale = choose_s8_scale(std::max(-lo, hi));
                   scales[r] = scale;
                   detail::quantize_row(xr, cols, 1.0f / scale, 0, -127, 127, q + r * ldq,
                                        reference);
                 }
               });
}

}  // namespace pare
