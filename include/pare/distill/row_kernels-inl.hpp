// SPDX-License-Identifier: Apache-2.0
// pare — definitions for distill/row_kernels.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/distill/row_kernels.hpp"

namespace pare::kernels::reference {

PARE_INLINE RowShift row_log_softmax_shift(const float* x, std::size_t n, float inv_t) noexcept {
  double m = x[0];
  for (std::size_t i = 1; i < n; ++i) m = std::max(m, static_cast<double>(x[i]));
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += std::exp((x[i] - m) * inv_t);
  return {static_cast<float>(m), static_cast<float>(std::log(s))};
}

PARE_INLINE float smoothed_cross_entropy_row(const float* s, std::size_t n, std::size_t label,
                                             float smoothing, float grad_scale, float* grad) {
  double m = s[0];
  for (std::size_t i = 1; i < n; ++i) m = std::max(m, static_cast<double>(s[i]));
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += std::exp(s[i] - m);
  const double log_sum = std::log(sum);
  double value = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double lp = (s[i] - m) - log_sum;
    const double q = smoothing / static_cast<double>(n) + (i == label ? 1.0 - smoothing : 0.0);
    value -= q * lp;
    if (grad) grad[i] = static_cast<float>(grad[i] + grad_scale * (std::exp(lp) - q));
  }
  return static_cast<float>(value);
}

}  // namespace pare::kernels::reference
