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

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "pare/core/error.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/prune/concepts.hpp"

namespace pare {

namespace detail {
inline void check_context_field(bool present, Shape<2> got, Shape<2> want, const char* criterion,
                                const char* field) {
  PARE_CHECK(present, ArgumentError, criterion, " needs PruneContext::", field);
  PARE_CHECK(got == want, ShapeError, criterion, ": PruneContext::", field, " is ", to_string(got),
             " but the weights are ", to_string(want));
}

template <class F>
Tensor<float, 2> map_weights(const PruneContext& ctx, F f) {
  const auto& w = ctx.weights;
  Tensor<float, 2> s(w.extents());
  for (std::size_t r = 0; r < w.extent(0); ++r)
    for (std::size_t c = 0; c < w.extent(1); ++c) s(r, c) = f(r, c, w(r, c));
  return s;
}
}  // namespace detail

/// |w| — torch.nn.utils.prune.l1_unstructured's importance.
struct Magnitude {
  [[nodiscard]] Tensor<float, 2> score(const PruneContext& ctx) const {
    return detail::map_weights(ctx, [](std::size_t, std::size_t, float w) { return std::abs(w); });
  }
};
static_assert(PruningCriterion<Magnitude>);

/// w² — summed over a group by Block or Channel, the group's squared L2 norm.
struct L2 {
  [[nodiscard]] Tensor<float, 2> score(const PruneContext& ctx) const {
    return detail::map_weights(ctx, [](std::size_t, std::size_t, float w) { return w * w; });
  }
};
static_assert(PruningCriterion<L2>);

/// Uniform random scores from pare::Rng(seed): every subset of the pruned size is equally likely.
/// The same seed and shape give the same mask on every platform.
struct Random {
  std::uint64_t seed = 0x5eed;
  [[nodiscard]] Tensor<float, 2> score(const PruneContext& ctx) const {
    Rng rng(seed);
    return detail::map_weights(ctx, [&](std::size_t, std::size_t, float) { return rng.uniform(); });
  }
};
static_assert(PruningCriterion<Random>);

/// ‖X_j‖₂ of each column of a batch of layer inputs X [N, in] (Wanda's activation statistic).
/// For several batches, pass them as one X, or combine norms as √(Σ norms²).
[[nodiscard]] inline Tensor<float, 1> input_norms(TensorView<const float, 2> x) {
  Tensor<double, 1> sq({x.extent(1)});
  for (std::size_t n = 0; n < x.extent(0); ++n)
    for (std::size_t j = 0; j < x.extent(1); ++j)
      sq[j] += static_cast<double>(x(n, j)) * static_cast<double>(x(n, j));
  Tensor<float, 1> out({x.extent(1)});
  for (std::size_t j = 0; j < x.extent(1); ++j) out[j] = static_cast<float>(std::sqrt(sq[j]));
  return out;
}

/// Wanda (Sun et al. 2023): |W_ij| · ‖X_j‖₂, from PruneContext::input_norms.
struct Wanda {
  [[nodiscard]] Tensor<float, 2> score(const PruneContext& ctx) const {
    PARE_CHECK(ctx.input_norms.extent(0) == ctx.weights.extent(1) && !ctx.input_norms.empty(),
               ArgumentError, "Wanda needs PruneContext::input_norms with one norm per input (",
               ctx.weights.extent(1), "), got ", ctx.input_norms.extent(0));
    return detail::map_weights(
        ctx, [&](std::size_t, std::size_t c, float w) { return std::abs(w) * ctx.input_norms[c]; });
  }
};
static_assert(PruningCriterion<Wanda>);

/// Adds −W ⊙ G to a movement score (call after each backward, before the optimizer step).
inline void accumulate_movement(TensorView<float, 2> acc, TensorView<const float, 2> weights,
                                TensorView<const float, 2> grad) {
  check_same_shape(acc.extents(), weights.extents(), "accumulate_movement (score vs weights)");
  check_same_shape(grad.extents(), weights.extents(), "accumulate_movement (grad vs weights)");
  for (std::size_t r = 0; r < acc.extent(0); ++r)
    for (std::size_t c = 0; c < acc.extent(1); ++c) acc(r, c) -= weights(r, c) * grad(r, c);
}

/// Movement pruning (Sanh et al. 2020): S = −Σₜ Wₜ·Gₜ from PruneContext::accumulated; with only a
/// gradient, the one-step score −W·G.
struct Movement {
  [[nodiscard]] Tensor<float, 2> score(const PruneContext& ctx) const {
    if (!ctx.accumulated.empty()) {
      detail::check_context_field(true, ctx.accumulated.extents(), ctx.weights.extents(),
                                  "Movement", "accumulated");
      return detail::map_weights(
          ctx, [&](std::size_t r, std::size_t c, float) { return ctx.accumulated(r, c); });
    }
    detail::check_context_field(!ctx.grad.empty(), ctx.grad.extents(), ctx.weights.extents(),
                                "Movement", "grad (or accumulated)");
    return detail::map_weights(
        ctx, [&](std::size_t r, std::size_t c, float w) { return -w * ctx.grad(r, c); });
  }
};
static_assert(PruningCriterion<Movement>);

/// First-order Taylor (Molchanov et al.): |W·G|, the loss change a first-order expansion predicts
/// for setting the weight to zero. Pass a gradient summed over several batches.
struct Taylor {
  [[nodiscard]] Tensor<float, 2> score(const PruneContext& ctx) const {
    detail::check_context_field(!ctx.grad.empty(), ctx.grad.extents(), ctx.weights.extents(),
                                "Taylor", "grad");
    return detail::map_weights(
        ctx, [&](std::size_t r, std::size_t c, float w) { return std::abs(w * ctx.grad(r, c)); });
  }
};
static_assert(PruningCriterion<Taylor>);

/// Adds `scale`·G² to an empirical-Fisher estimate of the Hessian diagonal (call once per batch
/// with scale = 1 / batches).
inline void accumulate_fisher(TensorView<float, 2> acc, TensorView<const float, 2> grad,
                              float scale = 1.0f) {
  check_same_shape(acc.extents(), grad.extents(), "accumulate_fisher (estimate vs grad)");
  for (std::size_t r = 0; r < acc.extent(0); ++r)
    for (std::size_t c = 0; c < acc.extent(1); ++c) acc(r, c) += scale * grad(r, c) * grad(r, c);
}

/// Optimal Brain Damage (LeCun et al. 1990): saliency ½·H_ii·w² from PruneContext::hessian_diag.
struct Obd {
  [[nodiscard]] Tensor<float, 2> score(const PruneContext& ctx) const {
    detail::check_context_field(!ctx.hessian_diag.empty(), ctx.hessian_diag.extents(),
                                ctx.weights.extents(), "Obd", "hessian_diag");
    return detail::map_weights(ctx, [&](std::size_t r, std::size_t c, float w) {
      return 0.5f * ctx.hessian_diag(r, c) * w * w;
    });
  }
};
static_assert(PruningCriterion<Obd>);

}  // namespace pare
