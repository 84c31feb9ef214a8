// SPDX-License-Identifier: Apache-2.0
// pare — bitmap-compressed rows: one bit per weight says whether it is kept, and the kept values
// follow each other row by row.
//
// Why a fourth unstructured format: CSR's GEMV reads x through one gather element per kept weight,
// and Zen 4 gathers about one element per cycle, so CSR at 90 % sparsity is bound by the gathers,
// not by memory. The bitmap kernel instead reads x contiguously and spreads 16 kept values into
// their lanes with one load and one AVX-512 register expand per 16 columns (vexpandps; the
// memory-source form is microcoded on Zen 4 and 10x slower): its cost per column is
// fixed, so it wins from ~50 % to ~90 % sparsity; it stores 1 bit per weight + 4 bytes per kept
// weight (at 90 %: 0.53 bytes per dense weight, CSR-u16 0.6).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/sparse/concepts.hpp"

namespace pare {

/// A sparse f32 matrix as a row-major bitmap (bit c % 64 of word c / 64 of a row is column c;
/// every row starts at a new 64-bit word) plus the kept values in row-major order.
/// ```
/// auto a = pare::Bitmap::from_dense(w.view(), mask.view());
/// pare::spmv(a, x.view(), y.view());
/// ```
class Bitmap {
 public:
  static constexpr std::size_t padding = 16;

  Bitmap() = default;

  template <KeepPredicate Keep>
  [[nodiscard]] static Bitmap from_dense(TensorView<const float, 2> w, const Keep& keep) {
    Bitmap a;
    a.rows_ = w.extent(0);
    a.cols_ = w.extent(1);
    a.words_ = (a.cols_ + 63) / 64;
    a.bits_.assign(a.rows_ * a.words_, 0);
    a.row_start_.assign(a.rows_ + 1, 0);
    for (std::size_t r = 0; r < a.rows_; ++r) {
      for (std::size_t c = 0; c < a.cols_; ++c) {
        if (!keep(r, c)) continue;
        a.bits_[r * a.words_ + c / 64] |= std::uint64_t{1} << (c % 64);
        a.values_.push_back(w(r, c));
      }
      PARE_CHECK(a.values_.size() <= std::numeric_limits<std::uint32_t>::max(), ArgumentError,
                 "Bitmap: more than 2^32 - 1 kept weights");
      a.row_start_[r + 1] = static_cast<std::uint32_t>(a.values_.size());
    }
    a.values_.resize(a.values_.size() + padding, 0.0f);
    return a;
  }
  /// The weights whose mask byte is non-zero. ShapeError if the shapes differ.
  [[nodiscard]] static Bitmap from_dense(TensorView<const float, 2> w,
                                         TensorView<const std::uint8_t, 2> mask);
  /// The non-zero weights.
  [[nodiscard]] static Bitmap from_dense(TensorView<const float, 2> w);

  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  [[nodiscard]] std::size_t cols() const noexcept { return cols_; }
  [[nodiscard]] std::size_t words_per_row() const noexcept { return words_; }
  [[nodiscard]] std::size_t stored() const noexcept { return row_start_.back(); }
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    return bits_.size() * sizeof(std::uint64_t) + row_start_.size() * sizeof(std::uint32_t) +
           values_.size() * sizeof(float);
  }
  [[nodiscard]] double density() const noexcept {
    return detail::density_of(stored(), rows_, cols_);
  }
  [[nodiscard]] const std::vector<std::uint64_t>& bits() const noexcept { return bits_; }
  /// The kept values, then `padding` zeros (so a kernel may load a full batch at any value).
  [[nodiscard]] const std::vector<float>& values() const noexcept { return values_; }
  /// Index in values() of each row's first kept value; rows + 1 entries.
  [[nodiscard]] const std::vector<std::uint32_t>& row_start() const noexcept { return row_start_; }

  /// Calls f(col, value) for the kept weights of row r, in column order.
  template <class F>
  void for_each_in_row(std::size_t r, F&& f) const {
    std::size_t j = row_start_[r];
    for (std::size_t wd = 0; wd < words_; ++wd)
      for (std::uint64_t m = bits_[r * words_ + wd]; m != 0; m &= m - 1)
        f(wd * 64 + static_cast<std::size_t>(std::countr_zero(m)), values_[j++]);
  }

  [[nodiscard]] Tensor<float, 2> to_dense() const;

 private:
  std::size_t rows_ = 0, cols_ = 0, words_ = 0;
  std::vector<std::uint64_t> bits_;
  std::vector<std::uint32_t> row_start_ = {0};
  std::vector<float> values_;
};

static_assert(SparseMatrix<Bitmap>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/sparse/bitmap-inl.hpp"
#endif
