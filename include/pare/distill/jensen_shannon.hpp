// SPDX-License-Identifier: Apache-2.0
// pare — JensenShannon: the symmetric, bounded divergence between teacher_T and student_T.
#pragma once

#include "pare/distill/concepts.hpp"

namespace pare {

/// T² · JS(q, p) = T² · (½ KL(q ‖ m) + ½ KL(p ‖ m)), m = ½(q + p), q = softmax(t/T),
/// p = softmax(s/T), averaged over rows. Symmetric and bounded by T² log 2 per row, so a row where
/// teacher and student disagree completely cannot dominate the batch (generalized KD, Agarwal et
/// al. 2024, uses it between the two KL directions).
struct JensenShannon {
  float temperature = 1.0f;

  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g) const;
};

static_assert(DistillLoss<JensenShannon>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/distill/jensen_shannon-inl.hpp"
#endif
