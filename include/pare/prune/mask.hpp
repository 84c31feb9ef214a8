// SPDX-License-Identifier: Apache-2.0
// pare — pruning masks: one byte per weight, 1 = keep, 0 = pruned.
//
// A byte per weight (not a bit) because masks are built, combined and applied far less often than
// weights are read, and bytes index like the weights they describe. The sparse formats in
// pare/sparse/ turn a mask into compact storage when the model is packed for inference.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"

namespace pare {

/// Which weights of a matrix survive pruning: 1 = keep, 0 = pruned; same shape as the weights.
using Mask = Tensor<std::uint8_t, 2>;

/// A mask that keeps every weight of a [rows, cols] matrix.
[[nodiscard]] inline Mask dense_mask(std::size_t rows, std::size_t cols) {
  return Mask({rows, cols}, std::uint8_t{1});
}

/// Sets the pruned weights to zero.
/// @pre mask and weights have the same shape
inline void apply_mask(TensorView<float, 2> weights, TensorView<const std::uint8_t, 2> mask) {
  check_same_shape(weights.extents(), mask.extents(), "apply_mask (weights vs mask)");
  for (std::size_t r = 0; r < weights.extent(0); ++r)
    for (std::size_t c = 0; c < weights.extent(1); ++c)
      if (!mask(r, c)) weights(r, c) = 0.0f;
}

/// Number of weights the mask keeps.
[[nodiscard]] inline std::size_t count_kept(TensorView<const std::uint8_t, 2> mask) noexcept {
  std::size_t n = 0;
  for (std::size_t r = 0; r < mask.extent(0); ++r)
    for (std::size_t c = 0; c < mask.extent(1); ++c) n += mask(r, c) != 0;
  return n;
}

/// Fraction of pruned entries, in [0, 1] (0 for an empty mask).
[[nodiscard]] inline double sparsity(TensorView<const std::uint8_t, 2> mask) noexcept {
  const std::size_t n = mask.size();
  return n ? 1.0 - static_cast<double>(count_kept(mask)) / static_cast<double>(n) : 0.0;
}

/// Fraction of exactly-zero weights, in [0, 1].
[[nodiscard]] inline double sparsity(TensorView<const float, 2> weights) noexcept {
  std::size_t zeros = 0;
  for (std::size_t r = 0; r < weights.extent(0); ++r)
    for (std::size_t c = 0; c < weights.extent(1); ++c) zeros += weights(r, c) == 0.0f;
  const std::size_t n = weights.size();
  return n ? static_cast<double>(zeros) / static_cast<double>(n) : 0.0;
}

/// The mask of the non-zero weights (what a weight matrix pruned earlier still keeps).
[[nodiscard]] inline Mask nonzero_mask(TensorView<const float, 2> weights) {
  Mask m(weights.extents());
  for (std::size_t r = 0; r < weights.extent(0); ++r)
    for (std::size_t c = 0; c < weights.extent(1); ++c) m(r, c) = weights(r, c) != 0.0f;
  return m;
}

/// Elementwise AND: kept only where both masks keep (pruning on top of an earlier mask).
/// @pre same shapes
[[nodiscard]] inline Mask intersect(TensorView<const std::uint8_t, 2> a,
                                    TensorView<const std::uint8_t, 2> b) {
  check_same_shape(a.extents(), b.extents(), "intersect (mask vs mask)");
  Mask m(a.extents());
  for (std::size_t r = 0; r < a.extent(0); ++r)
    for (std::size_t c = 0; c < a.extent(1); ++c) m(r, c) = a(r, c) && b(r, c);
  return m;
}

/// How many of `n` items a fraction `amount` prunes: round(amount · n) with ties to even, as
/// Python's round() and therefore torch.nn.utils.prune count.
/// @pre 0 <= amount <= 1
[[nodiscard]] inline std::size_t prune_count(double amount, std::size_t n) {
  PARE_CHECK(amount >= 0.0 && amount <= 1.0, ArgumentError,
             "pruning amount must be in [0, 1], got ", amount);
  return static_cast<std::size_t>(std::nearbyint(amount * static_cast<double>(n)));
}

}  // namespace pare
