// SPDX-License-Identifier: Apache-2.0
// pare — batch normalization (torch.nn.BatchNorm1d / BatchNorm2d) and folding it into the layer
// before it for inference.
//
// When to use which:
// - `BatchNorm2d(C, H, W)` after a Conv2d: statistics per channel over the batch and all H·W
//   positions of flattened [N, C·H·W] rows.
// - `BatchNorm1d(F)` after a Linear: statistics per feature over the batch.
// - `fold_batch_norm(conv_or_linear, bn)` once training is done: the affine map of the BN (with
//   its running statistics) moves into the preceding layer's weights and bias, and the BN turns
//   into the identity, so inference pays nothing for it.
#pragma once

#include <cstddef>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/nn/concepts.hpp"
#include "pare/nn/conv2d.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/parameter.hpp"

namespace pare {

/// Batch normalization over `channels` groups of `spatial` consecutive values per row:
/// y = γ·(x − μ)/√(σ² + eps) + β. In training mode (the default, as a fresh torch module) μ and σ²
/// are the batch's (σ² biased) and the running estimates move by `momentum` towards them (the
/// running variance takes the unbiased batch variance, as torch); in eval mode, and always in
/// `infer`, the running estimates are used. γ starts at 1, β at 0, the running mean at 0 and
/// the running variance at 1.
class BatchNorm2d {
 public:
  BatchNorm2d(std::size_t channels, std::size_t height, std::size_t width, float eps = 1e-5f,
              float momentum = 0.1f);

  [[nodiscard]] std::size_t channels() const noexcept { return channels_; }
  [[nodiscard]] std::size_t features() const noexcept { return channels_ * spatial_; }
  [[nodiscard]] float eps() const noexcept { return eps_; }
  [[nodiscard]] std::size_t output_size(std::size_t in) const {
    PARE_CHECK(in == features(), ShapeError, "BatchNorm expects inputs of width ", features(),
               ", got ", in);
    return in;
  }

  /// Training mode uses and updates batch statistics; eval mode uses the running ones.
  void set_training(bool on) noexcept { training_ = on; }
  [[nodiscard]] bool training() const noexcept { return training_; }

  [[nodiscard]] Tensor<float, 1>& weight() noexcept { return gamma_; }
  [[nodiscard]] const Tensor<float, 1>& weight() const noexcept { return gamma_; }
  [[nodiscard]] Tensor<float, 1>& bias() noexcept { return beta_; }
  [[nodiscard]] const Tensor<float, 1>& bias() const noexcept { return beta_; }
  [[nodiscard]] Tensor<float, 1>& running_mean() noexcept { return running_mean_; }
  [[nodiscard]] const Tensor<float, 1>& running_mean() const noexcept { return running_mean_; }
  [[nodiscard]] Tensor<float, 1>& running_var() noexcept { return running_var_; }
  [[nodiscard]] const Tensor<float, 1>& running_var() const noexcept { return running_var_; }
  [[nodiscard]] const Tensor<float, 1>& weight_grad() const noexcept { return gamma_grad_; }
  [[nodiscard]] const Tensor<float, 1>& bias_grad() const noexcept { return beta_grad_; }

  /// True after fold_batch_norm: the layer passes its input through unchanged.
  [[nodiscard]] bool is_identity() const noexcept { return identity_; }
  /// Turns the layer into the identity (what fold_batch_norm does after moving the affine map).
  void make_identity() noexcept { identity_ = true; }

  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2> x);

  /// dL/dx for the last forward; adds dL/dγ = Σ dy·x̂ and dL/dβ = Σ dy. In training mode the
  /// batch statistics depend on x: dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂)).
  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2> grad_out);

  /// y = γ·(x − running mean)/√(running var + eps) + β, whatever the mode.
  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const;

  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const;

  template <class F>
  void for_each_parameter(F&& f) {
    f(Parameter{gamma_.span(), gamma_grad_.span()});
    f(Parameter{beta_.span(), beta_grad_.span()});
  }

 private:
  template <std::size_t R>
  void check_width(const TensorView<const float, R>& x) const {
    PARE_CHECK(x.extent(R - 1) == features(), ShapeError, "BatchNorm: input ",
               to_string(x.extents()), " has the wrong width, expected ", features());
  }

  std::size_t channels_, spatial_;
  float eps_, momentum_;
  Tensor<float, 1> gamma_, beta_, gamma_grad_, beta_grad_, running_mean_, running_var_;
  Tensor<float, 2> xhat_;   // training mode: the normalized batch
  Tensor<float, 2> input_;  // eval mode: the input
  std::vector<float> inv_std_;
  bool training_ = true;
  bool cached_eval_ = false;
  bool identity_ = false;
};

/// Batch normalization of each feature of [N, F] rows (torch.nn.BatchNorm1d on 2-D input).
class BatchNorm1d : public BatchNorm2d {
 public:
  explicit BatchNorm1d(std::size_t features, float eps = 1e-5f, float momentum = 0.1f)
      : BatchNorm2d(features, 1, 1, eps, momentum) {}
};

static_assert(Layer<BatchNorm2d>);
static_assert(Layer<BatchNorm1d>);

/// Folds an eval-mode BatchNorm2d that follows `conv` into it: W'[o] = W[o]·s_o and
/// b'[o] = b[o]·s_o + t_o with s, t the BN's affine map, then makes the BN the identity.
/// The pair computes the same function as before (to rounding) at the cost of the conv alone.
/// @pre bn has conv's out_channels channels and conv's output size (else ShapeError).
void fold_batch_norm(Conv2d& conv, BatchNorm2d& bn);

/// Folds an eval-mode BatchNorm1d that follows `fc` into it (rows of W scaled, bias shifted),
/// then makes the BN the identity. @pre bn has fc's out_features features (else ShapeError).
void fold_batch_norm(Linear& fc, BatchNorm2d& bn);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/nn/batch_norm-inl.hpp"
#endif
