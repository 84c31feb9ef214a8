// SPDX-License-Identifier: Apache-2.0
// pare — the shared body of SoftKL, ReverseKL, JensenShannon and SoftTeacherForcing: a row-wise
// divergence between the tempered softmax of teacher and student logits (not public API).
#pragma once

#include <cstddef>
#include <vector>

#include "pare/core/parallel.hpp"
#include "pare/distill/concepts.hpp"
#include "pare/distill/detail/rows.hpp"
#include "pare/distill/row_kernels.hpp"
#include "pare/simd/dispatch.hpp"

namespace pare::detail {

/// Σ_i w_i · T² · D(softmax(t_i/T), softmax(s_i/T)) with w_i = mask_i / Σ mask; adds
/// scale · ∂/∂s into g.logits. ∂/∂s = (1/T) ∂/∂(s/T), hence the grad scale T · w_i · scale.
template <kernels::Divergence D>
float divergence_loss(const DistillBatch& b, float temperature, float scale, const DistillGrad& g,
                      const char* name) {
  check_present(b.student_logits, name, "student_logits");
  check_same(b.student_logits, b.teacher_logits, name, "student_logits", "teacher_logits");
  check_grad(g.logits, b.student_logits, name, "student_logits");
  check_temperature(temperature, name);
  const std::size_t n = b.student_logits.extent(0), c = b.student_logits.extent(1);
  const RowWeights weight(b, n, name);
  const float inv_t = 1.0f / temperature;
  const double t2 = static_cast<double>(temperature) * temperature;
  // Rows in parallel, each computed whole by one task into its own partial; the partials are
  // summed in row order afterwards, so the loss does not depend on the thread count.
  std::vector<double> partial(n, 0.0);
  parallel_for(
      0, n, distill_task_floats / (c > 0 ? c : 1) + 1, [&](std::size_t lo, std::size_t hi) {
        std::vector<float> s_buf, t_buf, g_buf, scratch(2 * c);
        for (std::size_t i = lo; i < hi; ++i) {
          const double w = weight(i);
          if (w == 0.0) continue;
          const float* s = contiguous_row(b.student_logits, i, s_buf);
          const float* t = contiguous_row(b.teacher_logits, i, t_buf);
          float* gr = grad_row(g.logits, i, g_buf);
          const auto gs = static_cast<float>(static_cast<double>(scale) * temperature * w);
          float row;
          // The next rows of this task to prefetch, when they are contiguous (the common case).
          kernels::RowPrefetch next;
          if (i + 1 < hi && b.student_logits.stride(1) == 1 && b.teacher_logits.stride(1) == 1)
            next = {b.student_logits[i + 1].data(), b.teacher_logits[i + 1].data()};
          if constexpr (simd::has_simd)
            row = simd::dispatch([&](auto arch) {
              return kernels::DivergenceRow<D>{}(arch, s, t, c, inv_t, gs, gr, scratch.data(),
                                                 next);
            });
          else
            row = kernels::reference::divergence_row<D>(s, t, c, inv_t, gs, gr);
          finish_grad_row(g.logits, i, gr);
          partial[i] = w * row;
        }
      });
  double total = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (weight(i) != 0.0) total += partial[i];
  return static_cast<float>(total * t2);
}

}  // namespace pare::detail
