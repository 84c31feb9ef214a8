// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/init.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cmath>
#include <cstddef>
#include <span>

#include "pare/core/error.hpp"
#include "pare/nn/init.hpp"

namespace pare {

PARE_INLINE void uniform(std::span<float> values, float bound, Rng& rng) noexcept {
  for (float& v : values) v = rng.uniform(-bound, bound);
}

PARE_INLINE void kaiming_uniform(std::span<float> values, std::size_t fan_in, Rng& rng, float a) {
  PARE_CHECK(fan_in > 0, ArgumentError, "kaiming_uniform: fan_in must be positive");
  const float gain = std::sqrt(2.0f / (1.0f + a * a));
  uniform(values, gain * std::sqrt(3.0f / static_cast<float>(fan_in)), rng);
}

}  // namespace pare
