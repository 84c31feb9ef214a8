// SPDX-License-Identifier: Apache-2.0
// pare — HardLabel: cross-entropy of the student with the ground truth, with label smoothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "pare/core/parallel.hpp"
#include "pare/distill/concepts.hpp"
#include "pare/distill/detail/rows.hpp"
#include "pare/distill/row_kernels.hpp"
#include "pare/simd/dispatch.hpp"

namespace pare {

namespace detail {

/// Throws ArgumentError unless label smoothing `eps` is in [0, 1].
void check_smoothing(float eps, const char* name);

/// Σ_i w_i · CE(softmax(s_i), (1 − ε) onehot(label(i)) + ε / C); adds scale · ∂/∂s to g.logits.
template <class LabelOf>
float smoothed_cross_entropy(const DistillBatch& b, float smoothing, float scale,
                             const DistillGrad& g, LabelOf label_of, const char* name) {
  const std::size_t n = b.student_logits.extent(0), c = b.student_logits.extent(1);
  const RowWeights weight(b, n, name);
  // Rows in parallel into per-row partials, summed in row order: thread-count independent.
  // label_of(i) only reads, so it may be called from several tasks at once.
  std::vector<double> partial(n, 0.0);
  parallel_for(
      0, n, distill_task_floats / (c > 0 ? c : 1) + 1, [&](std::size_t lo, std::size_t hi) {
        std::vector<float> s_buf, g_buf;
        for (std::size_t i = lo; i < hi; ++i) {
          const double w = weight(i);
          if (w == 0.0) continue;
          const float* s = contiguous_row(b.student_logits, i, s_buf);
          float* gr = grad_row(g.logits, i, g_buf);
          const auto gs = static_cast<float>(static_cast<double>(scale) * w);
          const std::size_t y = label_of(i);
          float row;
          if constexpr (simd::has_simd)
            row = simd::dispatch([&](auto arch) {
              return kernels::SmoothedCrossEntropyRow{}(arch, s, c, y, smoothing, gs, gr);
            });
          else
            row = kernels::reference::smoothed_cross_entropy_row(s, c, y, smoothing, gs, gr);
          finish_grad_row(g.logits, i, gr);
          partial[i] = w * row;
        }
      });
  double total = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (weight(i) != 0.0) total += partial[i];
  return static_cast<float>(total);
}

}  // namespace detail

/// Cross-entropy with the ground-truth labels, as
/// `F.cross_entropy(s, labels, label_smoothing=ε)`: the target is (1 − ε)·onehot + ε/C. The
/// "student" term of Hinton's recipe; smoothing ε ≈ 0.1 regularizes a student that would
/// otherwise become over-confident. Needs student_logits [N, C] and labels [N].
struct HardLabel {
  float label_smoothing = 0.0f;

  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g) const;
};

static_assert(DistillLoss<HardLabel>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/distill/hard_label-inl.hpp"
#endif
