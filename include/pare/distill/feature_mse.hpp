// SPDX-License-Identifier: Apache-2.0
// pare — FeatureMSE: mean squared error between student and teacher features.
#pragma once

#include "pare/distill/concepts.hpp"

namespace pare {

/// Mean over all elements of (f_s − f_t)², as `F.mse_loss(f_s, f_t)`; with a mask, the mean over
/// the unmasked rows' elements. Matches hidden representations of equal width directly (use Hint
/// when the widths differ). Needs student_features and teacher_features of the same shape.
struct FeatureMSE {
  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g) const;
};

static_assert(DistillLoss<FeatureMSE>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/distill/feature_mse-inl.hpp"
#endif
