// SPDX-License-Identifier: Apache-2.0
// pare — definitions for prune/sparsegpt.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/linalg/dense_f64.hpp"
#include "pare/prune/sparsegpt.hpp"

namespace pare {

namespace detail {

PARE_INLINE SparseGptResult sparsegpt_impl(TensorView<float, 2> weights,
                                           TensorView<const double, 2> hessian, double sparsity,
                                           std::size_t nm_pruned, std::size_t nm_group,
                                           const SparseGptOptions& opt) {
  const std::size_t rows = weights.extent(0), cols = weights.extent(1);
  PARE_CHECK(hessian.extent(0) == cols && hessian.extent(1) == cols, ShapeError,
             "sparsegpt: weights ", to_string(weights.extents()), " need a ", cols, "x", cols,
             " Hessian, got ", hessian.extent(0), "x", hessian.extent(1));
  PARE_CHECK(sparsity >= 0.0 && sparsity < 1.0, ArgumentError,
             "sparsegpt: sparsity must be in [0, 1), got ", sparsity);
  PARE_CHECK(opt.block_size > 0 && opt.damping >= 0.0, ArgumentError,
             "sparsegpt: block_size must be positive and damping non-negative");
  PARE_CHECK(nm_group == 0 || opt.block_size % nm_group == 0, ArgumentError,
             "sparsegpt: N:M pruning needs block_size (", opt.block_size,
             ") to be a multiple of M = ", nm_group);
  PARE_CHECK(nm_group == 0 || cols % nm_group == 0, ArgumentError,
             "sparsegpt: N:M pruning needs the input width ", cols,
             " to be a multiple of M = ", nm_group);

  Tensor<double, 2> w({rows, cols});
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) w(r, c) = weights(r, c);
  // Only the lower triangle is read by the factorization.
  Tensor<double, 2> u({cols, cols});
  double mean = 0;
  for (std::size_t i = 0; i < cols; ++i) {
    for (std::size_t j = 0; j <= i; ++j) u(i, j) = hessian(i, j);
    // Inputs that were always zero carry no information: their weights go, H gets a unit
    // diagonal.
    if (u(i, i) == 0) {
      u(i, i) = 1;
      for (std::size_t r = 0; r < rows; ++r) w(r, i) = 0;
    }
    mean += u(i, i);
  }
  const double damp = opt.damping * (mean / static_cast<double>(cols));
  for (std::size_t i = 0; i < cols; ++i) u(i, i) += damp;
  SparseGptResult result{Mask({rows, cols}, std::uint8_t{1}), SparseGptStatus::ok};
  // Upper Cholesky factor U of H⁻¹ (H⁻¹ = UᵀU): row j of U holds the OBS update for column j
  // given that columns < j are already fixed.
  if (linalg::inverse_upper_cholesky(u.view()) != linalg::CholeskyStatus::ok) {
    result.status = SparseGptStatus::not_positive_definite;
    return result;
  }

  const std::size_t bs = opt.block_size;
  std::vector<std::uint8_t> pruned;
  std::vector<double> sal;
  Tensor<double, 2> err({rows, std::min(bs, cols)});
  for (std::size_t i1 = 0; i1 < cols; i1 += bs) {
    const std::size_t i2 = std::min(i1 + bs, cols), count = i2 - i1;
    pruned.assign(rows * count, 0);  // [row][col - i1]
    auto is_pruned = [&](std::size_t r, std::size_t c) -> std::uint8_t& {
      return pruned[r * count + c];
    };
    if (nm_group == 0) {
      sal.resize(rows * count);
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < count; ++c) {
          const double d = u(i1 + c, i1 + c);
          sal[r * count + c] = w(r, i1 + c) * w(r, i1 + c) / (d * d);
        }
      const auto k = static_cast<std::size_t>(static_cast<double>(sal.size()) * sparsity);
      std::vector<std::size_t> order(sal.size());
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return sal[a] < sal[b]; });
      for (std::size_t i = 0; i < k; ++i) pruned[order[i]] = 1;
    }
    for (std::size_t c = 0; c < count; ++c) {
      const std::size_t j = i1 + c;
      if (nm_group != 0 && j % nm_group == 0) {
        std::vector<double> run(nm_group);
        std::vector<std::size_t> order(nm_group);
        for (std::size_t r = 0; r < rows; ++r) {
          for (std::size_t t = 0; t < nm_group; ++t) {
            const double d = u(j + t, j + t);
            run[t] = w(r, j + t) * w(r, j + t) / (d * d);
          }
          std::iota(order.begin(), order.end(), std::size_t{0});
          std::stable_sort(order.begin(), order.end(),
                           [&](std::size_t a, std::size_t b) { return run[a] < run[b]; });
          for (std::size_t t = 0; t < nm_pruned; ++t) is_pruned(r, c + order[t]) = 1;
        }
      }
      const double d = u(j, j);
      const double* uj = &u(j, std::size_t{0});
      for (std::size_t r = 0; r < rows; ++r) {
        double* wr = &w(r, std::size_t{0});
        const double q = is_pruned(r, c) ? 0.0 : wr[j];
        const double e = (wr[j] - q) / d;
        err(r, c) = e;
        // Compensate within the block: w[r, j:i2] −= e · U[j, j:i2].
        for (std::size_t t = j; t < i2; ++t) wr[t] -= e * uj[t];
        wr[j] = q;
      }
    }
    // Lazy update of the columns right of the block: W[:, i2:] −= Err · U[i1:i2, i2:], the
    // dominant cost. Tasks take row ranges; each element's dot product runs over the same k
    // blocks in the same order whatever the range, so the cut changes no bit.
    if (i2 < cols) {
      const TensorView<const double, 2> e_all =
          TensorView<const double, 2>(err.view()).slice(1, 0, count);
      const TensorView<const double, 2> u_blk =
          TensorView<const double, 2>(u.view()).slice(0, i1, i2).slice(1, i2, cols);
      parallel_for(0, rows, (std::size_t{1} << 20) / (count * (cols - i2)) + 1,
                   [&](std::size_t lo, std::size_t hi) {
                     linalg::gemm(-1.0, e_all.slice(0, lo, hi), u_blk, 1.0,
                                  w.view().slice(0, lo, hi).slice(1, i2, cols));
                   });
    }
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < count; ++c)
        if (is_pruned(r, c)) result.mask(r, i1 + c) = 0;
  }
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) {
      if (!result.mask(r, c)) w(r, c) = 0;
      weights(r, c) = static_cast<float>(w(r, c));
    }
  return result;
}

}  // namespace detail

PARE_INLINE SparseGptResult sparsegpt(TensorView<float, 2> weights,
                                      TensorView<const double, 2> hessian, double sparsity,
                                      const SparseGptOptions& opt) {
  return detail::sparsegpt_impl(weights, hessian, sparsity, 0, 0, opt);
}

}  // namespace pare
