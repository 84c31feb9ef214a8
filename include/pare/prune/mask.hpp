// SPDX-License-Identifier: Apache-2.0
// pare — pruning masks: one byte per weight, 1 = keep, 0 = pruned.
//
// A byte per weight (not a bit) because masks are built, combined and applied far less often than
// weights are read, and bytes index like the weights they describe. The sparse formats in
// pare/sparse/ turn a mask into compact storage when the model is packed for inference.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pare/core/config.hpp"
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
void apply_mask(TensorView<float, 2> weights, TensorView<const std::uint8_t, 2> mask);

/// Number of weights the mask keeps.
[[nodiscard]] std::size_t count_kept(TensorView<const std::uint8_t, 2> mask) noexcept;

/// Fraction of pruned entries, in [0, 1] (0 for an empty mask).
[[nodiscard]] double sparsity(TensorView<const std::uint8_t, 2> mask) noexcept;

/// Fraction of exactly-zero weights, in [0, 1].
[[nodiscard]] double sparsity(TensorView<const float, 2> weights) noexcept;

/// The mask of the non-zero weights (what a weight matrix pruned earlier still keeps).
[[nodiscard]] Mask nonzero_mask(TensorView<const float, 2> weights);

/// Elementwise AND: kept only where both masks keep (pruning on top of an earlier mask).
/// @pre same shapes
[[nodiscard]] Mask intersect(TensorView<const std::uint8_t, 2> a,
                             TensorView<const std::uint8_t, 2> b);

/// How many of `n` items a fraction `amount` prunes: round(amount · n) with ties to even, as
/// Python's round() and therefore torch.nn.utils.prune count.
/// @pre 0 <= amount <= 1
[[nodiscard]] std::size_t prune_count(double amount, std::size_t n);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/prune/mask-inl.hpp"
#endif
