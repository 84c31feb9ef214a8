// SPDX-License-Identifier: Apache-2.0
// pare — the math family of graph ops: element-wise math beyond the basic arithmetic (Clip, the
// ReLU family, Min/Max/Mean/Sum, Mod, BitShift, the trigonometric, rounding and logarithm ops,
// IsNaN/IsInf), comparisons and logic (Equal, Less, Greater, Not, And, Or, Xor, Where), casts
// (Cast, CastLike) and value generators (ConstantOfShape, Range, Trilu, CumSum, Expand, Tile).
//
// make_op (ops.hpp) asks each family in turn; a family answers with the op's function, or with
// an empty OpFn when the op type is not one of its own.
#pragma once

#include <cstdint>

#include "pare/core/config.hpp"
#include "pare/nn/graph/graph.hpp"
#include "pare/nn/graph/op.hpp"

namespace pare::graph {

/// The function that runs `node` when its op type belongs to this family, else an empty OpFn.
/// Throws UnsupportedError (naming the node) for an attribute or mode pare does not run.
[[nodiscard]] OpFn make_math_op(const GraphNode& node, std::int64_t opset);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/math_ops-inl.hpp"
#endif
