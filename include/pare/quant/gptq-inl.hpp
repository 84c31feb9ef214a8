// SPDX-License-Identifier: Apache-2.0
// pare — definitions for quant/gptq.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/linalg/dense_f64.hpp"
#include "pare/quant/gptq.hpp"
#include "pare/quant/lut4.hpp"

namespace pare {

PARE_INLINE GptqPlan gptq_plan(const LayerHessian& hessian, const GptqOptions& opt) {
  PARE_CHECK(opt.percdamp >= 0 && std::isfinite(opt.percdamp), ArgumentError,
             "GPTQ: percdamp = ", opt.percdamp, ", needs a finite value >= 0");
  PARE_CHECK(opt.block_size > 0, ArgumentError, "GPTQ: block_size must be positive");
  const TensorView<const double, 2> hv = hessian.matrix();
  const std::size_t n = hv.extent(0);
  GptqPlan plan;
  plan.dead.assign(n, false);
  std::vector<double> diag(n);
  for (std::size_t j = 0; j < n; ++j) {
    diag[j] = hv(j, j);
    if (diag[j] == 0) {
      diag[j] = 1;
      plan.dead[j] = true;
    }
  }
  plan.perm.resize(n);
  std::iota(plan.perm.begin(), plan.perm.end(), std::size_t{0});
  if (opt.act_order)
    std::stable_sort(plan.perm.begin(), plan.perm.end(),
                     [&](std::size_t a, std::size_t b) { return diag[a] > diag[b]; });
  // Only the lower triangle is read by the factorization.
  Tensor<double, 2> h({n, n});
  double mean = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t pi = plan.perm[i];
    for (std::size_t j = 0; j < i; ++j) h(i, j) = hv(pi, plan.perm[j]);
    h(i, i) = diag[pi];
    mean += diag[pi];
  }
  const double damp = opt.percdamp * (mean / static_cast<double>(n));
  for (std::size_t i = 0; i < n; ++i) h(i, i) += damp;
  if (linalg::inverse_upper_cholesky(h.view()) != linalg::CholeskyStatus::ok) {
    plan.status = GptqStatus::not_positive_definite;
    return plan;
  }
  plan.hinv_upper = std::move(h);
  return plan;
}

PARE_INLINE Lut4Matrix gptq_lut4(TensorView<const float, 2> w, const LayerHessian& hessian,
                                 std::size_t group, const Lut4Codebook& levels,
                                 const GptqOptions& opt, GptqStatus* status) {
  const std::size_t rows = w.extent(0), cols = w.extent(1);
  Lut4Matrix rtn = pack_lut4(w, group, levels);  // checks codebook, shape and values
  Lut4Matrix q(rows, cols, group, levels);
  std::vector<float> inv(rows * (cols / group), 0.0f);
  const auto set_scale = [&](std::size_t r, std::size_t g, float amax) {
    q.set_scale(r, g, amax);
    inv[r * (cols / group) + g] = amax > 0 ? 1.0f / amax : 0.0f;
  };
  if (opt.act_order)
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t g = 0; g < cols / group; ++g) set_scale(r, g, rtn.scale(r, g));
  const auto rule = [&](std::size_t j, TensorView<const double, 2> lazy,
                        TensorView<const double, 1> col, TensorView<double, 1> qc) {
    const std::size_t g = j / group;
    if (!opt.act_order && j % group == 0)
      for (std::size_t r = 0; r < rows; ++r) {
        double amax = 0;
        for (std::size_t i = 0; i < group; ++i) amax = std::max(amax, std::abs(lazy(r, j + i)));
        set_scale(r, g, static_cast<float>(amax));
      }
    for (std::size_t r = 0; r < rows; ++r) {
      const unsigned code =
          nearest_lut4_level(levels, static_cast<float>(col(r)) * inv[r * (cols / group) + g]);
      q.set_code(r, j, code);
      qc(r) = static_cast<double>(q.scale(r, g) * levels[code]);
    }
  };
  GptqStatus st = GptqStatus::ok;
  (void)gptq_dequantized(w, hessian, opt, rule, &st);
  if (status != nullptr) *status = st;
  return st == GptqStatus::ok ? q : rtn;
}

PARE_INLINE double relative_output_error(TensorView<const float, 2> x, TensorView<const float, 2> w,
                                         TensorView<const float, 2> w_hat) {
  check_same_shape(w.extents(), w_hat.extents(), "relative_output_error");
  PARE_CHECK(x.extent(1) == w.extent(1), ShapeError, "relative_output_error: inputs ",
             to_string(x.extents()), " for weights ", to_string(w.extents()));
  double num = 0, den = 0;
  for (std::size_t n = 0; n < x.extent(0); ++n)
    for (std::size_t o = 0; o < w.extent(0); ++o) {
      double y = 0, yh = 0;
      for (std::size_t i = 0; i < w.extent(1); ++i) {
        y += static_cast<double>(x(n, i)) * w(o, i);
        yh += static_cast<double>(x(n, i)) * w_hat(o, i);
      }
      num += (y - yh) * (y - yh);
      den += y * y;
    }
  return den == 0 ? (num == 0 ? 0.0 : HUGE_VAL) : num / den;
}

}  // namespace pare
