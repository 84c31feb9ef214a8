// SPDX-License-Identifier: Apache-2.0
// pare — SoftKL: Hinton's soft-target loss, KL(teacher_T ‖ student_T) · T².
#pragma once

#include "pare/distill/concepts.hpp"

namespace pare {

/// Hinton et al. (2015) soft targets: T² · KL(softmax(t/T) ‖ softmax(s/T)), averaged over rows
/// ("batchmean"), exactly
/// `F.kl_div(F.log_softmax(s/T, 1), F.log_softmax(t/T, 1), reduction="batchmean",
/// log_target=True) * T*T`. The T² keeps the gradient, T · (p − q) / N, on the scale of a
/// hard-label loss as T changes. Needs student_logits and teacher_logits [N, C].
///
///   auto loss = 0.7 * pare::SoftKL{.temperature = 4} + 0.3 * pare::HardLabel{};
struct SoftKL {
  float temperature = 1.0f;

  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g) const;
};

static_assert(DistillLoss<SoftKL>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/distill/soft_kl-inl.hpp"
#endif
