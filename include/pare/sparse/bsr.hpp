// SPDX-License-Identifier: Apache-2.0
// pare — block sparse rows: the matrix is cut into R x C tiles on a fixed grid and only tiles
// holding a kept weight are stored, densely (row-major inside the tile), with one column index
// per tile instead of per weight.
//
// Which shapes the SIMD kernels take (kernels/spmv.hpp): C a multiple of the f32 batch width
// (1x16, 4x16 with AVX-512; 1x8 with AVX2) runs along the row, reusing each x load for R rows;
// C == 1 with R a multiple of the width (16x1) runs down the tile column, one broadcast x per
// tile. Other shapes work through the scalar kernel.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/sparse/concepts.hpp"

namespace pare {

/// A sparse f32 matrix stored as R x C blocks.
/// @tparam R rows per block, C columns per block (both >= 1).
/// ```
/// auto a = pare::Bsr<1, 16>::from_dense(w.view(), mask.view());  // blocks with any kept weight
/// ```
template <std::size_t R, std::size_t C>
class Bsr {
  static_assert(R >= 1 && C >= 1 && R * C <= 4096, "Bsr<R, C> needs 1 <= R*C <= 4096");

 public:
  static constexpr std::size_t block_rows = R;
  static constexpr std::size_t block_cols = C;

  Bsr() = default;

  /// From raw arrays: block_ptr has ceil(rows / R) + 1 entries, block_col the block-column of each
  /// block (strictly increasing within a block row), values R*C floats per block. ArgumentError
  /// if anything is inconsistent.
  Bsr(std::size_t rows, std::size_t cols, std::vector<std::uint32_t> block_ptr,
      std::vector<std::uint32_t> block_col, std::vector<float> values)
      : rows_(rows),
        cols_(cols),
        block_ptr_(std::move(block_ptr)),
        block_col_(std::move(block_col)),
        values_(std::move(values)) {
    const std::size_t brows = (rows + R - 1) / R, bcols = (cols + C - 1) / C;
    PARE_CHECK(block_ptr_.size() == brows + 1, ArgumentError, "Bsr: block_ptr has ",
               block_ptr_.size(), " entries, expected ", brows + 1);
    PARE_CHECK(block_ptr_[0] == 0 && block_ptr_[brows] == block_col_.size() &&
                   values_.size() == block_col_.size() * R * C,
               ArgumentError, "Bsr: ", block_col_.size(), " block columns, ", values_.size(),
               " values and block_ptr ending at ", block_ptr_[brows], " disagree");
    for (std::size_t b = 0; b < brows; ++b) {
      PARE_CHECK(block_ptr_[b] <= block_ptr_[b + 1], ArgumentError,
                 "Bsr: block_ptr decreases at block row ", b);
      for (std::size_t j = block_ptr_[b]; j < block_ptr_[b + 1]; ++j)
        PARE_CHECK(
            block_col_[j] < bcols && (j == block_ptr_[b] || block_col_[j - 1] < block_col_[j]),
            ArgumentError, "Bsr: block row ", b, " entry ", j, " has block column ", block_col_[j],
            " (out of [0, ", bcols, ") or not increasing)");
    }
    count_kept_from_values();
  }

  /// Every block holding a weight that `keep` selects is stored; the weights of a stored block
  /// that `keep` rejects are stored as zero.
  template <KeepPredicate Keep>
  [[nodiscard]] static Bsr from_dense(TensorView<const float, 2> w, const Keep& keep) {
    Bsr a;
    a.rows_ = w.extent(0);
    a.cols_ = w.extent(1);
    PARE_CHECK(a.cols_ / C < std::numeric_limits<std::uint32_t>::max(), ArgumentError,
               "Bsr: too many block columns");
    const std::size_t brows = (a.rows_ + R - 1) / R, bcols = (a.cols_ + C - 1) / C;
    a.block_ptr_.assign(brows + 1, 0);
    std::vector<float> tile(R * C);
    for (std::size_t br = 0; br < brows; ++br) {
      for (std::size_t bc = 0; bc < bcols; ++bc) {
        bool any = false;
        std::fill(tile.begin(), tile.end(), 0.0f);
        for (std::size_t i = 0; i < R; ++i) {
          const std::size_t r = br * R + i;
          if (r >= a.rows_) break;
          for (std::size_t j = 0; j < C; ++j) {
            const std::size_t c = bc * C + j;
            if (c >= a.cols_) break;
            if (keep(r, c)) {
              tile[i * C + j] = w(r, c);
              any = true;
              ++a.kept_;
            }
          }
        }
        if (any) {
          a.block_col_.push_back(static_cast<std::uint32_t>(bc));
          a.values_.insert(a.values_.end(), tile.begin(), tile.end());
        }
      }
      PARE_CHECK(a.block_col_.size() <= std::numeric_limits<std::uint32_t>::max(), ArgumentError,
                 "Bsr: more than 2^32 - 1 blocks");
      a.block_ptr_[br + 1] = static_cast<std::uint32_t>(a.block_col_.size());
    }
    return a;
  }
  [[nodiscard]] static Bsr from_dense(TensorView<const float, 2> w,
                                      TensorView<const std::uint8_t, 2> mask) {
    detail::check_mask_shape(w, mask);
    return from_dense(w, KeepMask{mask});
  }
  [[nodiscard]] static Bsr from_dense(TensorView<const float, 2> w) {
    return from_dense(w, KeepNonzero{w});
  }

  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  [[nodiscard]] std::size_t cols() const noexcept { return cols_; }
  [[nodiscard]] std::size_t blocks() const noexcept { return block_col_.size(); }
  /// Values stored, including the zeros that fill partly kept blocks.
  [[nodiscard]] std::size_t stored() const noexcept { return values_.size(); }
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    return (block_ptr_.size() + block_col_.size()) * sizeof(std::uint32_t) +
           values_.size() * sizeof(float);
  }
  /// Kept weights / (rows * cols): for blocks built from a mask, the weights the mask kept; for
  /// raw arrays, the non-zero stored values inside the matrix.
  [[nodiscard]] double density() const noexcept { return detail::density_of(kept_, rows_, cols_); }
  [[nodiscard]] const std::vector<std::uint32_t>& block_ptr() const noexcept { return block_ptr_; }
  [[nodiscard]] const std::vector<std::uint32_t>& block_col() const noexcept { return block_col_; }
  [[nodiscard]] const std::vector<float>& values() const noexcept { return values_; }

  [[nodiscard]] Tensor<float, 2> to_dense() const {
    Tensor<float, 2> d({rows_, cols_});
    for_each_in_bounds([&](std::size_t r, std::size_t c, float v) { d(r, c) = v; });
    return d;
  }

  /// Calls f(row, col, value) for every stored value inside the rows x cols matrix.
  template <class F>
  void for_each_in_bounds(F&& f) const {
    const std::size_t brows = block_ptr_.size() - 1;
    for (std::size_t br = 0; br < brows; ++br)
      for (std::size_t b = block_ptr_[br]; b < block_ptr_[br + 1]; ++b)
        for (std::size_t i = 0; i < R && br * R + i < rows_; ++i)
          for (std::size_t j = 0; j < C && block_col_[b] * C + j < cols_; ++j)
            f(br * R + i, block_col_[b] * C + j, values_[b * R * C + i * C + j]);
  }

 private:
  void count_kept_from_values() {
    kept_ = 0;
    for_each_in_bounds([&](std::size_t, std::size_t, float v) { kept_ += v != 0.0f; });
  }

  std::size_t rows_ = 0, cols_ = 0, kept_ = 0;
  std::vector<std::uint32_t> block_ptr_ = {0};
  std::vector<std::uint32_t> block_col_;
  std::vector<float> values_;
};

static_assert(SparseMatrix<Bsr<1, 16>>);

}  // namespace pare
