// SPDX-License-Identifier: Apache-2.0
// pare — definitions for distill/sequence.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/distill/concepts.hpp"
#include "pare/distill/detail/divergence_loss.hpp"
#include "pare/distill/row_kernels.hpp"
#include "pare/distill/sequence.hpp"

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

PARE_INLINE DistillBatch sequence_batch(TensorView<const float, 3> student,
                                        TensorView<const float, 3> teacher,
                                        TensorView<const float, 2> mask) {
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

PARE_INLINE float SoftTeacherForcing::accumulate(const DistillBatch& b, float scale,
                                                 const DistillGrad& g) const {
  return detail::divergence_loss<kernels::Divergence::forward_kl>(b, temperature, scale, g,
                                                                  "SoftTeacherForcing");
}

}  // namespace pare
