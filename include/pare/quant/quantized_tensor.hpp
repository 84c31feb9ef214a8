// SPDX-License-Identifier: Apache-2.0
// pare — QuantizedTensor: codes packed in the layout kernels read, plus one scale and zero point
// per quantization unit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pare/core/tensor.hpp"
#include "pare/quant/format.hpp"
#include "pare/quant/scheme.hpp"

namespace pare {

/// A quantized weight matrix [rows, cols]. Codes are row-major; sub-byte codes are packed along a
/// row, element 0 in the low bits, each row starting on a fresh byte, so a kernel can stream a
/// row (or a group of a row) without bit offsets.
template <QuantFormat F, Granularity G>
class QuantizedTensor {
 public:
  using format_type = F;
  using granularity_type = G;
  using storage_type = packed_storage_t<F>;
  static constexpr std::size_t codes_per_byte = pare::codes_per_byte<F>;

  QuantizedTensor() = default;

  /// An all-zero-code tensor with `unit_count` parameter slots; `codes` is the code range the
  /// scheme uses, `symmetric` says whether zero points are implied (and cost no storage).
  QuantizedTensor(const Shape<2>& shape, G granularity, CodeRange codes, bool symmetric)
      : shape_(shape),
        granularity_(granularity),
        codes_range_(codes),
        symmetric_(symmetric),
        codes_({shape[0], (shape[1] + codes_per_byte - 1) / codes_per_byte}),
        scales_({granularity.unit_count(shape)}, 1.0f),
        zero_points_({granularity.unit_count(shape)}, 0) {}

  [[nodiscard]] const Shape<2>& shape() const noexcept { return shape_; }
  [[nodiscard]] std::size_t rows() const noexcept { return shape_[0]; }
  [[nodiscard]] std::size_t cols() const noexcept { return shape_[1]; }
  [[nodiscard]] const G& granularity() const noexcept { return granularity_; }
  [[nodiscard]] CodeRange code_range() const noexcept { return codes_range_; }
  [[nodiscard]] bool symmetric() const noexcept { return symmetric_; }
  [[nodiscard]] std::size_t unit_count() const noexcept { return scales_.size(); }

  /// The packed codes, [rows, bytes per row].
  [[nodiscard]] TensorView<const storage_type, 2> codes() const noexcept { return codes_.view(); }
  [[nodiscard]] TensorView<storage_type, 2> codes() noexcept { return codes_.view(); }
  [[nodiscard]] TensorView<const float, 1> scales() const noexcept { return scales_.view(); }
  [[nodiscard]] TensorView<const std::int32_t, 1> zero_points() const noexcept {
    return zero_points_.view();
  }

  [[nodiscard]] QuantParams params(std::size_t unit) const noexcept {
    return {scales_(unit), zero_points_(unit)};
  }
  void set_params(std::size_t unit, QuantParams p) noexcept {
    scales_(unit) = p.scale;
    zero_points_(unit) = p.zero_point;
  }

  /// The code of element (r, c).
  [[nodiscard]] std::int32_t code(std::size_t r, std::size_t c) const noexcept {
    const storage_type& b = codes_(r, c / codes_per_byte);
    if constexpr (codes_per_byte == 1) {
      return static_cast<std::int32_t>(b);
    } else {
      return static_cast<std::int32_t>(b.get(c % codes_per_byte));
    }
  }
  /// @pre code is inside the format's range.
  void set_code(std::size_t r, std::size_t c, std::int32_t code) noexcept {
    storage_type& b = codes_(r, c / codes_per_byte);
    if constexpr (codes_per_byte == 1) {
      b = static_cast<storage_type>(code);
    } else {
      b.set(c % codes_per_byte, static_cast<typename storage_type::value_type>(code));
    }
  }

  /// The real value element (r, c) stands for.
  [[nodiscard]] float value(std::size_t r, std::size_t c) const noexcept {
    return dequantize_value(code(r, c), params(granularity_.unit_of(shape_, r, c)));
  }

  /// Bytes of codes, scales (f32) and, for asymmetric schemes, zero points (F::bits each).
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    const std::size_t zp_bits = symmetric_ ? 0 : unit_count() * static_cast<std::size_t>(F::bits);
    return codes_.size_bytes() + scales_.size_bytes() + (zp_bits + 7) / 8;
  }
  /// Storage bits per weight, everything included.
  [[nodiscard]] double bits_per_weight() const noexcept {
    const double n = static_cast<double>(rows() * cols());
    return n == 0 ? 0.0 : 8.0 * static_cast<double>(size_bytes()) / n;
  }

 private:
  Shape<2> shape_{};
  G granularity_{};
  CodeRange codes_range_{};
  bool symmetric_ = true;
  Tensor<storage_type, 2> codes_;
  Tensor<float, 1> scales_;
  Tensor<std::int32_t, 1> zero_points_;
};

/// The real-valued matrix a QuantizedTensor stands for (the scalar reference of every
/// dequantizing kernel).
template <QuantFormat F, Granularity G>
[[nodiscard]] Tensor<float, 2> dequantize(const QuantizedTensor<F, G>& q) {
  Tensor<float, 2> out(q.shape());
  for (std::size_t r = 0; r < q.rows(); ++r)
    for (std::size_t c = 0; c < q.cols(); ++c) out(r, c) = q.value(r, c);
  return out;
}

}  // namespace pare
