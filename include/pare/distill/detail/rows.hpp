// SPDX-License-Identifier: Apache-2.0
// pare — shared checks and row bookkeeping of the distillation losses (not public API).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/distill/concepts.hpp"
#include "pare/simd/arch.hpp"

namespace pare::detail {

/// Floats of logits one task of a row-wise loss takes at least (a 32000-class row is one task:
/// tens of µs of exp work).
inline constexpr std::size_t distill_task_floats = std::size_t{1} << 15;

/// Per-row weights and their normalizer: row i counts mask[i] / Σ mask (1 / N without a mask).
class RowWeights {
 public:
  /// Reads b.mask; throws ShapeError unless it is empty or has `rows` entries, ArgumentError for
  /// a negative or non-finite weight (`loss` names the caller).
  RowWeights(const DistillBatch& b, std::size_t rows, const char* loss);

  /// Weight of row i already divided by the normalizer; 0 for a masked row (skip it).
  [[nodiscard]] double operator()(std::size_t i) const noexcept {
    if (total_ <= 0) return 0.0;
    return (mask_.empty() ? 1.0 : static_cast<double>(mask_[i])) / total_;
  }

 private:
  TensorView<const float, 1> mask_;
  double total_ = 0;
};

/// Throws ShapeError naming `field` of DistillBatch when `v` is empty.
void check_present(TensorView<const float, 2> v, const char* loss, const char* field);

/// Throws ShapeError unless fields `fa` and `fb` have the same shape.
void check_same(TensorView<const float, 2> a, TensorView<const float, 2> b, const char* loss,
                const char* fa, const char* fb);

/// Throws ShapeError unless the gradient view is empty or shaped as `like`.
void check_grad(TensorView<float, 2> g, TensorView<const float, 2> like, const char* loss,
                const char* field);

/// Throws ShapeError unless there is one label per row, ArgumentError for a label outside
/// [0, classes).
void check_labels(TensorView<const std::int32_t, 1> labels, std::size_t rows, std::size_t classes,
                  const char* loss);

/// Throws ArgumentError unless the temperature is positive and finite.
void check_temperature(float t, const char* loss);

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

#ifndef PARE_COMPILED_LIB
#include "pare/distill/detail/rows-inl.hpp"
#endif
