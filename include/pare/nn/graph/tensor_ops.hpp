// SPDX-License-Identifier: Apache-2.0
// pare — the tensor family of graph ops: slicing and data movement (Slice, Split, Pad,
// DepthToSpace, SpaceToDepth, GatherElements, GatherND, ScatterElements (and its old name
// Scatter), ScatterND, NonZero, Size), reductions (Reduce*, ArgMax/ArgMin, TopK), normalizations
// (LayerNormalization, InstanceNormalization, GroupNormalization) and Einsum (two-operand
// equations without diagonals run as batched GEMM).
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
[[nodiscard]] OpFn make_tensor_op(const GraphNode& node, std::int64_t opset);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/tensor_ops-inl.hpp"
#endif
