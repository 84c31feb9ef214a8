// SPDX-License-Identifier: Apache-2.0
// pare — Softmax graph op on pare::softmax (kernels/softmax.hpp).
#pragma once

#include <cstdint>

#include "pare/core/config.hpp"
#include "pare/nn/graph/attributes.hpp"
#include "pare/nn/graph/op.hpp"

namespace pare::graph {

enum class SoftmaxKind { softmax, log_softmax, hardmax };

/// Softmax, LogSoftmax or Hardmax along `axis` (opset >= 13, default -1). Before opset 13 the
/// input is coerced to a matrix [d0..d(axis-1), d(axis)..] and each row normalized (default
/// axis 1). Hardmax marks the first maximum of each row with 1.
[[nodiscard]] OpFn make_softmax(const Attributes& attrs, std::int64_t opset,
                                SoftmaxKind kind = SoftmaxKind::softmax);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/softmax-inl.hpp"
#endif
