// SPDX-License-Identifier: Apache-2.0
// pare — definitions for prune/schedule.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "pare/core/error.hpp"
#include "pare/prune/schedule.hpp"

namespace pare {

PARE_INLINE bool Polynomial::prunes_at(std::size_t t) const {
  check();
  return t >= begin && t <= end && ((t - begin) % frequency == 0 || t == end);
}

PARE_INLINE double Polynomial::sparsity(std::size_t t) const {
  check();
  if (t < begin) return 0.0;
  if (t >= end) return final;
  const std::size_t last = begin + (t - begin) / frequency * frequency;
  const double progress = static_cast<double>(last - begin) / static_cast<double>(end - begin);
  const double r = 1.0 - progress;
  return final + (initial - final) * r * r * r;
}

PARE_INLINE void Polynomial::check() const {
  PARE_CHECK(frequency > 0 && end > begin && initial >= 0.0 && final <= 1.0 && initial <= final,
             ArgumentError,
             "Polynomial schedule needs frequency > 0, end > begin and 0 <= "
             "initial <= final <= 1; got initial=",
             initial, " final=", final, " begin=", begin, " end=", end, " frequency=", frequency);
}

PARE_INLINE bool Iterative::prunes_at(std::size_t t) const {
  check();
  return t % steps_per_cycle == 0 && t / steps_per_cycle < cycles;
}

PARE_INLINE double Iterative::sparsity(std::size_t t) const {
  check();
  const std::size_t k = std::min(t / steps_per_cycle + 1, cycles);
  return 1.0 - std::pow(1.0 - final, static_cast<double>(k) / static_cast<double>(cycles));
}

PARE_INLINE void Iterative::check() const {
  PARE_CHECK(cycles > 0 && steps_per_cycle > 0 && final >= 0.0 && final <= 1.0, ArgumentError,
             "Iterative schedule needs cycles > 0, steps_per_cycle > 0 and 0 <= final <= 1");
}

}  // namespace pare
