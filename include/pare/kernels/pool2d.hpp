// SPDX-License-Identifier: Apache-2.0
// pare — 2-D max and average pooling of one sample [C, H, W], with torch's (and ONNX's) rules for
// padding, ceil_mode and count_include_pad, plus their backward passes.
//
//   pare::Pool2dGeometry g{.channels = 8, .in_h = 8, .in_w = 8, .kernel_h = 2, .kernel_w = 2,
//                          .stride_h = 2, .stride_w = 2};
//   pare::max_pool2d(g, input /*[8,8,8]*/, output /*[8,4,4]*/);
#pragma once

#include <cstddef>
#include <string>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"

namespace pare {

/// Sizes of one 2-D pooling. out = ⌊(in + pads − kernel) / stride⌋ + 1, or ⌈…⌉ + 1 with
/// ceil_mode, where (as in torch) a last window that would start inside the bottom/right padding
/// is dropped. Padding never enters a max; for averages it counts in the divisor only with
/// count_include_pad (and then only the part inside the padded input, as torch does).
struct Pool2dGeometry {
  std::size_t channels = 0;
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
  bool ceil_mode = false;
  bool count_include_pad = false;

  [[nodiscard]] constexpr std::size_t out_h() const noexcept {
    return out_extent(in_h, pad_top, pad_bottom, kernel_h, stride_h);
  }
  [[nodiscard]] constexpr std::size_t out_w() const noexcept {
    return out_extent(in_w, pad_left, pad_right, kernel_w, stride_w);
  }

  /// Throws ArgumentError for zero sizes, a kernel larger than the padded input, or a pad of at
  /// least the kernel size (a window entirely in the padding, which torch rejects too).
  void validate() const;

  /// "{8x8x8, kernel 2x2, stride 2x2, ...}": the geometry in error messages.
  [[nodiscard]] std::string describe() const;

 private:
  constexpr std::size_t out_extent(std::size_t in, std::size_t before, std::size_t after,
                                   std::size_t k, std::size_t s) const noexcept {
    if (k == 0 || s == 0 || in + before + after < k) return 0;
    const std::size_t span = in + before + after - k;
    std::size_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (out - 1) * s >= in + before) --out;
    return out;
  }
};

/// out(c, y, x) = max of input channel c over the window of (y, x); padding never wins.
/// @param in [C, H, W]; @param out [C, oh, ow]. Throws ArgumentError / ShapeError.
void max_pool2d(const Pool2dGeometry& g, TensorView<const float, 3> in, TensorView<float, 3> out);

/// dL/din (overwritten) of max_pool2d: each output's gradient goes to its window's maximum
/// (the first one on ties, as torch).
void max_pool2d_backward(const Pool2dGeometry& g, TensorView<const float, 3> in,
                         TensorView<const float, 3> grad_out, TensorView<float, 3> grad_in);

/// out(c, y, x) = mean of input channel c over the window of (y, x), the divisor following
/// count_include_pad as torch.nn.functional.avg_pool2d does (ONNX AveragePool agrees).
void avg_pool2d(const Pool2dGeometry& g, TensorView<const float, 3> in, TensorView<float, 3> out);

/// dL/din (overwritten) of avg_pool2d: each output's gradient, divided by its divisor, spread
/// over its window.
void avg_pool2d_backward(const Pool2dGeometry& g, TensorView<const float, 3> grad_out,
                         TensorView<float, 3> grad_in);

/// out(c) = mean of input channel c over all H·W positions (ONNX GlobalAveragePool,
/// torch adaptive_avg_pool2d to 1×1). @param in [C, H, W] with H·W > 0; @param out [C].
void global_avg_pool(TensorView<const float, 3> in, TensorView<float, 1> out);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/kernels/pool2d-inl.hpp"
#endif
