// SPDX-License-Identifier: Apache-2.0
// pare — 2-D convolution of one sample (torch.nn.functional.conv2d / ONNX Conv semantics) by
// im2col + GEMM, and the backward pieces training needs (col2im, grad input, grad weight).
//
//   pare::Conv2dGeometry g{.in_channels = 1, .out_channels = 8, .in_h = 8, .in_w = 8,
//                          .kernel_h = 3, .kernel_w = 3, .pad_top = 1, .pad_left = 1,
//                          .pad_bottom = 1, .pad_right = 1};
//   pare::conv2d(g, input /*[1,8,8]*/, weight /*[8,1,3,3]*/, bias.data(), output /*[8,8,8]*/);
//
// Layouts are torch's and ONNX's: input [C, H, W], weight [O, C/groups, kh, kw], output
// [O, oh, ow]. Why im2col: it turns every convolution (any stride, dilation, padding, groups)
// into one GEMM per group, so the convolution runs at pare::gemm's speed with one code path. The
// cost is a column buffer of (C/groups)·kh·kw × oh·ow floats per call; a 1×1, stride-1,
// unpadded convolution skips it (the input already is its column matrix).
#pragma once

#include <cstddef>
#include <string>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/gemm.hpp"

namespace pare {

/// Sizes of one 2-D convolution. Output extents follow torch/ONNX:
/// out = ⌊(in + pad_before + pad_after − dilation·(kernel − 1) − 1) / stride⌋ + 1.
struct Conv2dGeometry {
  std::size_t in_channels = 0;
  std::size_t out_channels = 0;
  std::size_t in_h = 0;
  std::size_t in_w = 0;
  std::size_t kernel_h = 0;
  std::size_t kernel_w = 0;
  std::size_t stride_h = 1;
  std::size_t stride_w = 1;
  std::size_t pad_top = 0;
  std::size_t pad_left = 0;
  std::size_t pad_bottom = 0;
  std::size_t pad_right = 0;
  std::size_t dilation_h = 1;
  std::size_t dilation_w = 1;
  std::size_t groups = 1;

  [[nodiscard]] constexpr std::size_t out_h() const noexcept {
    return out_extent(in_h, pad_top + pad_bottom, kernel_h, stride_h, dilation_h);
  }
  [[nodiscard]] constexpr std::size_t out_w() const noexcept {
    return out_extent(in_w, pad_left + pad_right, kernel_w, stride_w, dilation_w);
  }
  /// Input channels each group sees (the weight's second extent).
  [[nodiscard]] constexpr std::size_t group_in_channels() const noexcept {
    return groups ? in_channels / groups : 0;
  }
  [[nodiscard]] constexpr std::size_t group_out_channels() const noexcept {
    return groups ? out_channels / groups : 0;
  }
  /// Rows of the im2col matrix of one group: (C/groups)·kh·kw.
  [[nodiscard]] constexpr std::size_t patch_size() const noexcept {
    return group_in_channels() * kernel_h * kernel_w;
  }

  /// Throws ArgumentError naming the first inconsistent field: zero sizes, channels not divisible
  /// by groups, or a (dilated) kernel larger than the padded input.
  void validate() const;

  /// "{in 3x32x32, out 8, kernel 3x3, ...}": the geometry in error messages.
  [[nodiscard]] std::string describe() const;

 private:
  static constexpr std::size_t out_extent(std::size_t in, std::size_t pads, std::size_t k,
                                          std::size_t s, std::size_t d) noexcept {
    const std::size_t span = d * (k - 1) + 1;
    return (k == 0 || s == 0 || in + pads < span) ? 0 : (in + pads - span) / s + 1;
  }
};

namespace kernels {

/// Gathers the receptive fields of channels [c0, c0 + C/groups) into `col`
/// [(C/groups)·kh·kw, oh·ow]: row (c, i, j) holds, for every output position, the input pixel
/// that kernel tap (i, j) of channel c sees there, or 0 in the padding.
void im2col(const Conv2dGeometry& g, TensorView<const float, 3> input, std::size_t c0,
            TensorView<float, 2> col) noexcept;

/// The adjoint of im2col: adds each entry of `col` [(C/groups)·kh·kw, oh·ow] to the input pixel
/// it was gathered from (channels [c0, c0 + C/groups) of `grad_input`); padding entries are
/// dropped.
void col2im(const Conv2dGeometry& g, TensorView<const float, 2> col, std::size_t c0,
            TensorView<float, 3> grad_input) noexcept;

}  // namespace kernels

/// output = conv2d(input, weight) + bias for one sample, as torch.nn.functional.conv2d with
/// stride, padding (asymmetric allowed, as ONNX pads), dilation and groups.
/// @param input [C, H, W]; @param weight [O, C/groups, kh, kw]; @param bias nullptr or O floats;
/// @param output [O, oh, ow] (overwritten). Views may be strided, except the weight's last three
/// dimensions, which must be contiguous (a torch/ONNX weight is).
/// @pre output overlaps neither input nor weight. Throws ArgumentError for a bad geometry and
/// ShapeError when a view's shape does not match it.
void conv2d(const Conv2dGeometry& g, TensorView<const float, 3> input,
            TensorView<const float, 4> weight, const float* bias, TensorView<float, 3> output);

/// Adds dL/dweight (and dL/dbias) of one sample to `grad_weight` [O, C/groups, kh, kw] (contiguous)
/// and `grad_bias` (nullptr or O floats), given that sample's `input` [C, H, W] and dL/doutput
/// `grad_output` [O, oh, ow]: dW_g += dY_g · col_gᵀ, db += Σ dY.
void conv2d_backward_weight(const Conv2dGeometry& g, TensorView<const float, 3> input,
                            TensorView<const float, 3> grad_output,
                            TensorView<float, 4> grad_weight, float* grad_bias);

/// dL/dinput [C, H, W] (overwritten) of one sample from dL/doutput [O, oh, ow] and the weight:
/// col_g = W_gᵀ · dY_g, then col2im.
void conv2d_backward_input(const Conv2dGeometry& g, TensorView<const float, 4> weight,
                           TensorView<const float, 3> grad_output, TensorView<float, 3> grad_input);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/kernels/conv2d-inl.hpp"
#endif
