// SPDX-License-Identifier: Apache-2.0
// pare — MaxPool2d and AvgPool2d layers (torch.nn.MaxPool2d / AvgPool2d) on flattened images.
#pragma once

#include <cstddef>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/pool2d.hpp"
#include "pare/nn/concepts.hpp"

namespace pare {

namespace detail {

/// What MaxPool2d and AvgPool2d share: the geometry, flattening [N, C·H·W] <-> [C, H, W], and
/// the per-sample loops. `Op` supplies forward(g, in, out) and backward(g, in, dy, dx).
template <class Op>
class Pool2dLayer {
 public:
  explicit Pool2dLayer(const Pool2dGeometry& g) : geom_((g.validate(), g)) {}

  [[nodiscard]] const Pool2dGeometry& geometry() const noexcept { return geom_; }
  [[nodiscard]] std::size_t in_features() const noexcept {
    return geom_.channels * geom_.in_h * geom_.in_w;
  }
  [[nodiscard]] std::size_t out_features() const noexcept {
    return geom_.channels * geom_.out_h() * geom_.out_w();
  }
  [[nodiscard]] std::size_t output_size(std::size_t in) const {
    PARE_CHECK(in == in_features(), ShapeError, "pooling expects inputs of width ", in_features(),
               " (", geom_.channels, "x", geom_.in_h, "x", geom_.in_w, "), got ", in);
    return out_features();
  }

  /// Pools each row; keeps a copy of x (max pooling routes gradients by it).
  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2> x) {
    Tensor<float, 2> y = infer(x);
    input_ = Tensor<float, 2>(x);
    return y;
  }

  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2> grad_out) {
    PARE_CHECK(grad_out.extent(0) == input_.extent(0) && grad_out.extent(1) == out_features(),
               ShapeError, "pooling backward: gradient ", to_string(grad_out.extents()),
               " does not match the last forward output [", input_.extent(0), ", ", out_features(),
               "]");
    const Tensor<float, 2> dy(grad_out);  // contiguous rows
    Tensor<float, 2> grad_in({grad_out.extent(0), in_features()});
    for (std::size_t n = 0; n < dy.extent(0); ++n)
      Op::backward(geom_, in_image(input_.data(), n), out_image(dy.data(), n),
                   in_image(grad_in.data(), n));
    return grad_in;
  }

  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const {
    PARE_CHECK(x.extent(1) == in_features(), ShapeError, "pooling: input ", to_string(x.extents()),
               " has the wrong width, expected ", in_features());
    const Tensor<float, 2> xc(x);  // contiguous rows
    Tensor<float, 2> y({x.extent(0), out_features()});
    for (std::size_t n = 0; n < x.extent(0); ++n)
      Op::forward(geom_, in_image(xc.data(), n), out_image(y.data(), n));
    return y;
  }

  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
    PARE_CHECK(x.extent(0) == in_features() && y.extent(0) == out_features() && x.is_contiguous() &&
                   y.is_contiguous(),
               ShapeError, "pooling: sample ", to_string(x.extents()), " -> ",
               to_string(y.extents()), ", expected contiguous [", in_features(), "] -> [",
               out_features(), "]");
    Op::forward(geom_, in_image(x.data(), 0), out_image(y.data(), 0));
  }

  template <class F>
  void for_each_parameter(F&& /*f*/) noexcept {}

 private:
  template <class T>
  TensorView<T, 3> in_image(T* rows, std::size_t n) const noexcept {
    return {rows + n * in_features(), {geom_.channels, geom_.in_h, geom_.in_w}};
  }
  template <class T>
  TensorView<T, 3> out_image(T* rows, std::size_t n) const noexcept {
    return {rows + n * out_features(), {geom_.channels, geom_.out_h(), geom_.out_w()}};
  }

  Pool2dGeometry geom_;
  Tensor<float, 2> input_;
};

struct MaxPoolOp {
  static void forward(const Pool2dGeometry& g, TensorView<const float, 3> in,
                      TensorView<float, 3> out) {
    max_pool2d(g, in, out);
  }
  static void backward(const Pool2dGeometry& g, TensorView<const float, 3> in,
                       TensorView<const float, 3> dy, TensorView<float, 3> dx) {
    max_pool2d_backward(g, in, dy, dx);
  }
};

struct AvgPoolOp {
  static void forward(const Pool2dGeometry& g, TensorView<const float, 3> in,
                      TensorView<float, 3> out) {
    avg_pool2d(g, in, out);
  }
  static void backward(const Pool2dGeometry& g, TensorView<const float, 3> /*in*/,
                       TensorView<const float, 3> dy, TensorView<float, 3> dx) {
    avg_pool2d_backward(g, dy, dx);
  }
};

}  // namespace detail

/// Max pooling over windows of each channel (torch.nn.MaxPool2d; padding never wins; the
/// gradient goes to the first maximum of each window).
///
///   pare::MaxPool2d pool({.channels = 8, .in_h = 8, .in_w = 8, .kernel_h = 2, .kernel_w = 2,
///                         .stride_h = 2, .stride_w = 2});    // [N, 512] -> [N, 128]
class MaxPool2d : public detail::Pool2dLayer<detail::MaxPoolOp> {
 public:
  using Pool2dLayer::Pool2dLayer;
};

/// Average pooling over windows of each channel (torch.nn.AvgPool2d, with count_include_pad
/// and ceil_mode from the geometry).
class AvgPool2d : public detail::Pool2dLayer<detail::AvgPoolOp> {
 public:
  using Pool2dLayer::Pool2dLayer;
};

static_assert(Layer<MaxPool2d>);
static_assert(Layer<AvgPool2d>);

}  // namespace pare
