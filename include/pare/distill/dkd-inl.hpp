// SPDX-License-Identifier: Apache-2.0
// pare — definitions for distill/dkd.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/distill/concepts.hpp"
#include "pare/distill/detail/rows.hpp"
#include "pare/distill/dkd.hpp"

namespace pare {

PARE_INLINE float DKD::accumulate(const DistillBatch& b, float scale, const DistillGrad& g) const {
  constexpr const char* name = "DKD";
  detail::check_present(b.student_logits, name, "student_logits");
  detail::check_same(b.student_logits, b.teacher_logits, name, "student_logits", "teacher_logits");
  detail::check_grad(g.logits, b.student_logits, name, "student_logits");
  detail::check_temperature(temperature, name);
  const std::size_t n = b.student_logits.extent(0), c = b.student_logits.extent(1);
  PARE_CHECK(c >= 2, ShapeError, name, " needs at least 2 classes, got ", c);
  detail::check_labels(b.labels, n, c, name);
  const detail::RowWeights weight(b, n, name);
  const double t = temperature, inv_t = 1.0 / t;
  std::vector<double> zs(c), zt(c);
  // log Σ_j exp(z_j) over all j (skip = c) or all j ≠ skip.
  auto lse = [&](const std::vector<double>& z, std::size_t skip) {
    double m = -std::numeric_limits<double>::infinity();
    for (std::size_t j = 0; j < c; ++j)
      if (j != skip) m = std::max(m, z[j]);
    double s = 0;
    for (std::size_t j = 0; j < c; ++j)
      if (j != skip) s += std::exp(z[j] - m);
    return m + std::log(s);
  };
  auto kl_term = [](double log_p, double log_q) {  // p (log p − log q), 0 at p = 0
    const double p = std::exp(log_p);
    return p > 0 ? p * (log_p - log_q) : 0.0;
  };
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double w = weight(i);
    if (w == 0.0) continue;
    const auto y = static_cast<std::size_t>(b.labels[i]);
    for (std::size_t j = 0; j < c; ++j) {
      zs[j] = b.student_logits(i, j) * inv_t;
      zt[j] = b.teacher_logits(i, j) * inv_t;
    }
    const double ls = lse(zs, c), ls_other = lse(zs, y);
    const double lt = lse(zt, c), lt_other = lse(zt, y);
    const double log_bs = zs[y] - ls, log_bs_other = ls_other - ls;
    const double log_bt = zt[y] - lt, log_bt_other = lt_other - lt;
    const double tckd = kl_term(log_bt, log_bs) + kl_term(log_bt_other, log_bs_other);
    double nckd = 0;
    for (std::size_t j = 0; j < c; ++j)
      if (j != y) nckd += kl_term(zt[j] - lt_other, zs[j] - ls_other);
    total += w * (alpha * tckd + beta * nckd);
    if (g.logits.empty()) continue;
    // ∂TCKD/∂z_y = b_s − b_t, ∂TCKD/∂z_j = (b_t − b_s) p̂_j; ∂NCKD/∂z_j = p̂_j − q̂_j (j ≠ y).
    const double bs = std::exp(log_bs), bt = std::exp(log_bt);
    const double c_grad = scale * w * t;  // T² · ∂(s/T)/∂s
    const auto gr = g.logits[i];
    for (std::size_t j = 0; j < c; ++j) {
      double d;
      if (j == y) {
        d = alpha * (bs - bt);
      } else {
        const double ps = std::exp(zs[j] - ls_other), pt = std::exp(zt[j] - lt_other);
        d = alpha * (bt - bs) * ps + beta * (ps - pt);
      }
      gr[j] += static_cast<float>(c_grad * d);
    }
  }
  return static_cast<float>(total * t * t);
}

}  // namespace pare
