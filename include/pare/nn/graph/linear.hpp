// SPDX-License-Identifier: Apache-2.0
// pare — matrix-product graph ops: Gemm, MatMul (numpy matmul semantics) and MatMulInteger.
// The float products run on pare::gemm (kernels/gemm.hpp).
#pragma once

#include <map>
#include <string>

#include "pare/core/config.hpp"
#include "pare/kernels/conv2d_packed.hpp"
#include "pare/nn/graph/attributes.hpp"
#include "pare/nn/graph/graph.hpp"
#include "pare/nn/graph/op.hpp"

namespace pare::graph {

/// Gemm: Y = alpha·A'·B' + beta·C, A' = transA ? Aᵀ : A, B' likewise; C broadcasts to [M, N].
/// A B (and C) stored in `constants` is packed once, here (kernels/gemm_packed.hpp).
[[nodiscard]] OpFn make_gemm(const GraphNode& node,
                             const std::map<std::string, Value>* constants = nullptr);

/// MatMul with numpy semantics: 1-D operands are promoted (and the added axis removed), batch
/// dimensions broadcast. A batched A times a 2-D B is one product with the batches stacked as
/// rows. A 2-D B stored in `constants` is packed once, here.
[[nodiscard]] OpFn make_matmul(const GraphNode& node,
                               const std::map<std::string, Value>* constants = nullptr);

/// MatMul with a stored 2-D B followed, in one op, by adding the stored vector `bias` (N
/// values; nullptr for none) and `epilogue` (nn/graph/conv_fusion.hpp finds such chains).
[[nodiscard]] OpFn make_matmul(const GraphNode& node, const std::map<std::string, Value>& constants,
                               const Value* bias, Epilogue epilogue);

/// MatMulInteger: int32 Y = (A - a_zero_point)·(B - b_zero_point) for 2-D uint8/int8 operands
/// (A's zero point per tensor or per row, B's per tensor or per column).
[[nodiscard]] OpFn make_matmul_integer(const Attributes& attrs);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/linear-inl.hpp"
#endif
