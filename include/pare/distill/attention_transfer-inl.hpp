// SPDX-License-Identifier: Apache-2.0
// pare — definitions for distill/attention_transfer.hpp: compiled once into pare::compiled, or
// included by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/distill/attention_transfer.hpp"
#include "pare/distill/concepts.hpp"
#include "pare/distill/detail/rows.hpp"

namespace pare {

PARE_INLINE float AttentionTransfer::accumulate(const DistillBatch& b, float scale,
                                                const DistillGrad& g) const {
  constexpr const char* name = "AttentionTransfer";
  detail::check_present(b.student_features, name, "student_features");
  detail::check_present(b.teacher_features, name, "teacher_features");
  PARE_CHECK(spatial > 0, ArgumentError, name, ": set .spatial to the maps' H*W");
  PARE_CHECK(p > 0.0f && std::isfinite(p), ArgumentError, name, ": p must be positive, got ", p);
  const std::size_t n = b.student_features.extent(0);
  const std::size_t ds = b.student_features.extent(1), dt = b.teacher_features.extent(1);
  PARE_CHECK(b.teacher_features.extent(0) == n && ds % spatial == 0 && dt % spatial == 0,
             ShapeError, name, ": student_features ", to_string(b.student_features.extents()),
             " and teacher_features ", to_string(b.teacher_features.extents()), " must be [N, C*",
             spatial, "] with the same N");
  detail::check_grad(g.features, b.student_features, name, "student_features");
  const detail::RowWeights weight(b, n, name);
  const std::size_t hw = spatial;
  std::vector<double> qs(hw), qt(hw);
  // q = a / max(‖a‖, eps); returns max(‖a‖, eps) and whether the clamp is active.
  auto attention = [&](TensorView<const float, 1> f, std::vector<double>& q) {
    const std::size_t c = f.extent(0) / hw;
    std::fill(q.begin(), q.end(), 0.0);
    for (std::size_t ch = 0; ch < c; ++ch)
      for (std::size_t k = 0; k < hw; ++k) q[k] += std::pow(std::abs(f[ch * hw + k]), p);
    double norm2 = 0;
    for (double& v : q) {
      v /= static_cast<double>(c);
      norm2 += v * v;
    }
    const double norm = std::max(std::sqrt(norm2), 1e-12);
    for (double& v : q) v /= norm;
    return std::pair{norm, std::sqrt(norm2) < 1e-12};
  };
  double total = 0;
  std::vector<double> u(hw);
  for (std::size_t i = 0; i < n; ++i) {
    const double w = weight(i) / static_cast<double>(hw);
    if (w == 0.0) continue;
    const auto fs = b.student_features[i];
    const auto [norm, clamped] = attention(fs, qs);
    (void)attention(b.teacher_features[i], qt);
    double row = 0, uq = 0;
    for (std::size_t k = 0; k < hw; ++k) {
      const double d = qs[k] - qt[k];
      row += d * d;
      u[k] = 2.0 * w * scale * d;
      uq += u[k] * qs[k];
    }
    total += w * row;
    if (g.features.empty()) continue;
    // Through the normalization: ∂L/∂a = (u − (u·q) q) / ‖a‖ (u / eps when clamped).
    for (std::size_t k = 0; k < hw; ++k) u[k] = (clamped ? u[k] : u[k] - uq * qs[k]) / norm;
    const std::size_t c = ds / hw;
    const auto gr = g.features[i];
    const double pc = static_cast<double>(p) / static_cast<double>(c);
    for (std::size_t ch = 0; ch < c; ++ch) {
      for (std::size_t k = 0; k < hw; ++k) {
        const double f = fs[ch * hw + k];
        if (f == 0.0) continue;  // |f|^(p-1) sign(f) is 0 there for p > 1
        const double da =
            pc * std::pow(std::abs(f), static_cast<double>(p) - 1.0) * (f > 0 ? 1.0 : -1.0);
        gr[ch * hw + k] += static_cast<float>(u[k] * da);
      }
    }
  }
  return static_cast<float>(total);
}

}  // namespace pare
