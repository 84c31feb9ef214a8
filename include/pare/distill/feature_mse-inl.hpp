// SPDX-License-Identifier: Apache-2.0
// pare — definitions for distill/feature_mse.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/distill/concepts.hpp"
#include "pare/distill/detail/rows.hpp"
#include "pare/distill/feature_mse.hpp"

namespace pare {

PARE_INLINE float FeatureMSE::accumulate(const DistillBatch& b, float scale,
                                         const DistillGrad& g) const {
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

}  // namespace pare
