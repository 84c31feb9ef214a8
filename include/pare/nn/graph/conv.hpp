// SPDX-License-Identifier: Apache-2.0
// pare — Conv and BatchNormalization graph ops. Conv runs pare::conv2d (kernels/conv2d.hpp)
// one sample at a time; BatchNormalization is usually folded away at load (nn/graph/fold.hpp)
// and evaluated here only when it cannot be.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/kernels/conv2d.hpp"
#include "pare/kernels/conv2d_packed.hpp"
#include "pare/nn/graph/attributes.hpp"
#include "pare/nn/graph/graph.hpp"
#include "pare/nn/graph/op.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

/// Padding of one spatial axis: [begin, end).
struct AxisPads {
  std::size_t begin = 0, end = 0;
};

/// The pads of a 2-D window op from ONNX's auto_pad / pads attributes, for input extent `in`,
/// effective window `window` ((k - 1)·dilation + 1) and `stride`, along spatial axis `axis`.
[[nodiscard]] AxisPads window_pads(const std::string& auto_pad,
                                   const std::vector<std::int64_t>& pads, std::size_t axis,
                                   std::size_t in, std::size_t window, std::size_t stride,
                                   const std::string& op);

/// A positive int attribute value that fits the kernels' geometry.
[[nodiscard]] std::size_t positive(std::int64_t v, const char* what, const std::string& op);

/// Conv's attributes, read once when the op is built; `geometry` checks them against the shapes
/// of one call. Shared by Conv and the compressed convolutions of nn/graph/packed.hpp.
struct ConvAttrs {
  std::string op;  ///< "Conv 'name'", for errors
  std::string auto_pad;
  std::vector<std::int64_t> pads, strides, dilations, kernel_shape;
  std::int64_t group = 1;

  /// UnsupportedError for anything but a 2-D convolution.
  [[nodiscard]] static ConvAttrs parse(const Attributes& attrs, std::string op);
  /// The geometry of input `x` [N, C, H, W] and weight `w` [O, C/group, kh, kw]; ShapeError or
  /// UnsupportedError naming the op when they disagree with each other or the attributes.
  [[nodiscard]] Conv2dGeometry geometry(const std::vector<std::size_t>& x,
                                        const std::vector<std::size_t>& w) const;
};

/// Conv on [N, C, H, W] inputs (2-D only) with ONNX's auto_pad / pads, strides, dilations and
/// group; the optional bias is input 2. A weight and bias found in `constants` are packed for the
/// kernel once, here (kernels/conv2d_packed.hpp). `epilogue` is an activation fused into the
/// convolution; with `residual`, input 3 is added before it (Conv → Add → activation in one
/// pass; nn/graph/conv_fusion.hpp finds those chains).
[[nodiscard]] OpFn make_conv(const GraphNode& node, const std::map<std::string, Value>* constants,
                             Epilogue epilogue = {}, bool residual = false);

/// BatchNormalization in inference mode: y = (x - mean) / sqrt(var + eps) · scale + bias over
/// axis 1.
[[nodiscard]] OpFn make_batch_norm(const Attributes& attrs);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/conv-inl.hpp"
#endif
