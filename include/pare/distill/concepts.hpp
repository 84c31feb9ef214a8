// SPDX-License-Identifier: Apache-2.0
// pare — what a distillation loss promises. A user's struct that satisfies `DistillLoss` composes
// with the built-in losses (`0.5 * MyLoss{} + SoftKL{}`) and trains the same way.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "pare/core/tensor.hpp"

namespace pare {

/// Everything a distillation loss may look at for one batch of N rows. A loss reads the fields
/// it needs and throws ShapeError naming the field when one is missing or has the wrong shape;
/// unused fields stay empty. Views, not copies: the tensors must outlive the call.
///
///   pare::DistillBatch b{.student_logits = s, .teacher_logits = t, .labels = y};
struct DistillBatch {
  TensorView<const float, 2> student_logits{};    ///< [N, C]
  TensorView<const float, 2> teacher_logits{};    ///< [N, C]
  TensorView<const std::int32_t, 1> labels{};     ///< [N], ground-truth classes in [0, C)
  TensorView<const float, 2> student_features{};  ///< [N, Ds], e.g. a hidden layer's output
  TensorView<const float, 2> teacher_features{};  ///< [N, Dt]
  /// [N] non-negative row weights, usually 1 for real and 0 for padded positions; empty means all
  /// rows count 1. Every loss averages over Σ mask instead of N (a fully masked batch gives 0).
  TensorView<const float, 1> mask{};

  /// Number of rows: the first dimension of whichever student tensor is present.
  [[nodiscard]] std::size_t rows() const noexcept {
    return student_logits.empty() ? student_features.extent(0) : student_logits.extent(0);
  }
};

/// Where a loss adds its gradient: wrt the student's logits and wrt the student's features, each
/// the shape of the matching DistillBatch field. An empty view means "not wanted": the loss then
/// skips that gradient (and, for a loss with parameters, theirs).
struct DistillGrad {
  TensorView<float, 2> logits{};
  TensorView<float, 2> features{};
};

/// One trainable tensor of a loss (a projector's weight) and its gradient. It converts to
/// pare::Parameter — and to any aggregate of two spans {value, grad} — so the parameters of a loss
/// go straight into the nn/ optimizers without distill/ depending on nn/.
struct LossParameter {
  std::span<float> value;
  std::span<float> grad;

  template <class P>
    requires(std::is_aggregate_v<P> && !std::is_same_v<P, LossParameter> &&
             requires(std::span<float> s) { P{s, s}; })
  operator P() const {  // NOLINT(google-explicit-constructor): by design, see above
    return P{value, grad};
  }
};

namespace detail {
/// Stands for any callable a loss must accept in `for_each_parameter`.
struct LossParameterVisitorArchetype {
  void operator()(const LossParameter&) const noexcept {}
};
}  // namespace detail

/// A distillation loss over a batch.
///
/// `l.accumulate(batch, scale, grad)` returns the loss value L (a mean over the batch's rows, or
/// over Σ mask) and *adds* scale · ∂L/∂(student tensor) into each non-empty view of `grad`. The
/// scale is how composition works without temporaries: `0.3 * A{} + B{}` calls
/// `a.accumulate(b, 0.3 * s, g)` and `b.accumulate(b, s, g)` on the same `g`. It throws
/// ShapeError / ArgumentError on bad input, before touching `grad`.
template <class L>
concept DistillLoss = requires(L& l, const DistillBatch& batch, float scale, const DistillGrad& g) {
  { l.accumulate(batch, scale, g) } -> std::convertible_to<float>;
};

/// An empty base class for a loss written outside namespace pare. Deriving from it makes
/// namespace pare an associated namespace of the loss type, so argument-dependent lookup finds
/// the composition operators (`w * loss`, `a + b`, `a - b`, distill/compose.hpp) wherever the
/// expression is written, with no `using` declaration:
///
///   namespace my {
///   struct ConfidencePenalty : pare::ComposableLoss {
///     float accumulate(const pare::DistillBatch& b, float scale, const pare::DistillGrad& g)
///     const;
///   };
///   }  // namespace my
///   auto loss = 0.5 * pare::SoftKL{.temperature = 4} + 0.5 * my::ConfidencePenalty{};
///
/// Without it, `0.5 * my::Loss{}` alone finds no operator (a double brings no namespace), unless
/// `using pare::operator*;` is in scope. The base adds no member and no size. Note: with a base
/// class, an aggregate is still initialized with braces (`my::Loss{}`, `my::Loss{{}, 0.1f}`),
/// but GCC's -Wmissing-field-initializers (in -Wextra) warns about designated initializers
/// (`my::Loss{.beta = 0.1f}`) that cannot name the base; give such members default values and
/// set them after construction, or use positional braces.
struct ComposableLoss {};

/// A loss with trainable parameters (FitNets' projector): it visits them as nn layers do, adding
/// scale · ∂L/∂θ to their gradients in `accumulate` whenever it computes a student gradient.
template <class L>
concept DistillLossWithParameters =
    DistillLoss<L> &&
    requires(L& l, detail::LossParameterVisitorArchetype visit) { l.for_each_parameter(visit); };

}  // namespace pare
