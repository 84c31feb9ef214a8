// SPDX-License-Identifier: Apache-2.0
// pare — Int8Linear: y = x Wᵀ + b computed with s8 weights and u8 activations on the int8 GEMM.
//
// Weights: per output channel, symmetric, scale = max|W[n, :]| / 127, codes in [-127, 127]
// (quantized once, packed for every int8 path). Activations: u8 affine, either
//   - dynamic per token (default): each input row gets its own scale and zero point
//     (choose_u8_params over the row, as PyTorch's dynamic quantized Linear chooses them), or
//   - static: one calibrated (scale, zero point) for every row, e.g. choose_u8_params over the
//     range an observer saw on calibration data.
// Output: f32, dequantized and biased in the GEMM's epilogue (s_x s_w (acc - z_x Σ_k W) + b).
//
// Inference only. It satisfies pare::Layer so it composes in Sequential: `forward` is `infer`,
// `backward` throws UnsupportedError, and there are no trainable parameters.
//
//   pare::Int8Linear q(fc);                     // from a trained pare::Linear, dynamic
//   auto y = q.infer(x);                        // x: [N, in] -> y: [N, out]
#pragma once

#include <cstddef>
#include <optional>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/gemm_int8.hpp"
#include "pare/nn/concepts.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/parameter.hpp"
#include "pare/quant/dynamic.hpp"

namespace pare {

class Int8Linear {
 public:
  /// Quantizes `fc`'s weights; activations are quantized per row at each call (dynamic).
  /// @param path the int8 GEMM path (automatic: the best this CPU runs)
  explicit Int8Linear(const Linear& fc, Int8Path path = Int8Path::automatic);

  /// From weights already quantized and packed (with their per-channel scales), as a saved model
  /// holds them (io/layer_io.hpp).
  Int8Linear(PackedInt8Weights weights, Tensor<float, 1> bias,
             std::optional<QuantParams> activation = std::nullopt,
             Int8Path path = Int8Path::automatic);

  /// As above, with one static activation quantization for every row (calibrated beforehand).
  Int8Linear(const Linear& fc, QuantParams activation, Int8Path path = Int8Path::automatic);

  [[nodiscard]] std::size_t in_features() const noexcept { return weights_.k(); }
  [[nodiscard]] std::size_t out_features() const noexcept { return weights_.n(); }
  [[nodiscard]] std::size_t output_size(std::size_t in) const {
    PARE_CHECK(in == in_features(), ShapeError, "Int8Linear expects inputs of width ",
               in_features(), ", got ", in);
    return out_features();
  }

  /// The packed s8 weights (with per-channel scales and column sums).
  [[nodiscard]] const PackedInt8Weights& weights() const noexcept { return weights_; }
  /// Per-output-channel weight scales.
  [[nodiscard]] const float* weight_scales() const noexcept { return weights_.scales(); }
  [[nodiscard]] const Tensor<float, 1>& bias() const noexcept { return bias_; }
  /// The static activation quantization, or nothing for dynamic per-token quantization.
  [[nodiscard]] std::optional<QuantParams> static_activation() const noexcept {
    return static_activation_;
  }
  /// Bytes of the quantized layer as held: packed codes (padded), column sums, scales, bias.
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    return weights_.size_bytes() + bias_.size_bytes();
  }

  /// y = x Wᵀ + b for a batch x [N, in], on the int8 GEMM.
  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const;

  /// y = W x + b for one sample (the GEMV case).
  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const;

  /// Inference only: the same as `infer` (nothing is remembered).
  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2> x) { return infer(x); }

  /// Always throws UnsupportedError: an int8 layer is not trained (train the float Linear, or use
  /// fake quantization for QAT, then convert).
  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2>) {
    detail::raise<UnsupportedError>("Int8Linear is inference only: it has no backward pass");
  }

  /// No trainable parameters.
  template <class F>
  void for_each_parameter(F&&) noexcept {}

 private:
  void quantize_weights(const Linear& fc);

  void run(TensorView<const float, 2> x, TensorView<float, 2> y) const;

  PackedInt8Weights weights_;
  Tensor<float, 1> bias_;
  Int8Path path_;
  std::optional<QuantParams> static_activation_;
};

static_assert(Layer<Int8Linear>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/nn/linear_int8-inl.hpp"
#endif
