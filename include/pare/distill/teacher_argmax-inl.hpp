// SPDX-License-Identifier: Apache-2.0
// pare — definitions for distill/teacher_argmax.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/distill/concepts.hpp"
#include "pare/distill/detail/rows.hpp"
#include "pare/distill/hard_label.hpp"
#include "pare/distill/teacher_argmax.hpp"

namespace pare {

PARE_INLINE float TeacherArgmax::accumulate(const DistillBatch& b, float scale,
                                            const DistillGrad& g) const {
  constexpr const char* name = "TeacherArgmax";
  detail::check_present(b.student_logits, name, "student_logits");
  detail::check_same(b.student_logits, b.teacher_logits, name, "student_logits", "teacher_logits");
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

}  // namespace pare
