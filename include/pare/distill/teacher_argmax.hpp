// SPDX-License-Identifier: Apache-2.0
// pare — TeacherArgmax: hard teacher forcing, cross-entropy with the teacher's top class.
#pragma once

#include "pare/distill/concepts.hpp"

namespace pare {

/// Cross-entropy of the student with argmax(teacher_logits) as the label (first index on ties,
/// as torch.argmax), optionally label-smoothed: `F.cross_entropy(s, t.argmax(1),
/// label_smoothing=ε)`. Hard teacher forcing / pseudo-labelling: use it when ground-truth labels
/// are missing (unlabelled transfer data), or, per token, for sequence-level distillation with
/// the teacher's greedy output. Needs student_logits and teacher_logits [N, C].
struct TeacherArgmax {
  float label_smoothing = 0.0f;

  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g) const;
};

static_assert(DistillLoss<TeacherArgmax>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/distill/teacher_argmax-inl.hpp"
#endif
