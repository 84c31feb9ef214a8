// SPDX-License-Identifier: Apache-2.0
// pare — QuantizeLinear / DequantizeLinear graph ops, per tensor or per axis.
//
//   QuantizeLinear:   y = saturate(round_half_even(x / scale) + zero_point)   (uint8 or int8)
//   DequantizeLinear: y = (x - zero_point) * scale                            (float32)
//
// A scale with one element is per tensor; a 1-D scale of length shape[axis] is per axis
// (`axis`, default 1). The zero point, when given, has the scale's shape and decides the
// quantized type (uint8 when omitted).
#pragma once

#include "pare/core/config.hpp"
#include "pare/nn/graph/attributes.hpp"
#include "pare/nn/graph/op.hpp"

namespace pare::graph {

/// QuantizeLinear (see the file comment): float32 in, uint8 or int8 out.
[[nodiscard]] OpFn make_quantize_linear(const Attributes& attrs);

/// DequantizeLinear: uint8, int8 or int32 in, float32 out.
[[nodiscard]] OpFn make_dequantize_linear(const Attributes& attrs);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/quantize-inl.hpp"
#endif
