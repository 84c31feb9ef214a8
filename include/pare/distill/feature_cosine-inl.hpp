// SPDX-License-Identifier: Apache-2.0
// pare — definitions for distill/feature_cosine.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/distill/concepts.hpp"
#include "pare/distill/detail/rows.hpp"
#include "pare/distill/feature_cosine.hpp"

namespace pare {

PARE_INLINE float FeatureCosine::accumulate(const DistillBatch& b, float scale,
                                            const DistillGrad& g) const {
  constexpr const char* name = "FeatureCosine";
  detail::check_present(b.student_features, name, "student_features");
  detail::check_same(b.student_features, b.teacher_features, name, "student_features",
                     "teacher_features");
  detail::check_grad(g.features, b.student_features, name, "student_features");
  const std::size_t n = b.student_features.extent(0), d = b.student_features.extent(1);
  const detail::RowWeights weight(b, n, name);
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double w = weight(i);
    if (w == 0.0) continue;
    const auto s = b.student_features[i];
    const auto t = b.teacher_features[i];
    double ss = 0, tt = 0, st = 0;
    for (std::size_t j = 0; j < d; ++j) {
      ss += static_cast<double>(s[j]) * s[j];
      tt += static_cast<double>(t[j]) * t[j];
      st += static_cast<double>(s[j]) * t[j];
    }
    const double denom = std::max(std::sqrt(ss * tt), static_cast<double>(eps));
    const double cos = st / denom;
    total += w * (1.0 - cos);
    if (!g.features.empty()) {
      // ∂cos/∂s = t / denom − cos · s / ‖s‖² (while the clamp is inactive).
      const bool clamped = std::sqrt(ss * tt) < static_cast<double>(eps);
      const auto gr = g.features[i];
      const double c = -w * scale;
      for (std::size_t j = 0; j < d; ++j) {
        const double dcos = t[j] / denom - (clamped || ss == 0 ? 0.0 : cos * s[j] / ss);
        gr[j] += static_cast<float>(c * dcos);
      }
    }
  }
  return static_cast<float>(total);
}

}  // namespace pare
