// SPDX-License-Identifier: Apache-2.0
// pare — the op registry: builds the runtime function of a graph node from its op type and
// attributes. The core ops are listed in make_op (ops-inl.hpp); the larger families answer for
// their own op types (math_ops.hpp, tensor_ops.hpp, spatial_ops.hpp), so adding an op there
// touches only its family's files.
//
// Supported: the core ops listed in make_op (arithmetic and activations, Gemm/MatMul/
// MatMulInteger, Conv/BatchNormalization, pooling, the shape ops, Softmax/LogSoftmax/Hardmax,
// Quantize/DequantizeLinear, Dropout), the three families' ops, Gelu in the com.microsoft
// domain and pare's compressed nodes (domain "pare", nn/graph/packed.hpp). docs/format-onnx.md
// has the table.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "pare/core/config.hpp"
#include "pare/nn/graph/conv.hpp"
#include "pare/nn/graph/elementwise.hpp"
#include "pare/nn/graph/graph.hpp"
#include "pare/nn/graph/linear.hpp"
#include "pare/nn/graph/math_ops.hpp"
#include "pare/nn/graph/op.hpp"
#include "pare/nn/graph/packed.hpp"
#include "pare/nn/graph/pool.hpp"
#include "pare/nn/graph/quantize.hpp"
#include "pare/nn/graph/shape_ops.hpp"
#include "pare/nn/graph/softmax.hpp"
#include "pare/nn/graph/spatial_ops.hpp"
#include "pare/nn/graph/tensor_ops.hpp"

namespace pare::graph {

/// The function that runs `node`; UnsupportedError naming the op type and the node when pare
/// has no such op. `constants` (the graph's initializers) is needed by the compressed nodes,
/// which build their kernel-ready weights once, here.
[[nodiscard]] OpFn make_op(const GraphNode& node, std::int64_t opset,
                           const std::map<std::string, Value>* constants = nullptr);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/ops-inl.hpp"
#endif
