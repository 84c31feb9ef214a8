// SPDX-License-Identifier: Apache-2.0
// pare — FeatureCosine: 1 − cosine similarity between student and teacher feature rows.
#pragma once

#include "pare/distill/concepts.hpp"

namespace pare {

/// Mean over rows of 1 − cos(f_s, f_t), as `(1 - F.cosine_similarity(f_s, f_t, dim=1)).mean()`.
/// Matches the direction of each representation and ignores its scale (DistilBERT's hidden-state
/// loss). The product of the norms is clamped at `eps` (as PyTorch does), so zero rows give 1 and
/// a finite gradient. Needs student_features and teacher_features of the same shape.
struct FeatureCosine {
  float eps = 1e-8f;

  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g) const;
};

static_assert(DistillLoss<FeatureCosine>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/distill/feature_cosine-inl.hpp"
#endif
