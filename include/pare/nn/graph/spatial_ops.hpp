// SPDX-License-Identifier: Apache-2.0
// pare — the spatial family of graph ops: resampling (Resize, Upsample), ConvTranspose, N-D
// convolution (spatial_conv.hpp), LpPool and the global max / Lp poolings (pool.hpp), and the
// recurrent layers (LSTM, GRU, RNN).
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
[[nodiscard]] OpFn make_spatial_op(const GraphNode& node, std::int64_t opset);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/spatial_ops-inl.hpp"
#endif
