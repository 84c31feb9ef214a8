// SPDX-License-Identifier: Apache-2.0
// pare — compressed sparse rows: f32 values (Csr) and int8 values with one scale per row
// (CsrInt8), each with 16- or 32-bit column indices.
//
// Row r's kept weights are values[row_ptr[r] .. row_ptr[r+1]) at columns col[...], in increasing
// column order. 16-bit indices cut a kept f32 weight from 8 to 6 bytes, which is what lets a
// memory-bound sparse GEMV at 90 % sparsity beat the dense one by more than 6x.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/sparse/concepts.hpp"

namespace pare {

namespace detail {

template <class Index>
inline void check_index_range(std::size_t rows, std::size_t cols, const char* format) {
  // Gathers take int32 offsets, so even 32-bit indices must stay below 2^31.
  constexpr std::size_t limit = std::min<std::size_t>(std::numeric_limits<Index>::max(),
                                                      std::numeric_limits<std::int32_t>::max());
  PARE_CHECK(cols == 0 || cols - 1 <= limit, ArgumentError, format, ": ", cols,
             " columns do not fit in ", sizeof(Index) * 8, "-bit column indices",
             sizeof(Index) < 4 ? " (use std::uint32_t indices)" : "");
  PARE_CHECK(rows < std::numeric_limits<std::uint32_t>::max(), ArgumentError, format, ": ", rows,
             " rows are too many");
}

/// Checks raw CSR arrays: row_ptr has rows + 1 non-decreasing entries from 0 to nnz, columns are
/// < cols and strictly increasing within each row.
template <class Index>
inline void check_csr_arrays(std::size_t rows, std::size_t cols,
                             const std::vector<std::uint32_t>& row_ptr,
                             const std::vector<Index>& col, std::size_t values) {
  PARE_CHECK(row_ptr.size() == rows + 1, ArgumentError, "CSR: row_ptr has ", row_ptr.size(),
             " entries, expected rows + 1 = ", rows + 1);
  PARE_CHECK(row_ptr[0] == 0 && row_ptr[rows] == col.size() && col.size() == values, ArgumentError,
             "CSR: row_ptr runs from ", row_ptr[0], " to ", row_ptr[rows], " but ", col.size(),
             " column indices and ", values, " values are given");
  for (std::size_t r = 0; r < rows; ++r) {
    PARE_CHECK(row_ptr[r] <= row_ptr[r + 1], ArgumentError, "CSR: row_ptr decreases at row ", r);
    for (std::size_t j = row_ptr[r]; j < row_ptr[r + 1]; ++j) {
      PARE_CHECK(col[j] < cols, ArgumentError, "CSR: row ", r, " has column ", col[j],
                 " outside [0, ", cols, ")");
      PARE_CHECK(j == row_ptr[r] || col[j - 1] < col[j], ArgumentError, "CSR: row ", r,
                 " columns are not strictly increasing at entry ", j);
    }
  }
}

template <class Value, class Index, KeepPredicate Keep, class Convert>
void build_csr(TensorView<const float, 2> w, const Keep& keep, std::vector<std::uint32_t>& row_ptr,
               std::vector<Index>& col, std::vector<Value>& val, Convert convert) {
  const std::size_t rows = w.extent(0), cols = w.extent(1);
  row_ptr.assign(rows + 1, 0);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      if (keep(r, c)) {
        col.push_back(static_cast<Index>(c));
        val.push_back(convert(r, w(r, c)));
      }
    }
    PARE_CHECK(col.size() <= std::numeric_limits<std::uint32_t>::max(), ArgumentError,
               "CSR: more than 2^32 - 1 kept weights");
    row_ptr[r + 1] = static_cast<std::uint32_t>(col.size());
  }
}

}  // namespace detail

/// A sparse f32 matrix in compressed-sparse-row form.
/// @tparam Index std::uint16_t (up to 65536 columns, 6 bytes per kept weight) or std::uint32_t.
/// ```
/// auto a = pare::Csr<std::uint16_t>::from_dense(w.view(), mask.view());
/// pare::spmv(a, x.view(), y.view());
/// ```
template <class Index = std::uint32_t>
class Csr {
  static_assert(std::is_same_v<Index, std::uint16_t> || std::is_same_v<Index, std::uint32_t>,
                "Csr<Index>: column indices are std::uint16_t or std::uint32_t");

 public:
  using index_type = Index;
  using value_type = float;

  Csr() = default;

  /// From raw arrays (a file, another library); checks them all (ArgumentError).
  Csr(std::size_t rows, std::size_t cols, std::vector<std::uint32_t> row_ptr,
      std::vector<Index> col, std::vector<float> values)
      : rows_(rows),
        cols_(cols),
        row_ptr_(std::move(row_ptr)),
        col_(std::move(col)),
        values_(std::move(values)) {
    detail::check_index_range<Index>(rows, cols, "Csr");
    detail::check_csr_arrays(rows_, cols_, row_ptr_, col_, values_.size());
  }

  /// The weights `keep(r, c)` selects.
  template <KeepPredicate Keep>
  [[nodiscard]] static Csr from_dense(TensorView<const float, 2> w, const Keep& keep) {
    detail::check_index_range<Index>(w.extent(0), w.extent(1), "Csr");
    Csr a;
    a.rows_ = w.extent(0);
    a.cols_ = w.extent(1);
    detail::build_csr<float, Index>(w, keep, a.row_ptr_, a.col_, a.values_,
                                    [](std::size_t, float v) { return v; });
    return a;
  }
  /// The weights whose mask byte is non-zero. ShapeError if the shapes differ.
  [[nodiscard]] static Csr from_dense(TensorView<const float, 2> w,
                                      TensorView<const std::uint8_t, 2> mask) {
    detail::check_mask_shape(w, mask);
    return from_dense(w, KeepMask{mask});
  }
  /// The non-zero weights.
  [[nodiscard]] static Csr from_dense(TensorView<const float, 2> w) {
    return from_dense(w, KeepNonzero{w});
  }

  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  [[nodiscard]] std::size_t cols() const noexcept { return cols_; }
  [[nodiscard]] std::size_t stored() const noexcept { return values_.size(); }
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    return row_ptr_.size() * sizeof(std::uint32_t) + col_.size() * sizeof(Index) +
           values_.size() * sizeof(float);
  }
  [[nodiscard]] double density() const noexcept {
    return detail::density_of(stored(), rows_, cols_);
  }
  [[nodiscard]] const std::vector<std::uint32_t>& row_ptr() const noexcept { return row_ptr_; }
  [[nodiscard]] const std::vector<Index>& col() const noexcept { return col_; }
  [[nodiscard]] const std::vector<float>& values() const noexcept { return values_; }

  [[nodiscard]] Tensor<float, 2> to_dense() const {
    Tensor<float, 2> d({rows_, cols_});
    for (std::size_t r = 0; r < rows_; ++r)
      for (std::size_t j = row_ptr_[r]; j < row_ptr_[r + 1]; ++j) d(r, col_[j]) = values_[j];
    return d;
  }

 private:
  std::size_t rows_ = 0, cols_ = 0;
  std::vector<std::uint32_t> row_ptr_ = {0};
  std::vector<Index> col_;
  std::vector<float> values_;
};

/// A sparse matrix in CSR form with int8 values and one f32 scale per row (per output channel):
/// weight(r, c) = scale[r] * q. Built by symmetric round-to-nearest quantization of each row's
/// kept weights, scale[r] = max |kept w| / 127 (q in [-127, 127]).
template <class Index = std::uint32_t>
class CsrInt8 {
  static_assert(std::is_same_v<Index, std::uint16_t> || std::is_same_v<Index, std::uint32_t>,
                "CsrInt8<Index>: column indices are std::uint16_t or std::uint32_t");

 public:
  using index_type = Index;
  using value_type = std::int8_t;

  CsrInt8() = default;

  /// From raw arrays; checks them all (ArgumentError).
  CsrInt8(std::size_t rows, std::size_t cols, std::vector<std::uint32_t> row_ptr,
          std::vector<Index> col, std::vector<std::int8_t> values, std::vector<float> scales)
      : rows_(rows),
        cols_(cols),
        row_ptr_(std::move(row_ptr)),
        col_(std::move(col)),
        values_(std::move(values)),
        scales_(std::move(scales)) {
    detail::check_index_range<Index>(rows, cols, "CsrInt8");
    detail::check_csr_arrays(rows_, cols_, row_ptr_, col_, values_.size());
    PARE_CHECK(scales_.size() == rows_, ArgumentError, "CsrInt8: ", scales_.size(), " scales for ",
               rows_, " rows");
  }

  template <KeepPredicate Keep>
  [[nodiscard]] static CsrInt8 from_dense(TensorView<const float, 2> w, const Keep& keep) {
    detail::check_index_range<Index>(w.extent(0), w.extent(1), "CsrInt8");
    CsrInt8 a;
    a.rows_ = w.extent(0);
    a.cols_ = w.extent(1);
    a.scales_.assign(a.rows_, 0.0f);
    std::vector<float> inv(a.rows_, 0.0f);
    for (std::size_t r = 0; r < a.rows_; ++r) {
      float m = 0;
      for (std::size_t c = 0; c < a.cols_; ++c)
        if (keep(r, c)) m = std::max(m, std::abs(w(r, c)));
      PARE_CHECK(std::isfinite(m), ArgumentError, "CsrInt8: row ", r,
                 " has a non-finite kept weight");
      a.scales_[r] = m / 127.0f;
      inv[r] = m > 0 ? 127.0f / m : 0.0f;
    }
    detail::build_csr<std::int8_t, Index>(
        w, keep, a.row_ptr_, a.col_, a.values_, [&](std::size_t r, float v) {
          return static_cast<std::int8_t>(std::clamp(std::nearbyint(v * inv[r]), -127.0f, 127.0f));
        });
    return a;
  }
  [[nodiscard]] static CsrInt8 from_dense(TensorView<const float, 2> w,
                                          TensorView<const std::uint8_t, 2> mask) {
    detail::check_mask_shape(w, mask);
    return from_dense(w, KeepMask{mask});
  }
  [[nodiscard]] static CsrInt8 from_dense(TensorView<const float, 2> w) {
    return from_dense(w, KeepNonzero{w});
  }

  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  [[nodiscard]] std::size_t cols() const noexcept { return cols_; }
  [[nodiscard]] std::size_t stored() const noexcept { return values_.size(); }
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    return row_ptr_.size() * sizeof(std::uint32_t) + col_.size() * sizeof(Index) + values_.size() +
           scales_.size() * sizeof(float);
  }
  [[nodiscard]] double density() const noexcept {
    return detail::density_of(stored(), rows_, cols_);
  }
  [[nodiscard]] const std::vector<std::uint32_t>& row_ptr() const noexcept { return row_ptr_; }
  [[nodiscard]] const std::vector<Index>& col() const noexcept { return col_; }
  [[nodiscard]] const std::vector<std::int8_t>& values() const noexcept { return values_; }
  [[nodiscard]] const std::vector<float>& scales() const noexcept { return scales_; }

  /// The dequantized matrix (scale[r] * q), zero where nothing is stored.
  [[nodiscard]] Tensor<float, 2> to_dense() const {
    Tensor<float, 2> d({rows_, cols_});
    for (std::size_t r = 0; r < rows_; ++r)
      for (std::size_t j = row_ptr_[r]; j < row_ptr_[r + 1]; ++j)
        d(r, col_[j]) = scales_[r] * static_cast<float>(values_[j]);
    return d;
  }

 private:
  std::size_t rows_ = 0, cols_ = 0;
  std::vector<std::uint32_t> row_ptr_ = {0};
  std::vector<Index> col_;
  std::vector<std::int8_t> values_;
  std::vector<float> scales_;
};

static_assert(SparseMatrix<Csr<std::uint16_t>>);
static_assert(SparseMatrix<Csr<std::uint32_t>>);
static_assert(SparseMatrix<CsrInt8<std::uint16_t>>);

}  // namespace pare
