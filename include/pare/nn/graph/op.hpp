// SPDX-License-Identifier: Apache-2.0
// pare — what a runtime graph op is: a function from input values to output values.
//
// An op is built once, when the model loads, from its attributes (so attribute parsing and
// checks happen once), and then called on every run. It receives its inputs as pointers —
// nullptr for an omitted optional input — and overwrites its outputs. Ops check the shapes and
// types they get and throw ShapeError / ArgumentError naming the node.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "pare/core/error.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

using Inputs = std::span<const Value* const>;
using Outputs = std::span<Value* const>;
using OpFn = std::function<void(Inputs, Outputs)>;

/// Input `k`, or ArgumentError naming the op when it is missing.
[[nodiscard]] inline const Value& input(Inputs in, std::size_t k, std::string_view op) {
  PARE_CHECK(k < in.size() && in[k] != nullptr, ArgumentError, op, ": input ", k, " is missing");
  return *in[k];
}
/// Input `k` when present, else nullptr.
[[nodiscard]] inline const Value* optional_input(Inputs in, std::size_t k) noexcept {
  return k < in.size() ? in[k] : nullptr;
}
/// Input `k`, which must hold float32 data.
[[nodiscard]] inline const Value& float_input(Inputs in, std::size_t k, std::string_view op) {
  const Value& v = input(in, k, op);
  PARE_CHECK(v.is_float(), ArgumentError, op, ": input ", k, " holds ", name(v.type),
             ", expected float32");
  return v;
}

/// Normalizes an axis in [-rank, rank) to [0, rank).
[[nodiscard]] inline std::size_t normalize_axis(std::int64_t axis, std::size_t rank,
                                                std::string_view op) {
  const auto r = static_cast<std::int64_t>(rank);
  PARE_CHECK(axis >= -r && axis < r, ArgumentError, op, ": axis ", axis, " is outside a rank-",
             rank, " value");
  return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

}  // namespace pare::graph
