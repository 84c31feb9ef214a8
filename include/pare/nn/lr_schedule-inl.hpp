// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/lr_schedule.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>

#include "pare/core/error.hpp"
#include "pare/nn/lr_schedule.hpp"

namespace pare {

PARE_INLINE float StepLr::operator()(std::size_t t) const {
  PARE_CHECK(step_size > 0, ArgumentError, "StepLr: step_size must be positive");
  return static_cast<float>(
      static_cast<double>(base_lr) *
      std::pow(static_cast<double>(gamma), static_cast<double>(t / step_size)));
}

PARE_INLINE float CosineAnnealing::operator()(std::size_t t) const {
  PARE_CHECK(t_max > 0, ArgumentError, "CosineAnnealing: t_max must be positive");
  const double base = base_lr;
  if (t < warmup) {
    const double f = warmup_start_factor + (1.0 - warmup_start_factor) * static_cast<double>(t) /
                                               static_cast<double>(warmup);
    return static_cast<float>(base * f);
  }
  const double tc = static_cast<double>(std::min(t - warmup, t_max));
  const double c = (1.0 + std::cos(std::numbers::pi * tc / static_cast<double>(t_max))) / 2.0;
  return static_cast<float>(eta_min + (base - eta_min) * c);
}

}  // namespace pare
