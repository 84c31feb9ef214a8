// SPDX-License-Identifier: Apache-2.0
// pare — pooling graph ops: MaxPool, AveragePool and LpPool over 1-D, 2-D and 3-D windows (with
// dilations, ceil_mode, count_include_pad and MaxPool's Indices output), and the global poolings
// GlobalAveragePool, GlobalMaxPool and GlobalLpPool. 2-D float pooling without dilation runs on
// pare's 2-D pooling kernels (kernels/pool2d.hpp), one sample at a time.
#pragma once

#include "pare/core/config.hpp"
#include "pare/nn/graph/attributes.hpp"
#include "pare/nn/graph/op.hpp"

namespace pare::graph {

enum class PoolKind { max, average, lp };

/// MaxPool, AveragePool or LpPool on [N, C, D1, ...] inputs with as many spatial axes as
/// kernel_shape has values. MaxPool takes float32, int8 and uint8 and may have the Indices output
/// (int64 flat indices into the input, row-major or, with storage_order = 1, column-major over
/// the spatial axes); the others take float32.
[[nodiscard]] OpFn make_pool(PoolKind kind, const Attributes& attrs);

/// GlobalAveragePool: [N, C, spatial...] -> [N, C, 1, ...]
[[nodiscard]] OpFn make_global_average_pool(const Attributes& attrs);

/// GlobalMaxPool (kind max) or GlobalLpPool (kind lp, attribute p): [N, C, spatial...] ->
/// [N, C, 1, ...] over float32 inputs.
[[nodiscard]] OpFn make_global_pool(PoolKind kind, const Attributes& attrs);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/pool-inl.hpp"
#endif
