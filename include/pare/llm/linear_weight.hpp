// SPDX-License-Identifier: Apache-2.0
// pare — the weight of one linear layer of a language model, in any format: f32, int8, pare's
// 4-bit formats, GGUF's own blocks, or a format of the user's.
//
//     pare::llm::LinearWeight w = pare::llm::quantize_linear(f32_weight.view(),
//                                                            pare::llm::WeightFormat::q4g32);
//     w.multiply(x, n, y);                  // y [n, rows] = x [n, cols] · Wᵀ
//
//     struct MyFormat { rows(), cols(), multiply(x, n, y), size_bytes(), format_name() };
//     pare::llm::LinearWeight mine{MyFormat{...}};  // runs inside the decoder like the others
//
// A decoder step multiplies each weight by one activation row (n = 1, decode: bandwidth-bound)
// or by a prompt's rows (n up to the batch, compute-bound); every format gets both calls so it can
// take its GEMV kernel for one and its GEMM kernel for the other.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "pare/core/tensor.hpp"
#include "pare/kernels/gemm.hpp"
#include "pare/kernels/gemv_int4.hpp"
#include "pare/kernels/matmul_ggml.hpp"
#include "pare/nn/linear_int4.hpp"
#include "pare/nn/linear_int8.hpp"

namespace pare::llm {

/// What a weight format promises to serve as a linear layer y = x Wᵀ of the decoder: W is
/// rows × cols (outputs × inputs); `multiply(x, n, y)` writes y [n, rows] (row-major, contiguous)
/// from x [n, cols] (row-major, contiguous) for any n ≥ 1, may use pare's threads, must not keep
/// state between calls (one weight is used by several threads at once: the call is const), and
/// gives the same rows whatever n is... up to the rounding of its GEMV and GEMM kernels;
/// `size_bytes()` counts the bytes it holds; `format_name()` names it in reports ("q4_0").
template <class W>
concept LinearWeightFormat = requires(const W& w, const float* x, std::size_t n, float* y) {
  { w.rows() } -> std::convertible_to<std::size_t>;
  { w.cols() } -> std::convertible_to<std::size_t>;
  w.multiply(x, n, y);
  { w.size_bytes() } -> std::convertible_to<std::size_t>;
  { w.format_name() } -> std::convertible_to<std::string>;
};

/// A linear weight of any LinearWeightFormat, shared (copies are cheap and immutable).
class LinearWeight {
 public:
  LinearWeight() = default;
  template <LinearWeightFormat W>
    requires(!std::same_as<std::remove_cvref_t<W>, LinearWeight>)
  LinearWeight(W w)  // NOLINT(google-explicit-constructor): any format converts, by design
      : impl_(std::make_shared<const Model<W>>(std::move(w))) {}

  [[nodiscard]] explicit operator bool() const noexcept { return impl_ != nullptr; }
  [[nodiscard]] std::size_t rows() const noexcept { return impl_ ? impl_->rows() : 0; }
  [[nodiscard]] std::size_t cols() const noexcept { return impl_ ? impl_->cols() : 0; }
  [[nodiscard]] std::size_t size_bytes() const { return impl_ ? impl_->size_bytes() : 0; }
  [[nodiscard]] std::string format_name() const { return impl_ ? impl_->format_name() : "none"; }
  /// y [n, rows] = x [n, cols] Wᵀ. @pre a weight is held; y overlaps nothing.
  void multiply(const float* x, std::size_t n, float* y) const { impl_->multiply(x, n, y); }
  /// The held format, or nullptr when it is not W.
  template <class W>
  [[nodiscard]] const W* get_if() const noexcept {
    const auto* m = dynamic_cast<const Model<W>*>(impl_.get());
    return m ? &m->w : nullptr;
  }

 private:
  struct Concept {
    virtual ~Concept() = default;
    [[nodiscard]] virtual std::size_t rows() const noexcept = 0;
    [[nodiscard]] virtual std::size_t cols() const noexcept = 0;
    [[nodiscard]] virtual std::size_t size_bytes() const = 0;
    [[nodiscard]] virtual std::string format_name() const = 0;
    virtual void multiply(const float* x, std::size_t n, float* y) const = 0;
  };
  template <class W>
  struct Model final : Concept {
    explicit Model(W v) : w(std::move(v)) {}
    [[nodiscard]] std::size_t rows() const noexcept override { return w.rows(); }
    [[nodiscard]] std::size_t cols() const noexcept override { return w.cols(); }
    [[nodiscard]] std::size_t size_bytes() const override { return w.size_bytes(); }
    [[nodiscard]] std::string format_name() const override { return w.format_name(); }
    void multiply(const float* x, std::size_t n, float* y) const override { w.multiply(x, n, y); }
    W w;
  };
  std::shared_ptr<const Concept> impl_;
};

/// The formats pare converts a float weight into.
enum class WeightFormat {
  f32,    ///< as trained
  int8,   ///< per-channel symmetric s8 weights, activations quantized per row (dynamic), VNNI
  q4g16,  ///< Codebook4Log<16>: 4.5 bits per weight, the most accurate 4-bit format
  q4g32,  ///< Codebook4Log<32>: 4.25 bits per weight
  nf4,    ///< NF4 with f32 scales per 64 weights (QLoRA's format), 4.5 bits per weight
  q8_0,   ///< GGUF Q8_0 (8.5 bits per weight), readable by llama.cpp
  q4_0,   ///< GGUF Q4_0 (4.5 bits per weight), readable by llama.cpp
};

/// "f32", "int8", "q4g16", "q4g32", "nf4", "q8_0", "q4_0".
[[nodiscard]] std::string_view format_name(WeightFormat f) noexcept;
/// The format named by format_name(); ArgumentError listing the names otherwise.
[[nodiscard]] WeightFormat parse_weight_format(std::string_view name);

/// Dense f32 W [rows, cols]: pare::gemv for one row, gemm_nt for several.
class DenseWeight {
 public:
  explicit DenseWeight(Tensor<float, 2> w) : w_(std::move(w)) {}
  [[nodiscard]] std::size_t rows() const noexcept { return w_.extent(0); }
  [[nodiscard]] std::size_t cols() const noexcept { return w_.extent(1); }
  [[nodiscard]] std::size_t size_bytes() const noexcept { return w_.size_bytes(); }
  [[nodiscard]] std::string format_name() const { return "f32"; }
  [[nodiscard]] const Tensor<float, 2>& matrix() const noexcept { return w_; }
  void multiply(const float* x, std::size_t n, float* y) const;

 private:
  Tensor<float, 2> w_;
};

namespace detail {

/// Batches at least this long multiply a 4-bit weight by decoding it to f32, a slice of rows at a
/// time, and running the f32 GEMM: the decode is paid once per slice and shared by every row of
/// the batch, where the fused kernels decode once per few rows.
inline constexpr std::size_t dequantized_gemm_batch = 16;

/// y [n, rows] = x [n, cols] Wᵀ with W's rows decoded by value(r, c) in slices of 128 rows.
template <class Matrix>
void multiply_dequantized(const Matrix& w, const float* x, std::size_t n, float* y) {
  const std::size_t rows = w.rows(), cols = w.cols(), slice = 128;
  Tensor<float, 2> dense({std::min(rows, slice), cols});
  for (std::size_t r0 = 0; r0 < rows; r0 += slice) {
    const std::size_t m = std::min(slice, rows - r0);
    for (std::size_t r = 0; r < m; ++r)
      for (std::size_t c = 0; c < cols; ++c) dense(r, c) = w.value(r0 + r, c);
    gemm_nt(TensorView<const float, 2>(x, {n, cols}),
            TensorView<const float, 2>(dense.data(), {m, cols}),
            TensorView<float, 2>(y + r0, {n, m}, {static_cast<std::ptrdiff_t>(rows), 1}));
  }
}

}  // namespace detail

/// int8 weights with per-channel scales on pare's int8 GEMM/GEMV (Int8Linear without a bias).
class Int8Weight {
 public:
  explicit Int8Weight(Int8Linear layer) : layer_(std::move(layer)) {}
  [[nodiscard]] std::size_t rows() const noexcept { return layer_.out_features(); }
  [[nodiscard]] std::size_t cols() const noexcept { return layer_.in_features(); }
  [[nodiscard]] std::size_t size_bytes() const noexcept { return layer_.size_bytes(); }
  [[nodiscard]] std::string format_name() const { return "int8"; }
  [[nodiscard]] const Int8Linear& layer() const noexcept { return layer_; }
  void multiply(const float* x, std::size_t n, float* y) const;

 private:
  Int8Linear layer_;
};

/// One of pare's Codebook4Log 4-bit formats on gemv_int4_q8 / gemm_int4.
template <class Format>
class Codebook4Weight {
 public:
  explicit Codebook4Weight(Int4Matrix<Format> w) : w_(std::move(w)) {}
  [[nodiscard]] std::size_t rows() const noexcept { return w_.rows(); }
  [[nodiscard]] std::size_t cols() const noexcept { return w_.cols(); }
  [[nodiscard]] std::size_t size_bytes() const noexcept { return w_.size_bytes(); }
  [[nodiscard]] std::string format_name() const {
    return Format::group == 16 ? "q4g16" : Format::group == 32 ? "q4g32" : "q4g64+";
  }
  [[nodiscard]] const Int4Matrix<Format>& matrix() const noexcept { return w_; }
  void multiply(const float* x, std::size_t n, float* y) const {
    if (n == 1) {
      kernels::gemv_int4_q8(w_, x, y);
      return;
    }
    if (n >= detail::dequantized_gemm_batch) {
      detail::multiply_dequantized(w_, x, n, y);
      return;
    }
    gemm_int4(w_, TensorView<const float, 2>(x, {n, cols()}), TensorView<float, 2>(y, {n, rows()}));
  }

 private:
  Int4Matrix<Format> w_;
};

/// NF4 (or any 16-level codebook) with f32 group scales on gemv_lut4.
class Lut4Weight {
 public:
  explicit Lut4Weight(Lut4Matrix w) : w_(std::move(w)) {}
  [[nodiscard]] std::size_t rows() const noexcept { return w_.rows(); }
  [[nodiscard]] std::size_t cols() const noexcept { return w_.cols(); }
  [[nodiscard]] std::size_t size_bytes() const noexcept { return w_.size_bytes(); }
  [[nodiscard]] std::string format_name() const { return "nf4"; }
  [[nodiscard]] const Lut4Matrix& matrix() const noexcept { return w_; }
  void multiply(const float* x, std::size_t n, float* y) const {
    if (n >= detail::dequantized_gemm_batch) {
      detail::multiply_dequantized(w_, x, n, y);
      return;
    }
    for (std::size_t i = 0; i < n; ++i)
      gemv(w_, TensorView<const float, 1>(x + i * cols(), {cols()}),
           TensorView<float, 1>(y + i * rows(), {rows()}));
  }

 private:
  Lut4Matrix w_;
};

/// GGUF's Q8_0 or Q4_0 blocks (GgmlQ8_0Matrix / GgmlQ4_0Matrix), run as stored: activations
/// quantized to Q8_0 as llama.cpp does, int8 dot products (VNNI where the CPU has it).
template <class Matrix>
class GgmlWeight {
 public:
  explicit GgmlWeight(Matrix w) : w_(std::move(w)) {}
  [[nodiscard]] std::size_t rows() const noexcept { return w_.rows(); }
  [[nodiscard]] std::size_t cols() const noexcept { return w_.cols(); }
  [[nodiscard]] std::size_t size_bytes() const noexcept { return w_.size_bytes(); }
  [[nodiscard]] std::string format_name() const {
    return std::is_same_v<Matrix, GgmlQ4_0Matrix> ? "q4_0" : "q8_0";
  }
  [[nodiscard]] const Matrix& matrix() const noexcept { return w_; }
  void multiply(const float* x, std::size_t n, float* y) const {
    if (n == 1)
      kernels::gemv(w_, x, y);
    else
      kernels::gemm(w_, x, n, y);
  }

 private:
  Matrix w_;
};

/// W [rows, cols] converted to `format` by round-to-nearest (each format's own scale search).
/// ArgumentError when the shape does not suit the format (cols a multiple of 32 for q8_0/q4_0,
/// q4g32 and nf4, of 16 for q4g16) or w holds a non-finite value.
[[nodiscard]] LinearWeight quantize_linear(TensorView<const float, 2> w, WeightFormat format);

}  // namespace pare::llm

#ifndef PARE_COMPILED_LIB
#include "pare/llm/linear_weight-inl.hpp"
#endif
