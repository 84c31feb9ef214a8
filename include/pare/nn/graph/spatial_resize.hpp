// SPDX-License-Identifier: Apache-2.0
// pare — resampling graph ops: Resize (opsets 10 to 18) and Upsample (opset 9), any rank.
//
// Resize is separable: each resized axis is one pass over the data, every output index a few
// (input index, weight) taps computed once per pass (one for nearest, two for linear, four for
// cubic), so a 4-D NCHW resize is two passes of plain loops over contiguous rows.
#pragma once

#include <cstdint>

#include "pare/core/config.hpp"
#include "pare/nn/graph/attributes.hpp"
#include "pare/nn/graph/op.hpp"

namespace pare::graph {

/// Resize with ONNX's modes (nearest, linear, cubic), every coordinate_transformation_mode,
/// nearest_mode, cubic_coeff_a, exclude_outside and extrapolation_value, scales or sizes, and at
/// opset 18 axes and keep_aspect_ratio_policy; float32 input, or integers in nearest mode. At
/// opset 10 the coordinates are asymmetric and nearest takes the floor (the ceiling when
/// shrinking), as Upsample. Throws UnsupportedError for antialias, and for integer inputs in the
/// interpolating modes or with tf_crop_and_resize.
[[nodiscard]] OpFn make_resize(const Attributes& attrs, std::int64_t opset);

/// Upsample (scales as input 1, or as the attribute of opset 7), mode nearest or linear.
[[nodiscard]] OpFn make_upsample(const Attributes& attrs);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/spatial_resize-inl.hpp"
#endif
