// SPDX-License-Identifier: Apache-2.0
// pare — sparsity-inducing regularizers for training a model that prunes well.
//
// When to use which:
// - `L1Penalty` with its proximal step (soft-threshold): drives individual weights to exactly
//   zero; prepares unstructured pruning. (The plain subgradient λ·sign(w) only makes weights
//   oscillate around zero; the proximal step makes them zero.)
// - `L2Penalty` (weight decay): shrinks all weights; does not by itself create zeros, but makes
//   magnitudes comparable across layers before global magnitude pruning.
// - `GroupLasso` (Σ_g ‖w_g‖₂ over rows or columns): drives whole channels to zero; prepares
//   Channel pruning and structured.hpp's shape shrinking.
//
// Each regularizer offers:
//   value(w)                — the penalty, for logging;
//   add_gradient(w, grad)   — adds its (sub)gradient to grad, before the optimizer step;
//   proximal(w, lr)         — the proximal map of lr·penalty, applied to w *after* the optimizer
//                             step (proximal gradient descent; with Adam, lr is the step size).
// Use either add_gradient or proximal for a given penalty, not both.
#pragma once

#include <concepts>
#include <cstddef>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"

namespace pare {

/// What a penalty on a weight matrix offers; see the list above.
template <class R>
concept Regularizer = requires(const R& r, TensorView<const float, 2> w, TensorView<float, 2> mw,
                               TensorView<float, 2> g, float lr) {
  { r.value(w) } -> std::convertible_to<double>;
  r.add_gradient(w, g);
  r.proximal(mw, lr);
};

/// λ·Σ|w|; proximal map: soft threshold w ← sign(w)·max(|w| − lr·λ, 0).
struct L1Penalty {
  float strength = 1e-4f;  ///< λ

  [[nodiscard]] double value(TensorView<const float, 2> w) const noexcept;
  void add_gradient(TensorView<const float, 2> w, TensorView<float, 2> grad) const;
  void proximal(TensorView<float, 2> w, float lr) const noexcept;
};
static_assert(Regularizer<L1Penalty>);

/// (λ/2)·Σw²; proximal map: w ← w / (1 + lr·λ).
struct L2Penalty {
  float strength = 1e-4f;  ///< λ

  [[nodiscard]] double value(TensorView<const float, 2> w) const noexcept;
  void add_gradient(TensorView<const float, 2> w, TensorView<float, 2> grad) const;
  void proximal(TensorView<float, 2> w, float lr) const noexcept;
};
static_assert(Regularizer<L2Penalty>);

/// Group lasso λ·Σ_g ‖w_g‖₂ over the rows (axis 0: output units) or columns (axis 1: inputs);
/// proximal map: block soft threshold w_g ← w_g · max(0, 1 − lr·λ/‖w_g‖₂).
struct GroupLasso {
  float strength = 1e-3f;  ///< λ
  std::size_t axis = 0;

  [[nodiscard]] double value(TensorView<const float, 2> w) const;
  void add_gradient(TensorView<const float, 2> w, TensorView<float, 2> grad) const;
  void proximal(TensorView<float, 2> w, float lr) const;

 private:
  [[nodiscard]] std::vector<double> norms(TensorView<const float, 2> w) const;
};
static_assert(Regularizer<GroupLasso>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/prune/regularizer-inl.hpp"
#endif
