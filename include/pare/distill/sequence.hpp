// SPDX-License-Identifier: Apache-2.0
// pare — sequence distillation: batch × seq × vocab logits with a padding mask, and soft teacher
// forcing (per-token KL against the teacher's distribution, averaged over real tokens).
#pragma once

#include <cstddef>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/distill/concepts.hpp"
#include "pare/distill/detail/divergence_loss.hpp"

namespace pare {

namespace detail {
template <class T, std::size_t R>
TensorView<T, R - 1> merge_leading(TensorView<T, R> v, const char* what) {
  PARE_CHECK(v.extent(0) <= 1 || v.extent(1) == 0 ||
                 v.stride(0) == static_cast<std::ptrdiff_t>(v.extent(1)) * v.stride(1),
             ShapeError, "sequence_batch: ", what, " ", to_string(v.extents()),
             " must have its batch and sequence dimensions packed (stride(0) == extent(1) * "
             "stride(1)) to be viewed as rows");
  Shape<R - 1> e;
  Strides<R - 1> s;
  e[0] = v.extent(0) * v.extent(1);
  s[0] = v.stride(1);
  for (std::size_t d = 2; d < R; ++d) {
    e[d - 1] = v.extent(d);
    s[d - 1] = v.stride(d);
  }
  return TensorView<T, R - 1>(v.data(), e, s);
}
}  // namespace detail

/// A DistillBatch whose rows are the B·S token positions of [B, S, V] student and teacher logits,
/// with mask [B, S] (1 = real token, 0 = padding; empty = no padding). No copy: the views are
/// re-shaped, so gradients written for the batch's rows land in a [B·S, V] buffer that is the
/// [B, S, V] gradient.
/// @pre both logits have the same shape; mask is empty or [B, S]; (B, S) packed in memory
///
///   auto b = pare::sequence_batch(student_logits, teacher_logits, pad_mask);
///   auto [loss, grad] = pare::loss_and_grad(pare::SoftTeacherForcing{}, b);
[[nodiscard]] inline DistillBatch sequence_batch(TensorView<const float, 3> student,
                                                 TensorView<const float, 3> teacher,
                                                 TensorView<const float, 2> mask = {}) {
  PARE_CHECK(student.extents() == teacher.extents(), ShapeError, "sequence_batch: student logits ",
             to_string(student.extents()), " and teacher logits ", to_string(teacher.extents()),
             " differ");
  PARE_CHECK(
      mask.empty() || (mask.extent(0) == student.extent(0) && mask.extent(1) == student.extent(1)),
      ShapeError, "sequence_batch: mask ", to_string(mask.extents()),
      " must be [batch, seq] of logits ", to_string(student.extents()));
  DistillBatch b;
  b.student_logits = detail::merge_leading(student, "student logits");
  b.teacher_logits = detail::merge_leading(teacher, "teacher logits");
  if (!mask.empty()) b.mask = detail::merge_leading(mask, "mask");
  return b;
}

/// Soft teacher forcing for sequence models: at every unmasked token position, the student's
/// next-token distribution matches the teacher's, T² · KL(softmax(t/T) ‖ softmax(s/T)), averaged
/// over the real tokens (Σ mask), not over B·S — padding neither counts nor dilutes. The same
/// arithmetic as SoftKL; named for what it does in a sequence pipeline, with T = 1 by default as
/// is usual for language models. Feed it `sequence_batch(...)`.
struct SoftTeacherForcing {
  float temperature = 1.0f;

  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g) const {
    return detail::divergence_loss<kernels::Divergence::forward_kl>(b, temperature, scale, g,
                                                                    "SoftTeacherForcing");
  }
};

static_assert(DistillLoss<SoftTeacherForcing>);

}  // namespace pare
