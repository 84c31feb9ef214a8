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

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <vector>

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

  [[nodiscard]] double value(TensorView<const float, 2> w) const noexcept {
    double s = 0;
    for (std::size_t r = 0; r < w.extent(0); ++r)
      for (std::size_t c = 0; c < w.extent(1); ++c) s += std::abs(w(r, c));
    return strength * s;
  }
  void add_gradient(TensorView<const float, 2> w, TensorView<float, 2> grad) const {
    check_same_shape(w.extents(), grad.extents(), "L1Penalty::add_gradient (weights vs grad)");
    for (std::size_t r = 0; r < w.extent(0); ++r)
      for (std::size_t c = 0; c < w.extent(1); ++c)
        grad(r, c) += w(r, c) > 0 ? strength : (w(r, c) < 0 ? -strength : 0.0f);
  }
  void proximal(TensorView<float, 2> w, float lr) const noexcept {
    const float t = lr * strength;
    for (std::size_t r = 0; r < w.extent(0); ++r)
      for (std::size_t c = 0; c < w.extent(1); ++c) {
        const float a = std::abs(w(r, c)) - t;
        w(r, c) = a > 0 ? std::copysign(a, w(r, c)) : 0.0f;
      }
  }
};
static_assert(Regularizer<L1Penalty>);

/// (λ/2)·Σw²; proximal map: w ← w / (1 + lr·λ).
struct L2Penalty {
  float strength = 1e-4f;  ///< λ

  [[nodiscard]] double value(TensorView<const float, 2> w) const noexcept {
    double s = 0;
    for (std::size_t r = 0; r < w.extent(0); ++r)
      for (std::size_t c = 0; c < w.extent(1); ++c)
        s += static_cast<double>(w(r, c)) * static_cast<double>(w(r, c));
    return 0.5 * strength * s;
  }
  void add_gradient(TensorView<const float, 2> w, TensorView<float, 2> grad) const {
    check_same_shape(w.extents(), grad.extents(), "L2Penalty::add_gradient (weights vs grad)");
    for (std::size_t r = 0; r < w.extent(0); ++r)
      for (std::size_t c = 0; c < w.extent(1); ++c) grad(r, c) += strength * w(r, c);
  }
  void proximal(TensorView<float, 2> w, float lr) const noexcept {
    const float f = 1.0f / (1.0f + lr * strength);
    for (std::size_t r = 0; r < w.extent(0); ++r)
      for (std::size_t c = 0; c < w.extent(1); ++c) w(r, c) *= f;
  }
};
static_assert(Regularizer<L2Penalty>);

/// Group lasso λ·Σ_g ‖w_g‖₂ over the rows (axis 0: output units) or columns (axis 1: inputs);
/// proximal map: block soft threshold w_g ← w_g · max(0, 1 − lr·λ/‖w_g‖₂).
struct GroupLasso {
  float strength = 1e-3f;  ///< λ
  std::size_t axis = 0;

  [[nodiscard]] double value(TensorView<const float, 2> w) const {
    double s = 0;
    for (double n : norms(w)) s += n;
    return strength * s;
  }
  void add_gradient(TensorView<const float, 2> w, TensorView<float, 2> grad) const {
    check_same_shape(w.extents(), grad.extents(), "GroupLasso::add_gradient (weights vs grad)");
    const auto n = norms(w);
    for (std::size_t r = 0; r < w.extent(0); ++r)
      for (std::size_t c = 0; c < w.extent(1); ++c) {
        const double g = n[axis == 0 ? r : c];
        if (g > 0) grad(r, c) += static_cast<float>(strength * w(r, c) / g);
      }
  }
  void proximal(TensorView<float, 2> w, float lr) const {
    const auto n = norms(w);
    std::vector<float> f(n.size());
    for (std::size_t g = 0; g < n.size(); ++g)
      f[g] = n[g] > 0 ? static_cast<float>(std::max(0.0, 1.0 - lr * strength / n[g])) : 0.0f;
    for (std::size_t r = 0; r < w.extent(0); ++r)
      for (std::size_t c = 0; c < w.extent(1); ++c) w(r, c) *= f[axis == 0 ? r : c];
  }

 private:
  [[nodiscard]] std::vector<double> norms(TensorView<const float, 2> w) const {
    PARE_CHECK(axis < 2, ArgumentError, "GroupLasso: axis must be 0 (rows) or 1 (columns), got ",
               axis);
    std::vector<double> n(w.extent(axis), 0.0);
    for (std::size_t r = 0; r < w.extent(0); ++r)
      for (std::size_t c = 0; c < w.extent(1); ++c)
        n[axis == 0 ? r : c] += static_cast<double>(w(r, c)) * static_cast<double>(w(r, c));
    for (double& v : n) v = std::sqrt(v);
    return n;
  }
};
static_assert(Regularizer<GroupLasso>);

}  // namespace pare
