// SPDX-License-Identifier: Apache-2.0
// pare — definitions for distill/hard_label.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/distill/concepts.hpp"
#include "pare/distill/detail/rows.hpp"
#include "pare/distill/hard_label.hpp"

namespace pare {

namespace detail {

PARE_INLINE void check_smoothing(float eps, const char* name) {
  PARE_CHECK(eps >= 0.0f && eps <= 1.0f, ArgumentError, name,
             ": label_smoothing must be in [0, 1], got ", eps);
}

}  // namespace detail

PARE_INLINE float HardLabel::accumulate(const DistillBatch& b, float scale,
                                        const DistillGrad& g) const {
  constexpr const char* name = "HardLabel";
  detail::check_present(b.student_logits, name, "student_logits");
  detail::check_grad(g.logits, b.student_logits, name, "student_logits");
  detail::check_smoothing(label_smoothing, name);
  detail::check_labels(b.labels, b.student_logits.extent(0), b.student_logits.extent(1), name);
  return detail::smoothed_cross_entropy(
      b, label_smoothing, scale, g,
      [&](std::size_t i) { return static_cast<std::size_t>(b.labels[i]); }, name);
}

}  // namespace pare
