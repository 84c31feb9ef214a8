// SPDX-License-Identifier: Apache-2.0
// pare — SparseGPT (Frantar & Alistarh 2023): one-shot OBS pruning with weight updates.
//
// Optimal Brain Surgeon on a linear layer's output error ‖WX − ŴX‖²: the Hessian of that error
// wrt each row of W is H = 2XXᵀ/N (the same for every row), so one Cholesky factor of H⁻¹ serves
// all rows. Columns are processed left to right in blocks; when a weight is pruned, the error it
// causes is compensated by updating the not-yet-processed weights of its row. The mask is chosen
// per block by the OBS saliency w²/[H⁻¹]_jj² (unstructured), or within each group of M columns
// (N:M). Better than magnitude and Wanda at the same sparsity without retraining, at the cost of
// an in×in Hessian and a Cholesky per layer.
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/tensor.hpp"
#include "pare/linalg/layer_hessian.hpp"
#include "pare/prune/mask.hpp"
#include "pare/prune/pattern.hpp"

namespace pare {

/// Settings of SparseGPT; the defaults are the reference code's.
struct SparseGptOptions {
  double damping = 0.01;         ///< λ = damping · mean(diag H) added to the diagonal
  std::size_t block_size = 128;  ///< columns per lazy-update block
};

/// How SparseGPT ended (the Cholesky factorization's status).
enum class SparseGptStatus {
  ok,
  not_positive_definite  ///< the damped Hessian has no Cholesky factor; raise `damping`
};

struct SparseGptResult {
  Mask mask;  ///< what was pruned (the weights were updated in place)
  SparseGptStatus status = SparseGptStatus::ok;
};

namespace detail {

/// The shared body; `nm_pruned`/`nm_group` = 0 for unstructured.
SparseGptResult sparsegpt_impl(TensorView<float, 2> weights, TensorView<const double, 2> hessian,
                               double sparsity, std::size_t nm_pruned, std::size_t nm_group,
                               const SparseGptOptions& opt);

}  // namespace detail

/// Prunes `weights` [out, in] to `sparsity` (unstructured) with SparseGPT, updating the remaining
/// weights in place to compensate. `hessian` is LayerHessian::matrix() of the layer's
/// calibration inputs (any symmetric [in, in] matrix of doubles; the lower triangle is read).
///
///   pare::LayerHessian h(fc.in_features());
///   for (const auto& x : calibration_inputs) h.add(x);
///   auto r = pare::sparsegpt(fc.weight(), h.matrix(), 0.5);
///
/// @pre hessian is in×in; 0 <= sparsity < 1
[[nodiscard]] SparseGptResult sparsegpt(TensorView<float, 2> weights,
                                        TensorView<const double, 2> hessian, double sparsity,
                                        const SparseGptOptions& opt = {});

/// SparseGPT with an N:M pattern (keeps N of every M weights of a row, e.g. NM<2, 4>{}).
/// @pre the input width is a multiple of M
template <std::size_t N, std::size_t M>
[[nodiscard]] SparseGptResult sparsegpt(TensorView<float, 2> weights,
                                        TensorView<const double, 2> hessian, NM<N, M> /*pattern*/,
                                        const SparseGptOptions& opt = {}) {
  return detail::sparsegpt_impl(weights, hessian, 0.0, M - N, M, opt);
}

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/prune/sparsegpt-inl.hpp"
#endif
