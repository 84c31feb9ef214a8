// SPDX-License-Identifier: Apache-2.0
// pare — what a runtime graph op is: a function from input values to output values.
//
// An op is built once, when the model loads, from its attributes (so attribute parsing and
// checks happen once), and then called on every run. It receives its inputs as pointers —
// nullptr for an omitted optional input — and overwrites its outputs. Ops check the shapes and
// types they get and throw ShapeError / ArgumentError naming the node.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "pare/core/config.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

using Inputs = std::span<const Value* const>;
using Outputs = std::span<Value* const>;
using OpFn = std::function<void(Inputs, Outputs)>;

/// Input `k`, or ArgumentError naming the op when it is missing.
[[nodiscard]] const Value& input(Inputs in, std::size_t k, std::string_view op);
/// Input `k` when present, else nullptr.
[[nodiscard]] inline const Value* optional_input(Inputs in, std::size_t k) noexcept {
  return k < in.size() ? in[k] : nullptr;
}
/// Input `k`, which must hold float32 data.
[[nodiscard]] const Value& float_input(Inputs in, std::size_t k, std::string_view op);

/// Normalizes an axis in [-rank, rank) to [0, rank).
[[nodiscard]] std::size_t normalize_axis(std::int64_t axis, std::size_t rank, std::string_view op);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/op-inl.hpp"
#endif
