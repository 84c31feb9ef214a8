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

#include <cmath>
#include <cstddef>
#include <vector>

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
              float momentum = 0.1f)
      : channels_(channels),
        spatial_(height * width),
        eps_(eps),
        momentum_(momentum),
        gamma_({channels}, 1.0f),
        beta_({channels}),
        gamma_grad_({channels}),
        beta_grad_({channels}),
        running_mean_({channels}),
        running_var_({channels}, 1.0f) {
    PARE_CHECK(channels > 0 && height * width > 0, ArgumentError,
               "BatchNorm needs positive sizes, got ", channels, " channels of ", height, "x",
               width);
    PARE_CHECK(eps > 0 && momentum >= 0 && momentum <= 1, ArgumentError,
               "BatchNorm: eps must be positive and momentum in [0, 1], got eps=", eps,
               " momentum=", momentum);
  }

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

  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2> x) {
    check_width(x);
    if (!training_ || identity_) {
      cached_eval_ = true;
      input_ = Tensor<float, 2>(x);
      return infer(x);
    }
    cached_eval_ = false;
    const std::size_t n = x.extent(0);
    PARE_CHECK(n * spatial_ > 1, ArgumentError,
               "BatchNorm in training mode needs more than one value per channel, got a batch of ",
               n, " with ", spatial_, " positions");
    const double count = static_cast<double>(n * spatial_);
    xhat_ = Tensor<float, 2>(x.extents());
    inv_std_.assign(channels_, 0.0f);
    Tensor<float, 2> y(x.extents());
    for (std::size_t c = 0; c < channels_; ++c) {
      double sum = 0;
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t s = 0; s < spatial_; ++s) sum += x(i, c * spatial_ + s);
      const double mean = sum / count;
      double sq = 0;
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t s = 0; s < spatial_; ++s) {
          const double d = x(i, c * spatial_ + s) - mean;
          sq += d * d;
        }
      const double var = sq / count;
      const auto inv_std = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps_)));
      inv_std_[c] = inv_std;
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t s = 0; s < spatial_; ++s) {
          const std::size_t j = c * spatial_ + s;
          const auto xh = static_cast<float>((x(i, j) - mean) * inv_std);
          xhat_(i, j) = xh;
          y(i, j) = gamma_[c] * xh + beta_[c];
        }
      const float m = momentum_;
      running_mean_[c] = (1 - m) * running_mean_[c] + m * static_cast<float>(mean);
      running_var_[c] = (1 - m) * running_var_[c] + m * static_cast<float>(sq / (count - 1));
    }
    return y;
  }

  /// dL/dx for the last forward; adds dL/dγ = Σ dy·x̂ and dL/dβ = Σ dy. In training mode the
  /// batch statistics depend on x: dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂)).
  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2> grad_out) {
    check_width(grad_out);
    Tensor<float, 2> dx(grad_out.extents());
    const std::size_t n = grad_out.extent(0);
    if (identity_) {
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < features(); ++j) dx(i, j) = grad_out(i, j);
      return dx;
    }
    if (cached_eval_) {
      // Fixed (running) statistics: y is affine in x, dx = dy·γ/σ.
      PARE_CHECK(input_.extent(0) == n, ShapeError, "BatchNorm::backward: gradient ",
                 to_string(grad_out.extents()), " does not match the last forward batch of ",
                 input_.extent(0));
      for (std::size_t c = 0; c < channels_; ++c) {
        const float inv_std = 1.0f / std::sqrt(running_var_[c] + eps_);
        double db = 0, dg = 0;
        for (std::size_t i = 0; i < n; ++i)
          for (std::size_t s = 0; s < spatial_; ++s) {
            const std::size_t j = c * spatial_ + s;
            dx(i, j) = grad_out(i, j) * gamma_[c] * inv_std;
            db += grad_out(i, j);
            dg += static_cast<double>(grad_out(i, j)) * (input_(i, j) - running_mean_[c]) * inv_std;
          }
        gamma_grad_[c] += static_cast<float>(dg);
        beta_grad_[c] += static_cast<float>(db);
      }
      return dx;
    }
    PARE_CHECK(xhat_.extent(0) == n, ShapeError, "BatchNorm::backward: gradient ",
               to_string(grad_out.extents()), " does not match the last forward batch of ",
               xhat_.extent(0));
    const double count = static_cast<double>(n * spatial_);
    for (std::size_t c = 0; c < channels_; ++c) {
      double sum_dy = 0, sum_dy_xhat = 0;
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t s = 0; s < spatial_; ++s) {
          const std::size_t j = c * spatial_ + s;
          sum_dy += grad_out(i, j);
          sum_dy_xhat += static_cast<double>(grad_out(i, j)) * xhat_(i, j);
        }
      gamma_grad_[c] += static_cast<float>(sum_dy_xhat);
      beta_grad_[c] += static_cast<float>(sum_dy);
      const double mean_dy = sum_dy / count, mean_dy_xhat = sum_dy_xhat / count;
      const double k = static_cast<double>(gamma_[c]) * inv_std_[c];
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t s = 0; s < spatial_; ++s) {
          const std::size_t j = c * spatial_ + s;
          dx(i, j) =
              static_cast<float>(k * (grad_out(i, j) - mean_dy - xhat_(i, j) * mean_dy_xhat));
        }
    }
    return dx;
  }

  /// y = γ·(x − running mean)/√(running var + eps) + β, whatever the mode.
  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const {
    check_width(x);
    Tensor<float, 2> y(x.extents());
    for (std::size_t i = 0; i < x.extent(0); ++i) infer(x[i], y.view()[i]);
    return y;
  }

  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
    PARE_CHECK(x.extent(0) == features() && y.extent(0) == features(), ShapeError,
               "BatchNorm: sample ", to_string(x.extents()), " -> ", to_string(y.extents()),
               ", expected ", features(), " values");
    for (std::size_t c = 0; c < channels_; ++c) {
      float scale = 1.0f, shift = 0.0f;
      if (!identity_) {
        scale = gamma_[c] / std::sqrt(running_var_[c] + eps_);
        shift = beta_[c] - running_mean_[c] * scale;
      }
      for (std::size_t s = 0; s < spatial_; ++s) {
        const std::size_t j = c * spatial_ + s;
        y[j] = x[j] * scale + shift;
      }
    }
  }

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

namespace detail {
/// Per-channel scale γ/√(var + eps) and shift β − mean·scale of an eval-mode BN.
inline void bn_affine(const BatchNorm2d& bn, std::size_t c, float& scale, float& shift) noexcept {
  scale = bn.weight()[c] / std::sqrt(bn.running_var()[c] + bn.eps());
  shift = bn.bias()[c] - bn.running_mean()[c] * scale;
}
}  // namespace detail

/// Folds an eval-mode BatchNorm2d that follows `conv` into it: W'[o] = W[o]·s_o and
/// b'[o] = b[o]·s_o + t_o with s, t the BN's affine map, then makes the BN the identity.
/// The pair computes the same function as before (to rounding) at the cost of the conv alone.
/// @pre bn has conv's out_channels channels and conv's output size (else ShapeError).
inline void fold_batch_norm(Conv2d& conv, BatchNorm2d& bn) {
  const auto& g = conv.geometry();
  PARE_CHECK(bn.channels() == g.out_channels && bn.features() == conv.out_features(), ShapeError,
             "fold_batch_norm: BatchNorm of ", bn.channels(), " channels x ", bn.features(),
             " values does not follow a Conv2d with ", g.out_channels, " channels x ",
             conv.out_features(), " outputs");
  PARE_CHECK(!bn.is_identity(), ArgumentError, "fold_batch_norm: this BatchNorm is already folded");
  const std::size_t per_out = conv.weight().size() / g.out_channels;
  for (std::size_t o = 0; o < g.out_channels; ++o) {
    float scale = 0, shift = 0;
    detail::bn_affine(bn, o, scale, shift);
    for (std::size_t k = 0; k < per_out; ++k) conv.weight().data()[o * per_out + k] *= scale;
    conv.bias()[o] = conv.bias()[o] * scale + shift;
  }
  conv.enable_bias();
  bn.make_identity();
}

/// Folds an eval-mode BatchNorm1d that follows `fc` into it (rows of W scaled, bias shifted),
/// then makes the BN the identity. @pre bn has fc's out_features features (else ShapeError).
inline void fold_batch_norm(Linear& fc, BatchNorm2d& bn) {
  PARE_CHECK(bn.channels() == fc.out_features() && bn.features() == fc.out_features(), ShapeError,
             "fold_batch_norm: BatchNorm of ", bn.channels(),
             " features does not follow a Linear with ", fc.out_features(), " outputs");
  PARE_CHECK(!bn.is_identity(), ArgumentError, "fold_batch_norm: this BatchNorm is already folded");
  for (std::size_t o = 0; o < fc.out_features(); ++o) {
    float scale = 0, shift = 0;
    detail::bn_affine(bn, o, scale, shift);
    for (std::size_t k = 0; k < fc.in_features(); ++k) fc.weight()(o, k) *= scale;
    fc.bias()[o] = fc.bias()[o] * scale + shift;
  }
  bn.make_identity();
}

}  // namespace pare
