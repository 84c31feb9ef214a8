// SPDX-License-Identifier: Apache-2.0
// pare — definitions for distill/hint.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/distill/concepts.hpp"
#include "pare/distill/detail/rows.hpp"
#include "pare/distill/hint.hpp"

namespace pare {

PARE_INLINE Hint::Hint(std::size_t student_dim, std::size_t teacher_dim)
    : weight_({teacher_dim, student_dim}),
      bias_({teacher_dim}),
      weight_grad_({teacher_dim, student_dim}),
      bias_grad_({teacher_dim}) {
  PARE_CHECK(student_dim > 0 && teacher_dim > 0, ArgumentError,
             "Hint needs positive feature widths, got student ", student_dim, " teacher ",
             teacher_dim);
}

PARE_INLINE Hint::Hint(std::size_t student_dim, std::size_t teacher_dim, Rng& rng)
    : Hint(student_dim, teacher_dim) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(student_dim));
  for (float& v : weight_.span()) v = rng.uniform(-bound, bound);
  for (float& v : bias_.span()) v = rng.uniform(-bound, bound);
}

PARE_INLINE float Hint::accumulate(const DistillBatch& b, float scale, const DistillGrad& g) {
  constexpr const char* name = "Hint";
  detail::check_present(b.student_features, name, "student_features");
  detail::check_present(b.teacher_features, name, "teacher_features");
  const std::size_t n = b.student_features.extent(0);
  const std::size_t ds = student_dim(), dt = teacher_dim();
  PARE_CHECK(b.student_features.extent(1) == ds && b.teacher_features.extent(0) == n &&
                 b.teacher_features.extent(1) == dt,
             ShapeError, "Hint(", ds, " -> ", dt, "): student_features ",
             to_string(b.student_features.extents()), " and teacher_features ",
             to_string(b.teacher_features.extents()), " must be [N, ", ds, "] and [N, ", dt, "]");
  detail::check_grad(g.features, b.student_features, name, "student_features");
  const detail::RowWeights weight(b, n, name);
  std::vector<float> r(dt);
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double w = weight(i) / static_cast<double>(dt);
    if (w == 0.0) continue;
    const auto s = b.student_features[i];
    const auto t = b.teacher_features[i];
    double row = 0;
    for (std::size_t o = 0; o < dt; ++o) {
      const float* wo = &weight_(o, std::size_t{0});
      float y = bias_[o];
      for (std::size_t k = 0; k < ds; ++k) y += wo[k] * s[k];
      r[o] = y - t[o];
      row += static_cast<double>(r[o]) * r[o];
    }
    total += w * row;
    if (g.features.empty()) continue;
    // ∂L/∂y = 2 w r; ∂L/∂f_s = (∂L/∂y) W, ∂L/∂W += (∂L/∂y)ᵀ f_s, ∂L/∂b += ∂L/∂y.
    const auto c = static_cast<float>(2.0 * w * scale);
    const auto gs = g.features[i];
    for (std::size_t o = 0; o < dt; ++o) {
      const float dy = c * r[o];
      const float* wo = &weight_(o, std::size_t{0});
      float* gwo = &weight_grad_(o, std::size_t{0});
      for (std::size_t k = 0; k < ds; ++k) {
        gs[k] += dy * wo[k];
        gwo[k] += dy * s[k];
      }
      bias_grad_[o] += dy;
    }
  }
  return static_cast<float>(total);
}

PARE_INLINE void Hint::zero_grad() noexcept {
  for (float& v : weight_grad_.span()) v = 0.0f;
  for (float& v : bias_grad_.span()) v = 0.0f;
}

}  // namespace pare
