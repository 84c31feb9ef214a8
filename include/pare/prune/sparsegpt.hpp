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

// GCC 12 reports the `__m512d __Y = __Y;` idiom of _mm512_undefined_pd() as uninitialized when
// Eigen's AVX-512 GEMM/LLT packet code (ptranspose) is inlined here (GCC bug 105593, fixed in
// GCC 13); a false positive. The pragma covers this header's text, where the inlining happens.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "pare/core/eigen.hpp"
#include "pare/core/error.hpp"
#include "pare/core/layer_hessian.hpp"
#include "pare/core/tensor.hpp"
#include "pare/prune/mask.hpp"
#include "pare/prune/pattern.hpp"

namespace pare {

/// Settings of SparseGPT; the defaults are the reference code's.
struct SparseGptOptions {
  double damping = 0.01;         ///< λ = damping · mean(diag H) added to the diagonal
  std::size_t block_size = 128;  ///< columns per lazy-update block
};

/// How SparseGPT ended: Eigen's ComputationInfo, in pare's words.
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
inline SparseGptResult sparsegpt_impl(TensorView<float, 2> weights, const Eigen::MatrixXd& hessian,
                                      double sparsity, std::size_t nm_pruned, std::size_t nm_group,
                                      const SparseGptOptions& opt) {
  using Eigen::Index;
  const auto rows = static_cast<Index>(weights.extent(0));
  const auto cols = static_cast<Index>(weights.extent(1));
  PARE_CHECK(hessian.rows() == cols && hessian.cols() == cols, ShapeError, "sparsegpt: weights ",
             to_string(weights.extents()), " need a ", cols, "x", cols, " Hessian, got ",
             hessian.rows(), "x", hessian.cols());
  PARE_CHECK(sparsity >= 0.0 && sparsity < 1.0, ArgumentError,
             "sparsegpt: sparsity must be in [0, 1), got ", sparsity);
  PARE_CHECK(opt.block_size > 0 && opt.damping >= 0.0, ArgumentError,
             "sparsegpt: block_size must be positive and damping non-negative");
  PARE_CHECK(nm_group == 0 || opt.block_size % nm_group == 0, ArgumentError,
             "sparsegpt: N:M pruning needs block_size (", opt.block_size,
             ") to be a multiple of M = ", nm_group);
  PARE_CHECK(nm_group == 0 || static_cast<std::size_t>(cols) % nm_group == 0, ArgumentError,
             "sparsegpt: N:M pruning needs the input width ", cols,
             " to be a multiple of M = ", nm_group);

  Eigen::MatrixXd w = as_eigen(TensorView<const float, 2>(weights)).cast<double>();
  Eigen::MatrixXd h = hessian;
  // Inputs that were always zero carry no information: their weights go, H gets a unit diagonal.
  for (Index j = 0; j < cols; ++j)
    if (h(j, j) == 0) {
      h(j, j) = 1;
      w.col(j).setZero();
    }
  h.diagonal().array() += opt.damping * h.diagonal().mean();
  Eigen::LLT<Eigen::MatrixXd> llt(h);
  SparseGptResult result{Mask({weights.extent(0), weights.extent(1)}, std::uint8_t{1}),
                         SparseGptStatus::ok};
  if (llt.info() != Eigen::Success) {
    result.status = SparseGptStatus::not_positive_definite;
    return result;
  }
  const Eigen::MatrixXd h_inv = llt.solve(Eigen::MatrixXd::Identity(cols, cols));
  Eigen::LLT<Eigen::MatrixXd> llt_inv(h_inv);
  if (llt_inv.info() != Eigen::Success) {
    result.status = SparseGptStatus::not_positive_definite;
    return result;
  }
  // Upper Cholesky factor U of H⁻¹ (H⁻¹ = UᵀU): row j of U holds the OBS update for column j
  // given that columns < j are already fixed.
  const Eigen::MatrixXd u = llt_inv.matrixU();

  const auto bs = static_cast<Index>(opt.block_size);
  std::vector<std::uint8_t> pruned;
  std::vector<double> sal;
  for (Index i1 = 0; i1 < cols; i1 += bs) {
    const Index i2 = std::min(i1 + bs, cols), count = i2 - i1;
    pruned.assign(static_cast<std::size_t>(rows * count), 0);  // [row][col - i1]
    auto is_pruned = [&](Index r, Index c) -> std::uint8_t& {
      return pruned[static_cast<std::size_t>(r * count + c)];
    };
    if (nm_group == 0) {
      sal.resize(static_cast<std::size_t>(rows * count));
      for (Index r = 0; r < rows; ++r)
        for (Index c = 0; c < count; ++c) {
          const double d = u(i1 + c, i1 + c);
          sal[static_cast<std::size_t>(r * count + c)] = w(r, i1 + c) * w(r, i1 + c) / (d * d);
        }
      const auto k = static_cast<std::size_t>(static_cast<double>(sal.size()) * sparsity);
      std::vector<std::size_t> order(sal.size());
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return sal[a] < sal[b]; });
      for (std::size_t i = 0; i < k; ++i) pruned[order[i]] = 1;
    }
    Eigen::MatrixXd err(rows, count);
    for (Index c = 0; c < count; ++c) {
      const Index j = i1 + c;
      if (nm_group != 0 && static_cast<std::size_t>(j) % nm_group == 0) {
        const auto m = static_cast<Index>(nm_group);
        std::vector<double> run(nm_group);
        for (Index r = 0; r < rows; ++r) {
          for (Index t = 0; t < m; ++t) {
            const double d = u(j + t, j + t);
            run[static_cast<std::size_t>(t)] = w(r, j + t) * w(r, j + t) / (d * d);
          }
          std::vector<std::size_t> order(nm_group);
          std::iota(order.begin(), order.end(), std::size_t{0});
          std::stable_sort(order.begin(), order.end(),
                           [&](std::size_t a, std::size_t b) { return run[a] < run[b]; });
          for (std::size_t t = 0; t < nm_pruned; ++t)
            is_pruned(r, c + static_cast<Index>(order[t])) = 1;
        }
      }
      const double d = u(j, j);
      for (Index r = 0; r < rows; ++r) {
        const double q = is_pruned(r, c) ? 0.0 : w(r, j);
        const double e = (w(r, j) - q) / d;
        err(r, c) = e;
        // Compensate within the block: w[r, j:i2] -= e · U[j, j:i2].
        for (Index t = j; t < i2; ++t) w(r, t) -= e * u(j, t);
        w(r, j) = q;
      }
    }
    // Lazy update of the columns right of the block: W[:, i2:] -= Err · U[i1:i2, i2:].
    if (i2 < cols) w.rightCols(cols - i2).noalias() -= err * u.block(i1, i2, count, cols - i2);
    for (Index r = 0; r < rows; ++r)
      for (Index c = 0; c < count; ++c)
        if (is_pruned(r, c))
          result.mask(static_cast<std::size_t>(r), static_cast<std::size_t>(i1 + c)) = 0;
  }
  for (Index r = 0; r < rows; ++r)
    for (Index c = 0; c < cols; ++c) {
      if (!result.mask(static_cast<std::size_t>(r), static_cast<std::size_t>(c))) w(r, c) = 0;
      weights(static_cast<std::size_t>(r), static_cast<std::size_t>(c)) =
          static_cast<float>(w(r, c));
    }
  return result;
}

}  // namespace detail

/// Prunes `weights` [out, in] to `sparsity` (unstructured) with SparseGPT, updating the remaining
/// weights in place to compensate. `hessian` is LayerHessian::hessian() of the layer's
/// calibration inputs.
///
///   pare::LayerHessian h(fc.in_features());
///   for (const auto& x : calibration_inputs) h.add(x);
///   auto r = pare::sparsegpt(fc.weight(), h.matrix(), 0.5);
///
/// @pre hessian is in×in; 0 <= sparsity < 1
[[nodiscard]] inline SparseGptResult sparsegpt(TensorView<float, 2> weights,
                                               const Eigen::MatrixXd& hessian, double sparsity,
                                               const SparseGptOptions& opt = {}) {
  return detail::sparsegpt_impl(weights, hessian, sparsity, 0, 0, opt);
}

/// SparseGPT with an N:M pattern (keeps N of every M weights of a row, e.g. NM<2, 4>{}).
/// @pre the input width is a multiple of M
template <std::size_t N, std::size_t M>
[[nodiscard]] SparseGptResult sparsegpt(TensorView<float, 2> weights,
                                        const Eigen::MatrixXd& hessian, NM<N, M> /*pattern*/,
                                        const SparseGptOptions& opt = {}) {
  return detail::sparsegpt_impl(weights, hessian, 0.0, M - N, M, opt);
}

}  // namespace pare

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
