// SPDX-License-Identifier: Apache-2.0
// pare — pruning criteria: how important each weight is.
//
// When to use which:
// - `Magnitude` (|w|, the L1 criterion): the default; no data needed. Good at moderate sparsity
//   with fine-tuning afterwards.
// - `L2` (w²): the same ranking as Magnitude for single weights; summed over a group by a
//   structured pattern it ranks channels/blocks by their L2 norm.
// - `Random` (seeded): a baseline that tells how much a smarter criterion buys.
// - `Wanda` (|W_ij|·‖X_j‖₂): needs the input norms from a few calibration batches, no gradients;
//   much better than magnitude without retraining, especially when input features have very
//   different scales. Pair it with `PerRow` or `NM` (the paper compares weights per output).
// - `Movement` (−Σₜ Wₜ·Gₜ): for pruning *during* fine-tuning; keeps the weights moving away
//   from zero. Needs a score accumulated over training steps.
// - `Taylor` (|W·G|): first-order estimate of the loss change from removing a weight; needs
//   gradients over a few batches.
// - `Obd` (½·H_ii·w²): Optimal Brain Damage, second order with a diagonal Hessian; the empirical
//   Fisher E[g²] is the usual stand-in. For the full-Hessian version with weight updates
//   (OBS/SparseGPT) see sparsegpt.hpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/prune/concepts.hpp"

namespace pare {

/// |w| — torch.nn.utils.prune.l1_unstructured's importance.
struct Magnitude {
  [[nodiscard]] Tensor<float, 2> score(const PruneContext& ctx) const;
};
static_assert(PruningCriterion<Magnitude>);

/// w² — summed over a group by Block or Channel, the group's squared L2 norm.
struct L2 {
  [[nodiscard]] Tensor<float, 2> score(const PruneContext& ctx) const;
};
static_assert(PruningCriterion<L2>);

/// Uniform random scores from pare::Rng(seed): every subset of the pruned size is equally likely.
/// The same seed and shape give the same mask on every platform.
struct Random {
  std::uint64_t seed = 0x5eed;
  [[nodiscard]] Tensor<float, 2> score(const PruneContext& ctx) const;
};
static_assert(PruningCriterion<Random>);

/// ‖X_j‖₂ of each column of a batch of layer inputs X [N, in] (Wanda's activation statistic).
/// For several batches, pass them as one X, or combine norms as √(Σ norms²).
[[nodiscard]] Tensor<float, 1> input_norms(TensorView<const float, 2> x);

/// Wanda (Sun et al. 2023): |W_ij| · ‖X_j‖₂, from PruneContext::input_norms.
struct Wanda {
  static constexpr bool needs_input_norms = true;
  [[nodiscard]] Tensor<float, 2> score(const PruneContext& ctx) const;
};
static_assert(PruningCriterion<Wanda>);
static_assert(needs_input_norms<Wanda> && !needs_input_norms<Magnitude>);

/// Adds −W ⊙ G to a movement score (call after each backward, before the optimizer step).
void accumulate_movement(TensorView<float, 2> acc, TensorView<const float, 2> weights,
                         TensorView<const float, 2> grad);

/// Movement pruning (Sanh et al. 2020): S = −Σₜ Wₜ·Gₜ from PruneContext::accumulated; with only a
/// gradient, the one-step score −W·G.
struct Movement {
  static constexpr bool needs_training_signal = true;
  [[nodiscard]] Tensor<float, 2> score(const PruneContext& ctx) const;
};
static_assert(PruningCriterion<Movement>);

/// First-order Taylor (Molchanov et al.): |W·G|, the loss change a first-order expansion predicts
/// for setting the weight to zero. Pass a gradient summed over several batches.
struct Taylor {
  static constexpr bool needs_training_signal = true;
  [[nodiscard]] Tensor<float, 2> score(const PruneContext& ctx) const;
};
static_assert(PruningCriterion<Taylor>);

/// Adds `scale`·G² to an empirical-Fisher estimate of the Hessian diagonal (call once per batch
/// with scale = 1 / batches).
void accumulate_fisher(TensorView<float, 2> acc, TensorView<const float, 2> grad,
                       float scale = 1.0f);

/// Optimal Brain Damage (LeCun et al. 1990): saliency ½·H_ii·w² from PruneContext::hessian_diag.
struct Obd {
  static constexpr bool needs_training_signal = true;
  [[nodiscard]] Tensor<float, 2> score(const PruneContext& ctx) const;
};
static_assert(PruningCriterion<Obd>);
static_assert(needs_training_signal<Obd> && !needs_training_signal<Wanda>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/prune/criteria-inl.hpp"
#endif
