// SPDX-License-Identifier: Apache-2.0
// pare — FeatureMSE: mean squared error between student and teacher features.
#pragma once

#include <cstddef>

#include "pare/distill/concepts.hpp"
#include "pare/distill/detail/rows.hpp"

namespace pare {

/// Mean over all elements of (f_s − f_t)², as `F.mse_loss(f_s, f_t)`; with a mask, the mean over
/// the unmasked rows' elements. Matches hidden representations of equal width directly (use Hint
/// when the widths differ). Needs student_features and teacher_features of the same shape.
struct FeatureMSE {
  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g) const {
    constexpr const char* name = "FeatureMSE";
    detail::check_present(b.student_features, name, "student_features");
    detail::check_same(b.student_features, b.teacher_features, name, "student_features",
                       "teacher_features");
    detail::check_grad(g.features, b.student_features, name, "student_features");
    const std::size_t n = b.student_features.extent(0), d = b.student_features.extent(1);
    const detail::RowWeights weight(b, n, name);
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double w = weight(i) / static_cast<double>(d);
      if (w == 0.0) continue;
      const auto s = b.student_features[i];
      const auto t = b.teacher_features[i];
      float row = 0;  // float lanes: the compiler vectorizes this loop
      for (std::size_t j = 0; j < d; ++j) row += (s[j] - t[j]) * (s[j] - t[j]);
      total += w * row;
      if (!g.features.empty()) {
        const auto gr = g.features[i];
        const auto c = static_cast<float>(2.0 * w * scale);
        for (std::size_t j = 0; j < d; ++j) gr[j] += c * (s[j] - t[j]);
      }
    }
    return static_cast<float>(total);
  }
};

static_assert(DistillLoss<FeatureMSE>);

}  // namespace pare
