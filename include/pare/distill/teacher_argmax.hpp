// SPDX-License-Identifier: Apache-2.0
// pare — TeacherArgmax: hard teacher forcing, cross-entropy with the teacher's top class.
#pragma once

#include <cstddef>

#include "pare/distill/concepts.hpp"
#include "pare/distill/detail/rows.hpp"
#include "pare/distill/hard_label.hpp"

namespace pare {

/// Cross-entropy of the student with argmax(teacher_logits) as the label (first index on ties,
/// as torch.argmax), optionally label-smoothed: `F.cross_entropy(s, t.argmax(1),
/// label_smoothing=ε)`. Hard teacher forcing / pseudo-labelling: use it when ground-truth labels
/// are missing (unlabelled transfer data), or, per token, for sequence-level distillation with
/// the teacher's greedy output. Needs student_logits and teacher_logits [N, C].
struct TeacherArgmax {
  float label_smoothing = 0.0f;

  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g) const {
    constexpr const char* name = "TeacherArgmax";
    detail::check_present(b.student_logits, name, "student_logits");
    detail::check_same(b.student_logits, b.teacher_logits, name, "student_logits",
                       "teacher_logits");
    detail::check_grad(g.logits, b.student_logits, name, "student_logits");
    detail::check_smoothing(label_smoothing, name);
    return detail::smoothed_cross_entropy(
        b, label_smoothing, scale, g,
        [&](std::size_t i) {
          const auto t = b.teacher_logits[i];
          std::size_t best = 0;
          for (std::size_t j = 1; j < t.extent(0); ++j)
            if (t[j] > t[best]) best = j;
          return best;
        },
        name);
  }
};

static_assert(DistillLoss<TeacherArgmax>);

}  // namespace pare
