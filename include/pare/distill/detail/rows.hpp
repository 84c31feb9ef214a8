// SPDX-License-Identifier: Apache-2.0
// pare — shared checks and row bookkeeping of the distillation losses (not public API).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/distill/concepts.hpp"
#include "pare/simd/arch.hpp"

namespace pare::detail {

/// Per-row weights and their normalizer: row i counts mask[i] / Σ mask (1 / N without a mask).
class RowWeights {
 public:
  RowWeights(const DistillBatch& b, std::size_t rows, const char* loss) : mask_(b.mask) {
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
  /// Weight of row i already divided by the normalizer; 0 for a masked row (skip it).
  [[nodiscard]] double operator()(std::size_t i) const noexcept {
    if (total_ <= 0) return 0.0;
    return (mask_.empty() ? 1.0 : static_cast<double>(mask_[i])) / total_;
  }

 private:
  TensorView<const float, 1> mask_;
  double total_ = 0;
};

inline void check_present(TensorView<const float, 2> v, const char* loss, const char* field) {
  PARE_CHECK(!v.empty(), ShapeError, loss, " needs DistillBatch::", field,
             " (it is empty or has a zero extent)");
}

inline void check_same(TensorView<const float, 2> a, TensorView<const float, 2> b, const char* loss,
                       const char* fa, const char* fb) {
  PARE_CHECK(a.extents() == b.extents(), ShapeError, loss, ": ", fa, " ", to_string(a.extents()),
             " and ", fb, " ", to_string(b.extents()), " must have the same shape");
}

inline void check_grad(TensorView<float, 2> g, TensorView<const float, 2> like, const char* loss,
                       const char* field) {
  PARE_CHECK(g.empty() || g.extents() == like.extents(), ShapeError, loss, ": gradient view ",
             to_string(g.extents()), " does not match ", field, " ", to_string(like.extents()));
}

inline void check_labels(TensorView<const std::int32_t, 1> labels, std::size_t rows,
                         std::size_t classes, const char* loss) {
  PARE_CHECK(labels.extent(0) == rows && !labels.empty(), ShapeError, loss,
             " needs DistillBatch::labels with one label per row: got ",
             to_string(labels.extents()), " for ", rows, " rows");
  for (std::size_t i = 0; i < rows; ++i)
    PARE_CHECK(labels[i] >= 0 && static_cast<std::size_t>(labels[i]) < classes, ArgumentError, loss,
               ": label ", labels[i], " of row ", i, " is outside [0, ", classes, ")");
}

inline void check_temperature(float t, const char* loss) {
  PARE_CHECK(std::isfinite(t) && t > 0.0f, ArgumentError, loss,
             ": temperature must be positive and finite, got ", t);
}

/// A row's elements as a contiguous pointer: the row itself when its stride is 1, else a copy in
/// `scratch` (strided views are rare; the losses' kernels want unit stride).
inline const float* contiguous_row(TensorView<const float, 2> m, std::size_t i,
                                   std::vector<float>& scratch) {
  const auto row = m[i];
  if (row.stride(0) == 1 || row.extent(0) <= 1) return row.data();
  scratch.resize(row.extent(0));
  for (std::size_t j = 0; j < row.extent(0); ++j) scratch[j] = row[j];
  return scratch.data();
}

/// The gradient row as a contiguous buffer: the row itself at unit stride, else `scratch`
/// (zeroed) whose contents `finish_grad_row` adds back.
inline float* grad_row(TensorView<float, 2> g, std::size_t i, std::vector<float>& scratch) {
  if (g.empty()) return nullptr;
  const auto row = g[i];
  if (row.stride(0) == 1 || row.extent(0) <= 1) return row.data();
  scratch.assign(row.extent(0), 0.0f);
  return scratch.data();
}
inline void finish_grad_row(TensorView<float, 2> g, std::size_t i, const float* buf) {
  if (g.empty()) return;
  const auto row = g[i];
  if (row.stride(0) == 1 || row.extent(0) <= 1) return;
  for (std::size_t j = 0; j < row.extent(0); ++j) row[j] += buf[j];
}

}  // namespace pare::detail
