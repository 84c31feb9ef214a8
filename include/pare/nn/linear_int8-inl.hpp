// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/linear_int8.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/kernels/gemm_int8.hpp"
#include "pare/nn/linear_int8.hpp"
#include "pare/quant/dynamic_kernels.hpp"

namespace pare {

PARE_INLINE Int8Linear::Int8Linear(const Linear& fc, Int8Path path)
    : bias_(fc.bias()), path_(path) {
  quantize_weights(fc);
}

PARE_INLINE Int8Linear::Int8Linear(PackedInt8Weights weights, Tensor<float, 1> bias,
                                   std::optional<QuantParams> activation, Int8Path path)
    : weights_(std::move(weights)),
      bias_(std::move(bias)),
      path_(path),
      static_activation_(activation) {
  PARE_CHECK(weights_.scales() != nullptr && bias_.extent(0) == weights_.n(), ArgumentError,
             "Int8Linear: packed weights need per-channel scales and a bias of ", weights_.n(),
             " values, got ", bias_.extent(0));
}

PARE_INLINE Int8Linear::Int8Linear(const Linear& fc, QuantParams activation, Int8Path path)
    : Int8Linear(fc, path) {
  PARE_CHECK(activation.scale > 0 && std::isfinite(activation.scale) &&
                 activation.zero_point >= 0 && activation.zero_point <= 255,
             ArgumentError, "Int8Linear: static activation scale ", activation.scale,
             " / zero point ", activation.zero_point, " is not a valid u8 quantization");
  static_activation_ = activation;
}

PARE_INLINE Tensor<float, 2> Int8Linear::infer(TensorView<const float, 2> x) const {
  PARE_CHECK(x.extent(1) == in_features(), ShapeError, "Int8Linear(", in_features(), " -> ",
             out_features(), "): input ", to_string(x.extents()), " has the wrong width");
  const std::size_t n = x.extent(0);
  Tensor<float, 2> y({n, out_features()});
  if (n == 0) return y;
  run(x, y.view());
  return y;
}

PARE_INLINE void Int8Linear::infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
  PARE_CHECK(x.extent(0) == in_features() && y.extent(0) == out_features(), ShapeError,
             "Int8Linear(", in_features(), " -> ", out_features(), "): got x ",
             to_string(x.extents()), ", y ", to_string(y.extents()));
  PARE_CHECK(x.is_contiguous() && y.is_contiguous(), ArgumentError,
             "Int8Linear::infer needs contiguous vectors");
  run(TensorView<const float, 2>(x.data(), {1, in_features()}),
      TensorView<float, 2>(y.data(), {1, out_features()}));
}

PARE_INLINE void Int8Linear::quantize_weights(const Linear& fc) {
  const std::size_t out = fc.out_features(), in = fc.in_features();
  std::vector<std::int8_t> codes(out * in);
  std::vector<float> scales(out);
  const float* w = fc.weight().data();
  for (std::size_t r = 0; r < out; ++r) {
    float m = 0;
    for (std::size_t c = 0; c < in; ++c) m = std::max(m, std::abs(w[r * in + c]));
    scales[r] = choose_s8_scale(m);
    kernels::quantize_row_reference(w + r * in, in, 1.0f / scales[r], 0, -127, 127,
                                    codes.data() + r * in);
  }
  weights_ = PackedInt8Weights(codes.data(), out, in, in, scales.data());
}

PARE_INLINE void Int8Linear::run(TensorView<const float, 2> x, TensorView<float, 2> y) const {
  const std::size_t n = x.extent(0), in = in_features();
  PARE_CHECK(x.stride(1) == 1, ArgumentError, "Int8Linear: input rows must be contiguous");
  std::vector<std::uint8_t> q(n * in);
  std::vector<float> scales(n);
  std::vector<std::int32_t> zeros(n);
  const auto ldx = static_cast<std::size_t>(x.stride(0));
  if (static_activation_) {
    quantize_rows_u8(x.data(), n, in, ldx, *static_activation_, q.data(), in);
    std::fill(scales.begin(), scales.end(), static_activation_->scale);
    std::fill(zeros.begin(), zeros.end(), static_activation_->zero_point);
  } else {
    quantize_rows_u8(x.data(), n, in, ldx, q.data(), in, scales.data(), zeros.data());
  }
  gemm_u8s8_f32(q.data(), n, in, scales.data(), zeros.data(), weights_, bias_.data(), y.data(),
                static_cast<std::size_t>(y.stride(0)), path_);
}

}  // namespace pare
