// SPDX-License-Identifier: Apache-2.0
// pare — convolutions of any spatial rank on the f32 GEMM: Conv for inputs that are not
// [N, C, H, W] (im2col + GEMM) and ConvTranspose (GEMM + col2im) for 1-D, 2-D and 3-D inputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/nn/graph/attributes.hpp"
#include "pare/nn/graph/conv.hpp"
#include "pare/nn/graph/op.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

/// The begin and end padding of every spatial axis of a window op from ONNX's auto_pad / pads,
/// for input extents `in`, effective windows `window` ((k - 1)·dilation + 1) and `strides`.
/// ArgumentError naming `op` for a pads list of the wrong length, negative or out-of-range pads,
/// or an unknown auto_pad.
[[nodiscard]] std::vector<AxisPads> nd_window_pads(const std::string& auto_pad,
                                                   const std::vector<std::int64_t>& pads,
                                                   const std::vector<std::size_t>& in,
                                                   const std::vector<std::size_t>& window,
                                                   const std::vector<std::size_t>& strides,
                                                   const std::string& op);

/// The per-axis values of an ints attribute for `rank` spatial axes: `fallback` on each axis
/// when `v` is empty, else `v`, which must have `rank` values in 1..2^24 (ArgumentError).
[[nodiscard]] std::vector<std::size_t> spatial_ints(const std::vector<std::int64_t>& v,
                                                    std::size_t rank, std::size_t fallback,
                                                    const char* what, const std::string& op);

/// Conv of `x` [N, C, D1, ...] (any spatial rank) with `w` [M, C/group, k1, ...] and optional
/// bias `b` [M] under the attributes `c`, into `y` [N, M, o1, ...]: im2col per sample and group,
/// then one GEMM. ShapeError / ArgumentError naming the op when shapes and attributes disagree.
void conv_nd(const ConvAttrs& c, const Value& x, const Value& w, const Value* b, Value& y);

/// ConvTranspose on [N, C, D1, ...] inputs of any spatial rank with weight [C, M/group, k...],
/// optional bias [M], and ONNX's auto_pad / pads, strides, dilations, group, output_padding and
/// output_shape: one GEMM per sample and group, then col2im.
[[nodiscard]] OpFn make_conv_transpose(const Attributes& attrs);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/spatial_conv-inl.hpp"
#endif
