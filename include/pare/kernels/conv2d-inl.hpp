// SPDX-License-Identifier: Apache-2.0
// pare — definitions for kernels/conv2d.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/conv2d.hpp"
#include "pare/kernels/gemm.hpp"

namespace pare {

PARE_INLINE void Conv2dGeometry::validate() const {
  PARE_CHECK(
      in_channels > 0 && out_channels > 0 && in_h > 0 && in_w > 0 && kernel_h > 0 && kernel_w > 0,
      ArgumentError, "Conv2dGeometry: channels, input and kernel sizes must be positive, ", "got ",
      describe());
  PARE_CHECK(stride_h > 0 && stride_w > 0 && dilation_h > 0 && dilation_w > 0, ArgumentError,
             "Conv2dGeometry: strides and dilations must be positive, got ", describe());
  PARE_CHECK(groups > 0 && in_channels % groups == 0 && out_channels % groups == 0, ArgumentError,
             "Conv2dGeometry: groups = ", groups, " must divide in_channels = ", in_channels,
             " and out_channels = ", out_channels);
  PARE_CHECK(dilation_h * (kernel_h - 1) + 1 <= in_h + pad_top + pad_bottom &&
                 dilation_w * (kernel_w - 1) + 1 <= in_w + pad_left + pad_right,
             ArgumentError, "Conv2dGeometry: the kernel is larger than the padded input, ",
             describe());
}

PARE_INLINE std::string Conv2dGeometry::describe() const {
  return detail::concat("{in ", in_channels, "x", in_h, "x", in_w, ", out ", out_channels,
                        ", kernel ", kernel_h, "x", kernel_w, ", stride ", stride_h, "x", stride_w,
                        ", pads t", pad_top, " l", pad_left, " b", pad_bottom, " r", pad_right,
                        ", dilation ", dilation_h, "x", dilation_w, ", groups ", groups, "}");
}

namespace kernels {

PARE_INLINE void im2col(const Conv2dGeometry& g, TensorView<const float, 3> input, std::size_t c0,
                        TensorView<float, 2> col) noexcept {
  const std::size_t oh = g.out_h(), ow = g.out_w();
  std::size_t row = 0;
  for (std::size_t c = 0; c < g.group_in_channels(); ++c)
    for (std::size_t i = 0; i < g.kernel_h; ++i)
      for (std::size_t j = 0; j < g.kernel_w; ++j, ++row) {
        float* dst = &col(row, std::size_t{0});
        for (std::size_t y = 0; y < oh; ++y) {
          // Signed: the tap may fall in the top/left padding.
          const auto iy = static_cast<std::ptrdiff_t>(y * g.stride_h + i * g.dilation_h) -
                          static_cast<std::ptrdiff_t>(g.pad_top);
          float* out = dst + y * ow;
          if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(g.in_h)) {
            std::fill_n(out, ow, 0.0f);
            continue;
          }
          for (std::size_t x = 0; x < ow; ++x) {
            const auto ix = static_cast<std::ptrdiff_t>(x * g.stride_w + j * g.dilation_w) -
                            static_cast<std::ptrdiff_t>(g.pad_left);
            out[x] = (ix < 0 || ix >= static_cast<std::ptrdiff_t>(g.in_w)) ? 0.0f
                                                                           : input(c0 + c, iy, ix);
          }
        }
      }
}

PARE_INLINE void col2im(const Conv2dGeometry& g, TensorView<const float, 2> col, std::size_t c0,
                        TensorView<float, 3> grad_input) noexcept {
  const std::size_t oh = g.out_h(), ow = g.out_w();
  std::size_t row = 0;
  for (std::size_t c = 0; c < g.group_in_channels(); ++c)
    for (std::size_t i = 0; i < g.kernel_h; ++i)
      for (std::size_t j = 0; j < g.kernel_w; ++j, ++row) {
        const float* src = &col(row, std::size_t{0});
        for (std::size_t y = 0; y < oh; ++y) {
          const auto iy = static_cast<std::ptrdiff_t>(y * g.stride_h + i * g.dilation_h) -
                          static_cast<std::ptrdiff_t>(g.pad_top);
          if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(g.in_h)) continue;
          for (std::size_t x = 0; x < ow; ++x) {
            const auto ix = static_cast<std::ptrdiff_t>(x * g.stride_w + j * g.dilation_w) -
                            static_cast<std::ptrdiff_t>(g.pad_left);
            if (ix >= 0 && ix < static_cast<std::ptrdiff_t>(g.in_w))
              grad_input(c0 + c, iy, ix) += src[y * ow + x];
          }
        }
      }
}

}  // namespace kernels

namespace detail {

/// A per-thread scratch buffer of at least `floats` floats (the im2col matrix), reused.
inline float* conv_scratch(std::size_t floats) {
  thread_local Tensor<float, 1> buffer;
  if (buffer.size() < floats) buffer = Tensor<float, 1>({floats});
  return buffer.data();
}

/// The [rows, h·w] matrix view of channels [c0, c0 + rows) of a [C, h, w] tensor, when each
/// channel's plane is contiguous; otherwise an empty view.
template <class T>
TensorView<T, 2> planes_as_matrix(TensorView<T, 3> t, std::size_t c0, std::size_t rows) noexcept {
  const std::size_t h = t.extent(1), w = t.extent(2);
  const bool plane_contiguous =
      (t.stride(2) == 1 || w <= 1) && (t.stride(1) == static_cast<std::ptrdiff_t>(w) || h <= 1);
  if (!plane_contiguous) return {};
  return TensorView<T, 2>(t.data() + static_cast<std::ptrdiff_t>(c0) * t.stride(0), {rows, h * w},
                          {t.stride(0), 1});
}

inline bool is_pointwise(const Conv2dGeometry& g) noexcept {
  return g.kernel_h == 1 && g.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 &&
         g.pad_top == 0 && g.pad_left == 0 && g.pad_bottom == 0 && g.pad_right == 0;
}

inline void check_conv_input(const Conv2dGeometry& g, const Shape<3>& input, const char* what) {
  PARE_CHECK((input == Shape<3>{g.in_channels, g.in_h, g.in_w}), ShapeError, what, ": input ",
             to_string(input), " does not match the geometry ", g.describe());
}
inline void check_conv_weight(const Conv2dGeometry& g, const Shape<4>& weight, const char* what) {
  PARE_CHECK((weight == Shape<4>{g.out_channels, g.group_in_channels(), g.kernel_h, g.kernel_w}),
             ShapeError, what, ": weight ", to_string(weight), " is not [", g.out_channels, ", ",
             g.group_in_channels(), ", ", g.kernel_h, ", ", g.kernel_w, "] for geometry ",
             g.describe());
}
inline void check_conv_output(const Conv2dGeometry& g, const Shape<3>& output, const char* what) {
  PARE_CHECK((output == Shape<3>{g.out_channels, g.out_h(), g.out_w()}), ShapeError, what,
             ": output ", to_string(output), " is not [", g.out_channels, ", ", g.out_h(), ", ",
             g.out_w(), "] for geometry ", g.describe());
}

/// The weights of group `grp` as a [O/groups, (C/groups)·kh·kw] matrix.
/// @pre the weight's last three dimensions are contiguous.
inline TensorView<const float, 2> group_weight(const Conv2dGeometry& g,
                                               TensorView<const float, 4> w, std::size_t grp) {
  const std::size_t og = g.group_out_channels();
  return {w.data() + static_cast<std::ptrdiff_t>(grp * og) * w.stride(0),
          {og, g.patch_size()},
          {w.stride(0), 1}};
}

inline bool weight_rows_contiguous(TensorView<const float, 4> w) noexcept {
  const auto kw = static_cast<std::ptrdiff_t>(w.extent(3));
  const auto kh = static_cast<std::ptrdiff_t>(w.extent(2));
  return w.stride(3) == 1 && w.stride(2) == kw && w.stride(1) == kh * kw;
}

/// The column matrix of group `grp`: the input itself for a pointwise convolution with
/// contiguous planes, else im2col into the thread's scratch buffer.
inline TensorView<const float, 2> columns(const Conv2dGeometry& g, TensorView<const float, 3> input,
                                          std::size_t grp) {
  const std::size_t cg = g.group_in_channels();
  if (is_pointwise(g)) {
    auto m = planes_as_matrix(input, grp * cg, cg);
    if (m.data() != nullptr) return m;
  }
  const std::size_t cols = g.out_h() * g.out_w();
  TensorView<float, 2> col(conv_scratch(g.patch_size() * cols), {g.patch_size(), cols});
  kernels::im2col(g, input, grp * cg, col);
  return col;
}

/// A contiguous copy of `t` unless its planes already are contiguous.
inline Tensor<float, 3> contiguous_planes(TensorView<const float, 3> t) {
  return Tensor<float, 3>(t);
}

}  // namespace detail

PARE_INLINE void conv2d(const Conv2dGeometry& g, TensorView<const float, 3> input,
                        TensorView<const float, 4> weight, const float* bias,
                        TensorView<float, 3> output) {
  g.validate();
  detail::check_conv_input(g, input.extents(), "conv2d");
  detail::check_conv_weight(g, weight.extents(), "conv2d");
  detail::check_conv_output(g, output.extents(), "conv2d");
  PARE_CHECK(detail::weight_rows_contiguous(weight), ShapeError,
             "conv2d: the weight's [C/groups, kh, kw] block must be contiguous");
  const std::size_t og = g.group_out_channels(), plane = g.out_h() * g.out_w();
  Tensor<float, 2> staging;  // only when the output planes are strided
  TensorView<float, 2> out = detail::planes_as_matrix(output, 0, g.out_channels);
  if (out.data() == nullptr) {
    staging = Tensor<float, 2>({g.out_channels, plane});
    out = staging.view();
  }
  for (std::size_t grp = 0; grp < g.groups; ++grp) {
    const auto col = detail::columns(g, input, grp);
    gemm(detail::group_weight(g, weight, grp), col, out.slice(0, grp * og, (grp + 1) * og));
  }
  if (bias != nullptr)
    for (std::size_t o = 0; o < g.out_channels; ++o)
      for (std::size_t k = 0; k < plane; ++k) out(o, k) += bias[o];
  if (staging.size() != 0)
    for (std::size_t o = 0; o < g.out_channels; ++o)
      for (std::size_t y = 0; y < g.out_h(); ++y)
        for (std::size_t x = 0; x < g.out_w(); ++x) output(o, y, x) = staging(o, y * g.out_w() + x);
}

PARE_INLINE void conv2d_backward_weight(const Conv2dGeometry& g, TensorView<const float, 3> input,
                                        TensorView<const float, 3> grad_output,
                                        TensorView<float, 4> grad_weight, float* grad_bias) {
  g.validate();
  detail::check_conv_input(g, input.extents(), "conv2d_backward_weight");
  detail::check_conv_output(g, grad_output.extents(), "conv2d_backward_weight");
  detail::check_conv_weight(g, grad_weight.extents(), "conv2d_backward_weight");
  PARE_CHECK(detail::weight_rows_contiguous(grad_weight), ShapeError,
             "conv2d_backward_weight: the gradient's [C/groups, kh, kw] block must be contiguous");
  Tensor<float, 3> dy_copy;
  auto dy = detail::planes_as_matrix(grad_output, 0, g.out_channels);
  if (dy.data() == nullptr) {
    dy_copy = detail::contiguous_planes(grad_output);
    dy = detail::planes_as_matrix(TensorView<const float, 3>(dy_copy), 0, g.out_channels);
  }
  const std::size_t og = g.group_out_channels();
  for (std::size_t grp = 0; grp < g.groups; ++grp) {
    const auto col = detail::columns(g, input, grp);
    TensorView<float, 2> dw(
        grad_weight.data() + static_cast<std::ptrdiff_t>(grp * og) * grad_weight.stride(0),
        {og, g.patch_size()}, {grad_weight.stride(0), 1});
    gemm_nt(dy.slice(0, grp * og, (grp + 1) * og), col, dw, 1.0f, 1.0f);
  }
  if (grad_bias != nullptr)
    for (std::size_t o = 0; o < g.out_channels; ++o) {
      double s = 0;
      for (std::size_t k = 0; k < dy.extent(1); ++k) s += static_cast<double>(dy(o, k));
      grad_bias[o] += static_cast<float>(s);
    }
}

PARE_INLINE void conv2d_backward_input(const Conv2dGeometry& g, TensorView<const float, 4> weight,
                                       TensorView<const float, 3> grad_output,
                                       TensorView<float, 3> grad_input) {
  g.validate();
  detail::check_conv_input(g, grad_input.extents(), "conv2d_backward_input");
  detail::check_conv_weight(g, weight.extents(), "conv2d_backward_input");
  detail::check_conv_output(g, grad_output.extents(), "conv2d_backward_input");
  PARE_CHECK(detail::weight_rows_contiguous(weight), ShapeError,
             "conv2d_backward_input: the weight's [C/groups, kh, kw] block must be contiguous");
  Tensor<float, 3> dy_copy;
  auto dy = detail::planes_as_matrix(grad_output, 0, g.out_channels);
  if (dy.data() == nullptr) {
    dy_copy = detail::contiguous_planes(grad_output);
    dy = detail::planes_as_matrix(TensorView<const float, 3>(dy_copy), 0, g.out_channels);
  }
  for (std::size_t c = 0; c < g.in_channels; ++c)
    for (std::size_t y = 0; y < g.in_h; ++y)
      for (std::size_t x = 0; x < g.in_w; ++x) grad_input(c, y, x) = 0.0f;
  const std::size_t og = g.group_out_channels(), cg = g.group_in_channels();
  const std::size_t cols = g.out_h() * g.out_w();
  for (std::size_t grp = 0; grp < g.groups; ++grp) {
    const auto w = detail::group_weight(g, weight, grp);
    const auto dy_g = dy.slice(0, grp * og, (grp + 1) * og);
    if (detail::is_pointwise(g)) {
      auto dx = detail::planes_as_matrix(grad_input, grp * cg, cg);
      if (dx.data() != nullptr) {
        gemm_tn(w, dy_g, dx);
        continue;
      }
    }
    TensorView<float, 2> col(detail::conv_scratch(g.patch_size() * cols), {g.patch_size(), cols});
    gemm_tn(w, dy_g, col);
    kernels::col2im(g, col, grp * cg, grad_input);
  }
}

}  // namespace pare
