// SPDX-License-Identifier: Apache-2.0
// pare — Softmax graph op on pare::softmax (kernels/softmax.hpp).
#pragma once

#include <cstdint>

#include "pare/core/config.hpp"
#include "pare/nn/graph/attributes.hpp"
#include "pare/nn/graph/op.hpp"

namespace pare::graph {

/// Softmax along `axis` (opset >= 13, default -1). Before opset 13 the input is coerced to a
/// matrix [d0..d(axis-1), d(axis)..] and each row normalized (default axis 1).
[[nodiscard]] OpFn make_softmax(const Attributes& attrs, std::int64_t opset);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/softmax-inl.hpp"
#endif
