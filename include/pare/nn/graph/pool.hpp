// SPDX-License-Identifier: Apache-2.0
// pare — pooling graph ops: MaxPool, AveragePool, GlobalAveragePool on pare's 2-D pooling
// kernels (kernels/pool2d.hpp), one sample at a time.
#pragma once

#include "pare/core/config.hpp"
#include "pare/nn/graph/attributes.hpp"
#include "pare/nn/graph/op.hpp"

namespace pare::graph {

enum class PoolKind { max, average };

/// MaxPool or AveragePool on [N, C, H, W] inputs (2-D windows, no dilation, no Indices output).
[[nodiscard]] OpFn make_pool(PoolKind kind, const Attributes& attrs);

/// GlobalAveragePool: [N, C, spatial...] -> [N, C, 1, ...]
[[nodiscard]] OpFn make_global_average_pool(const Attributes& attrs);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/pool-inl.hpp"
#endif
