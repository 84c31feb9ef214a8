// SPDX-License-Identifier: Apache-2.0
// pare — FeatureCosine: 1 − cosine similarity between student and teacher feature rows.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "pare/distill/concepts.hpp"
#include "pare/distill/detail/rows.hpp"

namespace pare {

/// Mean over rows of 1 − cos(f_s, f_t), as `(1 - F.cosine_similarity(f_s, f_t, dim=1)).mean()`.
/// Matches the direction of each representation and ignores its scale (DistilBERT's hidden-state
/// loss). The product of the norms is clamped at `eps` (as PyTorch does), so zero rows give 1 and
/// a finite gradient. Needs student_features and teacher_features of the same shape.
struct FeatureCosine {
  float eps = 1e-8f;

  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g) const {
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
};

static_assert(DistillLoss<FeatureCosine>);

}  // namespace pare
