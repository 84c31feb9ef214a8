// SPDX-License-Identifier: Apache-2.0
// pare — layer normalization (torch.nn.LayerNorm over the last `size` values).
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/nn/concepts.hpp"
#include "pare/nn/parameter.hpp"

namespace pare {

/// Normalizes each consecutive block of `size` values of a row to zero mean and unit variance
/// (biased), then applies a learned per-position γ (starts at 1) and β (starts at 0):
/// y = γ·(x − μ)/√(σ² + eps) + β. With size equal to the row width (a flattened [C, H, W] image,
/// or a feature vector) this is torch.nn.LayerNorm(normalized_shape = that shape); a row of T
/// tokens of D values each, with size = D, normalizes every token on its own. Same computation in
/// training and inference (no running statistics).
class LayerNorm {
 public:
  explicit LayerNorm(std::size_t size, float eps = 1e-5f);

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t output_size(std::size_t in) const {
    PARE_CHECK(in % size_ == 0 && in > 0, ShapeError, "LayerNorm over blocks of ", size_,
               " values got rows of ", in);
    return in;
  }

  [[nodiscard]] Tensor<float, 1>& weight() noexcept { return gamma_; }
  [[nodiscard]] const Tensor<float, 1>& weight() const noexcept { return gamma_; }
  [[nodiscard]] Tensor<float, 1>& bias() noexcept { return beta_; }
  [[nodiscard]] const Tensor<float, 1>& bias() const noexcept { return beta_; }
  [[nodiscard]] const Tensor<float, 1>& weight_grad() const noexcept { return gamma_grad_; }
  [[nodiscard]] const Tensor<float, 1>& bias_grad() const noexcept { return beta_grad_; }

  /// Normalizes; keeps x̂ and 1/σ per block for `backward`.
  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2> x);

  /// dL/dx for the last forward: dx = (1/σ)·(g − mean(g) − x̂·mean(g·x̂)) with g = γ·dy per block;
  /// adds dL/dγ = Σ dy·x̂ and dL/dβ = Σ dy.
  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2> grad_out);

  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const;

  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const;

  template <class F>
  void for_each_parameter(F&& f) {
    f(Parameter{gamma_.span(), gamma_grad_.span()});
    f(Parameter{beta_.span(), beta_grad_.span()});
  }

 private:
  // y = γ·x̂ + β for one block; stores x̂ when `xhat` is non-empty; returns 1/σ.
  float normalize(TensorView<const float, 1> x, TensorView<float, 1> xhat,
                  TensorView<float, 1> y) const;

  std::size_t size_;
  float eps_;
  Tensor<float, 1> gamma_, beta_, gamma_grad_, beta_grad_;
  Tensor<float, 2> xhat_;
  Tensor<float, 1> inv_std_;
};

static_assert(Layer<LayerNorm>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/nn/layer_norm-inl.hpp"
#endif
