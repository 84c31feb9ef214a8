// SPDX-License-Identifier: Apache-2.0
// pare — definitions for quant/fake_quant.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/quant/fake_quant.hpp"

namespace pare {

PARE_INLINE FakeQuantize::FakeQuantize(std::vector<QuantParams> per_channel, CodeRange codes)
    : params_(std::move(per_channel)), codes_(codes) {
  PARE_CHECK(!params_.empty(), ArgumentError, "FakeQuantize needs at least one parameter set");
}

PARE_INLINE void FakeQuantize::set_params(std::span<const QuantParams> p) {
  PARE_CHECK(p.size() == params_.size(), ArgumentError, "FakeQuantize::set_params: ", p.size(),
             " parameter sets, expected ", params_.size());
  std::copy(p.begin(), p.end(), params_.begin());
}

PARE_INLINE float lsq_initial_scale(std::span<const float> x, CodeRange codes) {
  double sum = 0;
  for (float v : x) sum += std::abs(v);
  const double mean = x.empty() ? 0.0 : sum / static_cast<double>(x.size());
  const double s = 2.0 * mean / std::sqrt(static_cast<double>(std::max(codes.qmax, 1)));
  return std::max(static_cast<float>(s), detail::scale_floor);
}

PARE_INLINE LearnedStepSize::LearnedStepSize(CodeRange codes, std::vector<float> scales,
                                             std::vector<float> zero_points, float grad_factor)
    : codes_(codes),
      scales_(std::move(scales)),
      zero_points_(std::move(zero_points)),
      grad_factor_(grad_factor) {
  PARE_CHECK(!scales_.empty(), ArgumentError, "LearnedStepSize needs at least one scale");
  if (zero_points_.empty()) zero_points_.assign(scales_.size(), 0.0f);
  PARE_CHECK(zero_points_.size() == scales_.size(), ArgumentError,
             "LearnedStepSize: ", scales_.size(), " scales but ", zero_points_.size(),
             " zero points");
  PARE_CHECK(codes.qmin < codes.qmax, ArgumentError, "LearnedStepSize: empty code range [",
             codes.qmin, ", ", codes.qmax, "]");
  scale_grad_.assign(scales_.size(), 0.0f);
  zero_point_grad_.assign(scales_.size(), 0.0f);
}

}  // namespace pare
