// SPDX-License-Identifier: Apache-2.0
// pare — compile-time composition of distillation losses, and the calls that evaluate one.
//
//   auto loss = 0.7 * pare::SoftKL{.temperature = 4} + 0.3 * pare::HardLabel{};
//   // decltype(loss) is Sum<Scaled<SoftKL>, Scaled<HardLabel>>: no virtual calls, no temporaries
//   auto mine = 0.5 * pare::SoftKL{} + 0.5 * my::Loss{};  // my::Loss : pare::ComposableLoss
//   auto [value, grad_logits, grad_features] = pare::loss_and_grad(loss, batch);
#pragma once

#include <type_traits>
#include <utility>

#include "pare/core/tensor.hpp"
#include "pare/distill/concepts.hpp"

namespace pare {

/// w · L: value w · L(batch), gradient w · ∂L. Made by `w * loss` or `loss * w`.
template <DistillLoss L>
struct Scaled {
  float weight = 1.0f;
  L loss;

  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g) {
    return weight * loss.accumulate(b, scale * weight, g);
  }
  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g) const
    requires DistillLoss<const L>
  {
    return weight * loss.accumulate(b, scale * weight, g);
  }
  template <class F>
    requires DistillLossWithParameters<L>
  void for_each_parameter(F&& f) {
    loss.for_each_parameter(f);
  }
};

/// A + B: value and gradient are the sums. Made by `a + b` (and `a - b` = a + (−1)·b).
template <DistillLoss A, DistillLoss B>
struct Sum {
  A first;
  B second;

  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g) {
    const float a = first.accumulate(b, scale, g);
    return a + second.accumulate(b, scale, g);
  }
  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g) const
    requires DistillLoss<const A> && DistillLoss<const B>
  {
    const float a = first.accumulate(b, scale, g);
    return a + second.accumulate(b, scale, g);
  }
  /// The parameters of `first`, then of `second` (a term without parameters visits none).
  template <class F>
    requires DistillLossWithParameters<A> || DistillLossWithParameters<B>
  void for_each_parameter(F&& f) {
    if constexpr (DistillLossWithParameters<A>) first.for_each_parameter(f);
    if constexpr (DistillLossWithParameters<B>) second.for_each_parameter(f);
  }
};

namespace detail {
template <class L>
concept LossOperand = DistillLoss<std::remove_cvref_t<L>>;
}  // namespace detail

// The operators live in namespace pare, so argument-dependent lookup finds them whenever a
// built-in loss, a composition, or a user's loss derived from pare::ComposableLoss
// (distill/concepts.hpp) is an operand.
template <detail::LossOperand L>
[[nodiscard]] constexpr Scaled<std::remove_cvref_t<L>> operator*(double w, L&& loss) {
  return {static_cast<float>(w), std::forward<L>(loss)};
}
template <detail::LossOperand L>
[[nodiscard]] constexpr Scaled<std::remove_cvref_t<L>> operator*(L&& loss, double w) {
  return {static_cast<float>(w), std::forward<L>(loss)};
}
template <detail::LossOperand A, detail::LossOperand B>
[[nodiscard]] constexpr Sum<std::remove_cvref_t<A>, std::remove_cvref_t<B>> operator+(A&& a,
                                                                                      B&& b) {
  return {std::forward<A>(a), std::forward<B>(b)};
}
template <detail::LossOperand A, detail::LossOperand B>
[[nodiscard]] constexpr Sum<std::remove_cvref_t<A>, Scaled<std::remove_cvref_t<B>>> operator-(
    A&& a, B&& b) {
  return {std::forward<A>(a), {-1.0f, std::forward<B>(b)}};
}

/// A loss value and its gradients wrt the student's logits and features (each empty when the
/// batch has no such tensor).
struct DistillResult {
  float loss = 0;
  Tensor<float, 2> logits_grad;    ///< ∂loss/∂student_logits, the shape of batch.student_logits
  Tensor<float, 2> features_grad;  ///< ∂loss/∂student_features
};

/// Evaluates `loss` on `batch` with fresh zeroed gradient buffers for every student tensor the
/// batch holds. A loss with parameters also adds to their gradients (zero them between steps).
///
///   auto [loss, g_logits, g_features] = pare::loss_and_grad(kd, batch);
///   (void)student.backward(g_logits);
template <class L>
  requires detail::LossOperand<L>
[[nodiscard]] DistillResult loss_and_grad(L&& loss, const DistillBatch& batch) {
  DistillResult r;
  if (!batch.student_logits.empty())
    r.logits_grad = Tensor<float, 2>(batch.student_logits.extents());
  if (!batch.student_features.empty())
    r.features_grad = Tensor<float, 2>(batch.student_features.extents());
  r.loss = loss.accumulate(batch, 1.0f, DistillGrad{r.logits_grad.view(), r.features_grad.view()});
  return r;
}

/// The loss value alone (no gradient is computed; parameters' gradients are untouched).
template <class L>
  requires detail::LossOperand<L>
[[nodiscard]] float loss_value(L&& loss, const DistillBatch& batch) {
  return loss.accumulate(batch, 1.0f, DistillGrad{});
}

/// Sets the gradients of every parameter of `loss` to zero (a no-op for a loss without any).
template <class L>
  requires detail::LossOperand<L>
void zero_grad(L& loss) {
  if constexpr (DistillLossWithParameters<L>)
    loss.for_each_parameter([](const LossParameter& p) {
      for (float& v : p.grad) v = 0.0f;
    });
}

}  // namespace pare
