// SPDX-License-Identifier: Apache-2.0
// pare — definitions for distill/detail/rows.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/distill/concepts.hpp"
#include "pare/distill/detail/rows.hpp"

namespace pare::detail {

PARE_INLINE RowWeights::RowWeights(const DistillBatch& b, std::size_t rows, const char* loss)
    : mask_(b.mask) {
  if (mask_.empty()) {
    total_ = static_cast<double>(rows);
    return;
  }
  PARE_CHECK(mask_.extent(0) == rows, ShapeError, loss, ": mask ", to_string(mask_.extents()),
             " does not match the batch's ", rows, " rows");
  total_ = 0;
  for (std::size_t i = 0; i < rows; ++i) {
    const float w = mask_[i];
    PARE_CHECK(std::isfinite(w) && w >= 0.0f, ArgumentError, loss, ": mask[", i, "] = ", w,
               "; mask weights must be finite and non-negative");
    total_ += w;
  }
}

PARE_INLINE void check_present(TensorView<const float, 2> v, const char* loss, const char* field) {
  PARE_CHECK(!v.empty(), ShapeError, loss, " needs DistillBatch::", field,
             " (it is empty or has a zero extent)");
}

PARE_INLINE void check_same(TensorView<const float, 2> a, TensorView<const float, 2> b,
                            const char* loss, const char* fa, const char* fb) {
  PARE_CHECK(a.extents() == b.extents(), ShapeError, loss, ": ", fa, " ", to_string(a.extents()),
             " and ", fb, " ", to_string(b.extents()), " must have the same shape");
}

PARE_INLINE void check_grad(TensorView<float, 2> g, TensorView<const float, 2> like,
                            const char* loss, const char* field) {
  PARE_CHECK(g.empty() || g.extents() == like.extents(), ShapeError, loss, ": gradient view ",
             to_string(g.extents()), " does not match ", field, " ", to_string(like.extents()));
}

PARE_INLINE void check_labels(TensorView<const std::int32_t, 1> labels, std::size_t rows,
                              std::size_t classes, const char* loss) {
  PARE_CHECK(labels.extent(0) == rows && !labels.empty(), ShapeError, loss,
             " needs DistillBatch::labels with one label per row: got ",
             to_string(labels.extents()), " for ", rows, " rows");
  for (std::size_t i = 0; i < rows; ++i)
    PARE_CHECK(labels[i] >= 0 && static_cast<std::size_t>(labels[i]) < classes, ArgumentError, loss,
               ": label ", labels[i], " of row ", i, " is outside [0, ", classes, ")");
}

PARE_INLINE void check_temperature(float t, const char* loss) {
  PARE_CHECK(std::isfinite(t) && t > 0.0f, ArgumentError, loss,
             ": temperature must be positive and finite, got ", t);
}

}  // namespace pare::detail
