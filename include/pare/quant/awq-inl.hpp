// SPDX-License-Identifier: Apache-2.0
// pare — definitions for quant/awq.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/quant/awq.hpp"

namespace pare {

PARE_INLINE std::vector<float> mean_abs_per_channel(TensorView<const float, 2> x) {
  std::vector<double> sum(x.extent(1), 0.0);
  for (std::size_t n = 0; n < x.extent(0); ++n)
    for (std::size_t j = 0; j < sum.size(); ++j) {
      PARE_CHECK(std::isfinite(x(n, j)), ArgumentError, "AWQ: input (", n, ", ", j,
                 ") is not finite");
      sum[j] += std::abs(static_cast<double>(x(n, j)));
    }
  std::vector<float> m(sum.size());
  for (std::size_t j = 0; j < m.size(); ++j)
    m[j] = static_cast<float>(sum[j] / static_cast<double>(std::max<std::size_t>(x.extent(0), 1)));
  return m;
}

PARE_INLINE std::vector<float> awq_scales(std::span<const float> act_mean, float alpha) {
  std::vector<float> s(act_mean.size());
  float lo = std::numeric_limits<float>::infinity(), hi = 0;
  for (std::size_t j = 0; j < s.size(); ++j) {
    s[j] = std::max(std::pow(act_mean[j], alpha), 1e-4f);
    lo = std::min(lo, s[j]);
    hi = std::max(hi, s[j]);
  }
  const float norm = std::sqrt(hi * lo);
  for (float& v : s) v /= norm;
  return s;
}

}  // namespace pare
