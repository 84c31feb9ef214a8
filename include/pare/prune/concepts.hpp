// SPDX-License-Identifier: Apache-2.0
// pare — what pruning policies promise. A pruner is criterion × pattern × scope (pruner.hpp); a
// schedule says when and how far to prune. A user's struct that satisfies one of these concepts
// works everywhere the built-in ones do (examples/custom_pruner.cpp writes a criterion).
#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <vector>

#include "pare/core/shape.hpp"
#include "pare/core/tensor.hpp"
#include "pare/prune/mask.hpp"

namespace pare {

/// Everything a criterion may look at for one weight matrix W [out, in] (a Linear's layout; a
/// convolution's weights viewed as [out, in·kh·kw]). Only `weights` is required; a criterion that
/// needs more checks that its field is non-empty and throws ArgumentError otherwise.
struct PruneContext {
  TensorView<const float, 2> weights;
  /// ‖X_j‖₂ of each input feature over calibration samples, [in] (Wanda); see input_norms().
  TensorView<const float, 1> input_norms{};
  /// dL/dW, [out, in] (first-order Taylor; movement when `accumulated` is empty).
  TensorView<const float, 2> grad{};
  /// A score accumulated during training, [out, in]: −Σₜ Wₜ ⊙ Gₜ for movement pruning (see
  /// accumulate_movement in criteria.hpp).
  TensorView<const float, 2> accumulated{};
  /// Diagonal of the Hessian of the loss wrt W, or the empirical Fisher E[g²], [out, in] (OBD).
  TensorView<const float, 2> hessian_diag{};
  /// A mask from an earlier pruning round; what it pruned stays pruned (empty: none).
  TensorView<const std::uint8_t, 2> previous{};
};

/// Scores the weights of one matrix: a higher score means more important, kept longer.
///
/// - `c.score(ctx)` returns a tensor of W's shape; it must not depend on anything but `ctx` and
///   the criterion's own fields (so the same inputs give the same scores). Scores may tie; the
///   patterns then prune the earlier (row-major) index first.
template <class C>
concept PruningCriterion = requires(const C& c, const PruneContext& ctx) {
  { c.score(ctx) } -> std::same_as<Tensor<float, 2>>;
};

/// The name DESIGN.md uses for the same contract.
template <class C>
concept PruneCriterion = PruningCriterion<C>;

/// Whether a criterion reads PruneContext::input_norms (calibration activations). A criterion
/// says so with `static constexpr bool needs_input_norms = true;` (Wanda does), so that one-call
/// deployment without calibration inputs is refused when it compiles, not when it runs.
template <class C>
inline constexpr bool needs_input_norms = requires { requires C::needs_input_norms; };

/// Whether a criterion reads a training signal — PruneContext::grad, accumulated or hessian_diag
/// (Taylor, Movement, Obd) — which calibration inputs alone cannot give. Declared with
/// `static constexpr bool needs_training_signal = true;`.
template <class C>
inline constexpr bool needs_training_signal = requires { requires C::needs_training_signal; };

/// Turns scores into a mask of a given structure.
///
/// - `p.mask(scores, sparsity)` keeps the higher-scoring weights and returns a mask of the scores'
///   shape. `sparsity` in [0, 1] is the fraction of the pattern's prunable groups to prune; a
///   pattern whose sparsity is fixed by its structure (N:M) ignores it.
template <class P>
concept SparsityPattern = requires(const P& p, TensorView<const float, 2> scores, double sparsity) {
  { p.mask(scores, sparsity) } -> std::same_as<Mask>;
};

/// A pattern whose mask is a choice of independent groups (an element, a block, a channel), so
/// that groups of several layers can compete in one global ranking (GlobalScope). N:M and
/// per-row patterns fix a count per row instead, so they are not grouped patterns.
///
/// - `p.group_scores(scores)` — one score per group, in a fixed order;
/// - `p.group_sizes(shape)` — the number of weights in each group, same order;
/// - `p.expand(keep, shape)` — the mask that keeps exactly the groups with keep[g] != 0.
template <class P>
concept GroupedPattern =
    SparsityPattern<P> && requires(const P& p, TensorView<const float, 2> scores, Shape<2> shape,
                                   std::span<const std::uint8_t> keep) {
      { p.group_scores(scores) } -> std::same_as<std::vector<float>>;
      { p.group_sizes(shape) } -> std::same_as<std::vector<std::size_t>>;
      { p.expand(keep, shape) } -> std::same_as<Mask>;
    };

/// When to prune and to what sparsity, by training step.
///
/// - `s.prunes_at(step)` — whether masks are recomputed at this step;
/// - `s.sparsity(step)` — the target sparsity in [0, 1] in force after this step (non-decreasing).
template <class S>
concept PruneSchedule = requires(const S& s, std::size_t step) {
  { s.prunes_at(step) } -> std::same_as<bool>;
  { s.sparsity(step) } -> std::convertible_to<double>;
};

}  // namespace pare
