// SPDX-License-Identifier: Apache-2.0
// pare — Conv2d layer: torch.nn.Conv2d on flattened images, by im2col + GEMM.
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/conv2d.hpp"
#include "pare/nn/concepts.hpp"
#include "pare/nn/init.hpp"
#include "pare/nn/parameter.hpp"

namespace pare {

/// A 2-D convolution layer. Batches stay [N, features] as everywhere in pare::nn: a sample is an
/// image [C, H, W] flattened row-major (C·H·W values), and the output [O, oh, ow] is flattened the
/// same way, so Conv2d composes with Linear, ReLU and the pooling layers in a Sequential. The
/// geometry (image size, kernel, stride, padding, dilation, groups) is fixed at construction.
///
///   pare::Rng rng(1);
///   pare::Conv2d conv({.in_channels = 1, .out_channels = 8, .in_h = 8, .in_w = 8, .kernel_h = 3,
///                      .kernel_w = 3, .pad_top = 1, .pad_left = 1, .pad_bottom = 1,
///                      .pad_right = 1}, rng);
///   auto y = conv.forward(x);               // [N, 64] -> [N, 8·8·8]
class Conv2d {
 public:
  /// Zero weights and bias. `bias = false` makes a convolution without bias (its bias stays 0
  /// and is not a trainable parameter), as torch's bias=False.
  explicit Conv2d(const Conv2dGeometry& g, bool bias = true);

  /// torch.nn.Conv2d's default init, drawn from `rng`: W ~ kaiming_uniform(a = √5) =
  /// U(±1/√fan_in) with fan_in = (C/groups)·kh·kw, then b ~ U(±1/√fan_in).
  Conv2d(const Conv2dGeometry& g, Rng& rng, bool bias = true);

  [[nodiscard]] const Conv2dGeometry& geometry() const noexcept { return geom_; }
  [[nodiscard]] std::size_t in_features() const noexcept {
    return geom_.in_channels * geom_.in_h * geom_.in_w;
  }
  [[nodiscard]] std::size_t out_features() const noexcept {
    return geom_.out_channels * geom_.out_h() * geom_.out_w();
  }
  [[nodiscard]] std::size_t output_size(std::size_t in) const {
    PARE_CHECK(in == in_features(), ShapeError, "Conv2d expects inputs of width ", in_features(),
               " (", geom_.in_channels, "x", geom_.in_h, "x", geom_.in_w, "), got ", in);
    return out_features();
  }

  /// [O, C/groups, kh, kw], torch's layout.
  [[nodiscard]] Tensor<float, 4>& weight() noexcept { return weight_; }
  [[nodiscard]] const Tensor<float, 4>& weight() const noexcept { return weight_; }
  [[nodiscard]] Tensor<float, 1>& bias() noexcept { return bias_; }
  [[nodiscard]] const Tensor<float, 1>& bias() const noexcept { return bias_; }
  [[nodiscard]] const Tensor<float, 4>& weight_grad() const noexcept { return weight_grad_; }
  [[nodiscard]] const Tensor<float, 1>& bias_grad() const noexcept { return bias_grad_; }
  [[nodiscard]] bool has_bias() const noexcept { return has_bias_; }
  /// Makes the bias a trainable parameter (after folding a BatchNorm into a bias-free conv).
  void enable_bias() noexcept { has_bias_ = true; }

  /// The convolution of each row of x [N, C·H·W]; keeps the batch's im2col matrix for
  /// `backward`.
  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2> x) {
    return compute(x, columns_);
  }

  /// Given dL/dy [N, O·oh·ow] for the last forward, adds dL/dW (and dL/db) to the gradients and
  /// returns dL/dx [N, C·H·W].
  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2> grad_out);

  /// The convolution of each row of x [N, C·H·W], remembering nothing.
  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const;

  /// One sample: x [C·H·W] -> y [O·oh·ow].
  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const;

  template <class F>
  void for_each_parameter(F&& f) {
    f(Parameter{weight_.span(), weight_grad_.span()});
    if (has_bias_) f(Parameter{bias_.span(), bias_grad_.span()});
  }

 private:
  // Whole batch at once: im2col of every sample side by side, [groups·K, N·P], then one GEMM per
  // group, [O/groups, K] · [K, N·P]. One large product instead of N small ones.
  Tensor<float, 2> compute(TensorView<const float, 2> x, Tensor<float, 2>& col) const;

  std::size_t batch_of(const Tensor<float, 2>& col) const noexcept {
    const std::size_t plane = geom_.out_h() * geom_.out_w();
    return col.size() == 0 ? 0 : col.extent(1) / plane;
  }

  // Row n of a batch as an image; the row's elements must be contiguous (stride(1) == 1).
  template <class T>
  TensorView<T, 3> input_image(TensorView<T, 2> batch, std::size_t n) const {
    PARE_CHECK(batch.stride(1) == 1 || batch.extent(1) <= 1, ShapeError,
               "Conv2d: batch rows must be contiguous");
    return {batch.data() + static_cast<std::ptrdiff_t>(n) * batch.stride(0),
            {geom_.in_channels, geom_.in_h, geom_.in_w}};
  }

  Conv2dGeometry geom_;
  Tensor<float, 4> weight_;
  Tensor<float, 1> bias_;
  Tensor<float, 4> weight_grad_;
  Tensor<float, 1> bias_grad_;
  Tensor<float, 2> columns_;  // the last forward's im2col matrix [groups·K, N·P]
  bool has_bias_ = true;
};

static_assert(Layer<Conv2d>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/nn/conv2d-inl.hpp"
#endif
