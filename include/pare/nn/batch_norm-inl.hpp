// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/batch_norm.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/nn/batch_norm.hpp"

namespace pare {

namespace detail {
/// Per-channel scale γ/√(var + eps) and shift β − mean·scale of an eval-mode BN.
inline void bn_affine(const BatchNorm2d& bn, std::size_t c, float& scale, float& shift) noexcept {
  scale = bn.weight()[c] / std::sqrt(bn.running_var()[c] + bn.eps());
  shift = bn.bias()[c] - bn.running_mean()[c] * scale;
}
}  // namespace detail

PARE_INLINE BatchNorm2d::BatchNorm2d(std::size_t channels, std::size_t height, std::size_t width,
                                     float eps, float momentum)
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
             "BatchNorm needs positive sizes, got ", channels, " channels of ", height, "x", width);
  PARE_CHECK(eps > 0 && momentum >= 0 && momentum <= 1, ArgumentError,
             "BatchNorm: eps must be positive and momentum in [0, 1], got eps=", eps,
             " momentum=", momentum);
}

PARE_INLINE Tensor<float, 2> BatchNorm2d::forward(TensorView<const float, 2> x) {
  check_width(x);
  if (!training_ || identity_) {
    cached_eval_ = true;
    input_ = Tensor<float, 2>(x);
    return infer(x);
  }
  cached_eval_ = false;
  const std::size_t n = x.extent(0);
  PARE_CHECK(n * spatial_ > 1, ArgumentError,
             "BatchNorm in training mode needs more than one value per channel, got a batch of ", n,
             " with ", spatial_, " positions");
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

PARE_INLINE Tensor<float, 2> BatchNorm2d::backward(TensorView<const float, 2> grad_out) {
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
        dx(i, j) = static_cast<float>(k * (grad_out(i, j) - mean_dy - xhat_(i, j) * mean_dy_xhat));
      }
  }
  return dx;
}

PARE_INLINE Tensor<float, 2> BatchNorm2d::infer(TensorView<const float, 2> x) const {
  check_width(x);
  Tensor<float, 2> y(x.extents());
  for (std::size_t i = 0; i < x.extent(0); ++i) infer(x[i], y.view()[i]);
  return y;
}

PARE_INLINE void BatchNorm2d::infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
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

PARE_INLINE void fold_batch_norm(Conv2d& conv, BatchNorm2d& bn) {
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

PARE_INLINE void fold_batch_norm(Linear& fc, BatchNorm2d& bn) {
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
