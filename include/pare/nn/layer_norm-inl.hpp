// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/layer_norm.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cmath>
#include <cstddef>

#include "pare/core/error.hpp"
#include "pare/nn/layer_norm.hpp"

namespace pare {

PARE_INLINE LayerNorm::LayerNorm(std::size_t size, float eps)
    : size_(size),
      eps_(eps),
      gamma_({size}, 1.0f),
      beta_({size}),
      gamma_grad_({size}),
      beta_grad_({size}) {
  PARE_CHECK(size > 0 && eps > 0, ArgumentError, "LayerNorm needs size > 0 and eps > 0, got ", size,
             " and ", eps);
}

PARE_INLINE Tensor<float, 2> LayerNorm::forward(TensorView<const float, 2> x) {
  (void)output_size(x.extent(1));
  const std::size_t blocks = x.extent(0) * (x.extent(1) / size_);
  xhat_ = Tensor<float, 2>({blocks, size_});
  inv_std_ = Tensor<float, 1>({blocks});
  Tensor<float, 2> y(x.extents());
  std::size_t b = 0;
  for (std::size_t i = 0; i < x.extent(0); ++i)
    for (std::size_t off = 0; off < x.extent(1); off += size_, ++b)
      inv_std_[b] = normalize(x[i].slice(0, off, off + size_), xhat_.view()[b],
                              y.view()[i].slice(0, off, off + size_));
  return y;
}

PARE_INLINE Tensor<float, 2> LayerNorm::backward(TensorView<const float, 2> grad_out) {
  PARE_CHECK(grad_out.extent(1) % size_ == 0 &&
                 grad_out.extent(0) * (grad_out.extent(1) / size_) == xhat_.extent(0),
             ShapeError, "LayerNorm::backward: gradient ", to_string(grad_out.extents()),
             " does not match the last forward");
  Tensor<float, 2> dx(grad_out.extents());
  const double d = static_cast<double>(size_);
  std::size_t b = 0;
  for (std::size_t i = 0; i < grad_out.extent(0); ++i)
    for (std::size_t off = 0; off < grad_out.extent(1); off += size_, ++b) {
      double sum_g = 0, sum_g_xhat = 0;
      for (std::size_t k = 0; k < size_; ++k) {
        const float dy = grad_out(i, off + k);
        const float xh = xhat_(b, k);
        gamma_grad_[k] += dy * xh;
        beta_grad_[k] += dy;
        const double g = static_cast<double>(dy) * gamma_[k];
        sum_g += g;
        sum_g_xhat += g * xh;
      }
      const double mean_g = sum_g / d, mean_g_xhat = sum_g_xhat / d;
      for (std::size_t k = 0; k < size_; ++k) {
        const double g = static_cast<double>(grad_out(i, off + k)) * gamma_[k];
        dx(i, off + k) = static_cast<float>(inv_std_[b] * (g - mean_g - xhat_(b, k) * mean_g_xhat));
      }
    }
  return dx;
}

PARE_INLINE Tensor<float, 2> LayerNorm::infer(TensorView<const float, 2> x) const {
  (void)output_size(x.extent(1));
  Tensor<float, 2> y(x.extents());
  for (std::size_t i = 0; i < x.extent(0); ++i) infer(x[i], y.view()[i]);
  return y;
}

PARE_INLINE void LayerNorm::infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
  (void)output_size(x.extent(0));
  check_same_shape(x.extents(), y.extents(), "LayerNorm");
  for (std::size_t off = 0; off < x.extent(0); off += size_)
    (void)normalize(x.slice(0, off, off + size_), {}, y.slice(0, off, off + size_));
}

PARE_INLINE float LayerNorm::normalize(TensorView<const float, 1> x, TensorView<float, 1> xhat,
                                       TensorView<float, 1> y) const {
  double sum = 0;
  for (std::size_t k = 0; k < size_; ++k) sum += x[k];
  const double mean = sum / static_cast<double>(size_);
  double sq = 0;
  for (std::size_t k = 0; k < size_; ++k) sq += (x[k] - mean) * (x[k] - mean);
  const double inv_std = 1.0 / std::sqrt(sq / static_cast<double>(size_) + eps_);
  for (std::size_t k = 0; k < size_; ++k) {
    const auto xh = static_cast<float>((x[k] - mean) * inv_std);
    if (xhat.data() != nullptr) xhat[k] = xh;
    y[k] = gamma_[k] * xh + beta_[k];
  }
  return static_cast<float>(inv_std);
}

}  // namespace pare
