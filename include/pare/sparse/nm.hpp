// SPDX-License-Identifier: Apache-2.0
// pare — packed N:M sparsity: in every group of M consecutive weights of a row at most N are
// kept; each row stores exactly N values per group and, for each value, its position in the
// group in 2 bits (M <= 4) or 4 bits (M <= 16).
//
// 2:4 stores 2 floats + 2 x 2 bits per 4 weights: 2.125 bytes per dense weight instead of 4.
// Layout (what kernels/spmv.hpp relies on): values row-major, groups_per_row * N per row; indices
// packed LSB-first into 32-bit words, each row starting at a new word, so 16 consecutive values
// of a row (a whole AVX-512 batch) start at a word boundary whenever 16 divides their offset.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/sparse/concepts.hpp"

namespace pare {

/// A sparse f32 matrix with at most N kept weights in each group of M consecutive columns.
/// Groups with fewer than N kept weights are padded with zero values; a last, partial group
/// (cols % M != 0) is handled like any other.
/// With Value = std::int8_t the values are int8 with one f32 scale per row, quantized as CsrInt8
/// does (symmetric, scale = max |kept w| / 127): 1 byte + the index bits per kept weight.
/// @tparam N kept per group, M group size: 1 <= N <= M <= 16; Value float or std::int8_t.
/// ```
/// auto a = pare::PackedNM<2, 4>::from_dense(w.view(), mask.view());  // mask must be 2:4
/// ```
template <std::size_t N, std::size_t M, class Value = float>
class PackedNM {
  static_assert(1 <= N && N <= M && M <= 16, "PackedNM<N, M> needs 1 <= N <= M <= 16");
  static_assert(std::is_same_v<Value, float> || std::is_same_v<Value, std::int8_t>,
                "PackedNM<N, M, Value>: values are float or std::int8_t");

 public:
  using value_type = Value;
  static constexpr bool quantized = std::is_same_v<Value, std::int8_t>;
  static constexpr std::size_t kept_per_group = N;
  static constexpr std::size_t group_size = M;
  /// Bits per stored index: positions 0..M-1.
  static constexpr std::size_t index_bits = M <= 4 ? 2 : 4;
  static constexpr std::uint32_t index_mask = (1u << index_bits) - 1;

  PackedNM() = default;

  /// Keeps the weights `keep` selects. ArgumentError naming the row and group if a group keeps
  /// more than N.
  template <KeepPredicate Keep>
  [[nodiscard]] static PackedNM from_dense(TensorView<const float, 2> w, const Keep& keep) {
    PackedNM a;
    a.shape(w.extent(0), w.extent(1));
    for (std::size_t r = 0; r < a.rows_; ++r) {
      float inv = 1.0f;
      if constexpr (quantized) {
        float m = 0;
        for (std::size_t c = 0; c < a.cols_; ++c)
          if (keep(r, c)) m = std::max(m, std::abs(w(r, c)));
        PARE_CHECK(std::isfinite(m), ArgumentError, "PackedNM int8: row ", r,
                   " has a non-finite kept weight");
        a.scales_[r] = m / 127.0f;
        inv = m > 0 ? 127.0f / m : 0.0f;
      }
      for (std::size_t g = 0; g < a.groups_; ++g) {
        std::size_t n = 0;
        for (std::size_t k = 0; k < M && g * M + k < a.cols_; ++k) {
          if (!keep(r, g * M + k)) continue;
          PARE_CHECK(n < N, ArgumentError, "PackedNM<", N, ", ", M, ">: row ", r, ", group ", g,
                     " (columns ", g * M, "..", g * M + M - 1, ") keeps more than ", N, " weights");
          a.set(r, g * N + n, w(r, g * M + k) * inv, static_cast<std::uint32_t>(k));
          ++n;
          ++a.kept_;
        }
      }
    }
    return a;
  }
  [[nodiscard]] static PackedNM from_dense(TensorView<const float, 2> w,
                                           TensorView<const std::uint8_t, 2> mask) {
    detail::check_mask_shape(w, mask);
    return from_dense(w, KeepMask{mask});
  }
  /// The non-zero weights; ArgumentError if they are not N:M.
  [[nodiscard]] static PackedNM from_dense(TensorView<const float, 2> w) {
    return from_dense(w, KeepNonzero{w});
  }

  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  [[nodiscard]] std::size_t cols() const noexcept { return cols_; }
  [[nodiscard]] std::size_t groups_per_row() const noexcept { return groups_; }
  [[nodiscard]] std::size_t values_per_row() const noexcept { return groups_ * N; }
  [[nodiscard]] std::size_t words_per_row() const noexcept { return words_; }
  [[nodiscard]] std::size_t stored() const noexcept { return values_.size(); }
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    return values_.size() * sizeof(Value) + indices_.size() * sizeof(std::uint32_t) +
           scales_.size() * sizeof(float);
  }
  [[nodiscard]] double density() const noexcept { return detail::density_of(kept_, rows_, cols_); }
  [[nodiscard]] const std::vector<Value>& values() const noexcept { return values_; }
  /// One scale per row for int8 values (empty for float).
  [[nodiscard]] const std::vector<float>& scales() const noexcept { return scales_; }
  [[nodiscard]] const std::vector<std::uint32_t>& indices() const noexcept { return indices_; }

  /// Position inside its group of value j of row r.
  [[nodiscard]] std::uint32_t index(std::size_t r, std::size_t j) const noexcept {
    const std::size_t bit = j * index_bits;
    return (indices_[r * words_ + bit / 32] >> (bit % 32)) & index_mask;
  }
  /// Column of value j of row r.
  [[nodiscard]] std::size_t column(std::size_t r, std::size_t j) const noexcept {
    return j / N * M + index(r, j);
  }

  [[nodiscard]] Tensor<float, 2> to_dense() const {
    Tensor<float, 2> d({rows_, cols_});
    for (std::size_t r = 0; r < rows_; ++r)
      for (std::size_t j = 0; j < values_per_row(); ++j) {
        const float v = static_cast<float>(values_[r * values_per_row() + j]);
        if (v != 0.0f) d(r, column(r, j)) = quantized ? v * scales_[r] : v;
      }
    return d;
  }

 private:
  void shape(std::size_t rows, std::size_t cols) {
    rows_ = rows;
    cols_ = cols;
    groups_ = (cols + M - 1) / M;
    words_ = (groups_ * N * index_bits + 31) / 32;
    values_.assign(rows * groups_ * N, Value{0});
    indices_.assign(rows * words_, 0u);
    if constexpr (quantized) scales_.assign(rows, 0.0f);
  }
  void set(std::size_t r, std::size_t j, float v, std::uint32_t idx) noexcept {
    if constexpr (quantized)
      values_[r * values_per_row() + j] =
          static_cast<std::int8_t>(std::clamp(std::nearbyint(v), -127.0f, 127.0f));
    else
      values_[r * values_per_row() + j] = v;
    const std::size_t bit = j * index_bits;
    indices_[r * words_ + bit / 32] |= idx << (bit % 32);
  }

  std::size_t rows_ = 0, cols_ = 0, groups_ = 0, words_ = 0, kept_ = 0;
  std::vector<Value> values_;
  std::vector<std::uint32_t> indices_;
  std::vector<float> scales_;
};

static_assert(SparseMatrix<PackedNM<2, 4>>);
static_assert(SparseMatrix<PackedNM<4, 16>>);
static_assert(SparseMatrix<PackedNM<1, 4, std::int8_t>>);

}  // namespace pare
