// SPDX-License-Identifier: Apache-2.0
// pare — definitions for prune/mask.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "pare/core/error.hpp"
#include "pare/prune/mask.hpp"

namespace pare {

PARE_INLINE void apply_mask(TensorView<float, 2> weights, TensorView<const std::uint8_t, 2> mask) {
  check_same_shape(weights.extents(), mask.extents(), "apply_mask (weights vs mask)");
  for (std::size_t r = 0; r < weights.extent(0); ++r)
    for (std::size_t c = 0; c < weights.extent(1); ++c)
      if (!mask(r, c)) weights(r, c) = 0.0f;
}

PARE_INLINE std::size_t count_kept(TensorView<const std::uint8_t, 2> mask) noexcept {
  std::size_t n = 0;
  for (std::size_t r = 0; r < mask.extent(0); ++r)
    for (std::size_t c = 0; c < mask.extent(1); ++c) n += mask(r, c) != 0;
  return n;
}

PARE_INLINE double sparsity(TensorView<const std::uint8_t, 2> mask) noexcept {
  const std::size_t n = mask.size();
  return n ? 1.0 - static_cast<double>(count_kept(mask)) / static_cast<double>(n) : 0.0;
}

PARE_INLINE double sparsity(TensorView<const float, 2> weights) noexcept {
  std::size_t zeros = 0;
  for (std::size_t r = 0; r < weights.extent(0); ++r)
    for (std::size_t c = 0; c < weights.extent(1); ++c) zeros += weights(r, c) == 0.0f;
  const std::size_t n = weights.size();
  return n ? static_cast<double>(zeros) / static_cast<double>(n) : 0.0;
}

PARE_INLINE Mask nonzero_mask(TensorView<const float, 2> weights) {
  Mask m(weights.extents());
  for (std::size_t r = 0; r < weights.extent(0); ++r)
    for (std::size_t c = 0; c < weights.extent(1); ++c) m(r, c) = weights(r, c) != 0.0f;
  return m;
}

PARE_INLINE Mask intersect(TensorView<const std::uint8_t, 2> a,
                           TensorView<const std::uint8_t, 2> b) {
  check_same_shape(a.extents(), b.extents(), "intersect (mask vs mask)");
  Mask m(a.extents());
  for (std::size_t r = 0; r < a.extent(0); ++r)
    for (std::size_t c = 0; c < a.extent(1); ++c) m(r, c) = a(r, c) && b(r, c);
  return m;
}

PARE_INLINE std::size_t prune_count(double amount, std::size_t n) {
  PARE_CHECK(amount >= 0.0 && amount <= 1.0, ArgumentError,
             "pruning amount must be in [0, 1], got ", amount);
  return static_cast<std::size_t>(std::nearbyint(amount * static_cast<double>(n)));
}

}  // namespace pare
