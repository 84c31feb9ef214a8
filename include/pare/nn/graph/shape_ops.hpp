// SPDX-License-Identifier: Apache-2.0
// pare — graph ops that move data without arithmetic: Flatten, Reshape, Transpose, Concat,
// Squeeze, Unsqueeze, Shape, Gather, Constant. They work on every value type.
#pragma once

#include "pare/core/config.hpp"
#include "pare/nn/graph/attributes.hpp"
#include "pare/nn/graph/op.hpp"

namespace pare::graph {

/// Flatten: [d0 .. d(axis-1)] x [d(axis) ..] as a matrix.
[[nodiscard]] OpFn make_flatten(const Attributes& attrs);

/// Reshape: 0 copies the input's dimension (unless allowzero), -1 is inferred.
[[nodiscard]] OpFn make_reshape(const Attributes& attrs);

/// Transpose by `perm` (default: reverse the dimensions).
[[nodiscard]] OpFn make_transpose(const Attributes& attrs);

/// Concat along `axis`; all inputs share type and every other dimension.
[[nodiscard]] OpFn make_concat(const Attributes& attrs);

/// Unsqueeze (axes from the attribute before opset 13, from input 1 since).
[[nodiscard]] OpFn make_unsqueeze(const Attributes& attrs);

/// Squeeze (axes from the attribute before opset 13, from input 1 since; none: all 1s).
[[nodiscard]] OpFn make_squeeze(const Attributes& attrs);

/// Shape: the input's shape as int64 (start/end attributes of opset 15 honoured).
[[nodiscard]] OpFn make_shape(const Attributes& attrs);

/// Gather along `axis` with int64/int32 indices (negative indices count from the end).
[[nodiscard]] OpFn make_gather(const Attributes& attrs);

/// Constant: the `value` tensor attribute (value_float/value_int/value_ints/value_floats too).
[[nodiscard]] OpFn make_constant(const Attributes& attrs);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/shape_ops-inl.hpp"
#endif
