// SPDX-License-Identifier: Apache-2.0
// pare — ReverseKL: KL(student_T ‖ teacher_T) · T², the mode-seeking direction.
#pragma once

#include "pare/distill/concepts.hpp"

namespace pare {

/// T² · KL(softmax(s/T) ‖ softmax(t/T)), averaged over rows. Where SoftKL makes the student
/// cover every mode of the teacher, the reverse direction lets it commit to the teacher's largest
/// modes — the usual choice when a small language model cannot represent the teacher's whole
/// distribution (MiniLLM, Gu et al. 2024). Equals
/// `F.kl_div(log_softmax(t/T), log_softmax(s/T), reduction="batchmean", log_target=True) * T*T`.
struct ReverseKL {
  float temperature = 1.0f;

  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g) const;
};

static_assert(DistillLoss<ReverseKL>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/distill/reverse_kl-inl.hpp"
#endif
