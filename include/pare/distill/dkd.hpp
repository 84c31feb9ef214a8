// SPDX-License-Identifier: Apache-2.0
// pare — DKD: decoupled knowledge distillation (Zhao et al., CVPR 2022).
#pragma once

#include "pare/distill/concepts.hpp"

namespace pare {

/// Decoupled KD splits Hinton's KL into a target-class term and a non-target-class term and
/// weights them separately, T² · (α · TCKD + β · NCKD), averaged over rows:
///  - TCKD = KL([b_t, 1 − b_t] ‖ [b_s, 1 − b_s]), b = the tempered probability of the true class;
///  - NCKD = KL(q̂ ‖ p̂), the tempered distributions over the other classes only, renormalized.
/// β > 1 (8 on CIFAR-100 in the paper, the default here) lifts the "dark knowledge" in the
/// non-target classes that plain KD suppresses when the teacher is confident. Agrees with the
/// authors' mdistiller `dkd_loss` (whose `- 1000 * gt_mask` trick this computes exactly, and in
/// log space, so confident teachers and ±1e4 logits stay finite). Needs student_logits,
/// teacher_logits [N, C ≥ 2] and labels [N]. (mdistiller also ramps the loss in over the first
/// epochs; scale the composed term yourself if you want that warm-up.)
struct DKD {
  float alpha = 1.0f;
  float beta = 8.0f;
  float temperature = 4.0f;

  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g) const;
};

static_assert(DistillLoss<DKD>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/distill/dkd-inl.hpp"
#endif
