// SPDX-License-Identifier: Apache-2.0
// pare — sequence distillation: batch × seq × vocab logits with a padding mask, and soft teacher
// forcing (per-token KL against the teacher's distribution, averaged over real tokens).
#pragma once

#include <cstddef>

#include "pare/core/tensor.hpp"
#include "pare/distill/concepts.hpp"

namespace pare {

/// A DistillBatch whose rows are the B·S token positions of [B, S, V] student and teacher logits,
/// with mask [B, S] (1 = real token, 0 = padding; empty = no padding). No copy: the views are
/// re-shaped, so gradients written for the batch's rows land in a [B·S, V] buffer that is the
/// [B, S, V] gradient.
/// @pre both logits have the same shape; mask is empty or [B, S]; (B, S) packed in memory
///
///   auto b = pare::sequence_batch(student_logits, teacher_logits, pad_mask);
///   auto [loss, grad] = pare::loss_and_grad(pare::SoftTeacherForcing{}, b);
[[nodiscard]] DistillBatch sequence_batch(TensorView<const float, 3> student,
                                          TensorView<const float, 3> teacher,
                                          TensorView<const float, 2> mask = {});

/// Soft teacher forcing for sequence models: at every unmasked token position, the student's
/// next-token distribution matches the teacher's, T² · KL(softmax(t/T) ‖ softmax(s/T)), averaged
/// over the real tokens (Σ mask), not over B·S — padding neither counts nor dilutes. The same
/// arithmetic as SoftKL; named for what it does in a sequence pipeline, with T = 1 by default as
/// is usual for language models. Feed it `sequence_batch(...)`.
struct SoftTeacherForcing {
  float temperature = 1.0f;

  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g) const;
};

static_assert(DistillLoss<SoftTeacherForcing>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/distill/sequence-inl.hpp"
#endif
