// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/op.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pare/core/error.hpp"
#include "pare/nn/graph/op.hpp"

namespace pare::graph {

PARE_INLINE const Value& input(Inputs in, std::size_t k, std::string_view op) {
  PARE_CHECK(k < in.size() && in[k] != nullptr, ArgumentError, op, ": input ", k, " is missing");
  return *in[k];
}

PARE_INLINE const Value& float_input(Inputs in, std::size_t k, std::string_view op) {
  const Value& v = input(in, k, op);
  PARE_CHECK(v.is_float(), ArgumentError, op, ": input ", k, " holds ", name(v.type),
             ", expected float32");
  return v;
}

PARE_INLINE std::size_t normalize_axis(std::int64_t axis, std::size_t rank, std::string_view op) {
  const auto r = static_cast<std::int64_t>(rank);
  PARE_CHECK(axis >= -r && axis < r, ArgumentError, op, ": axis ", axis, " is outside a rank-",
             rank, " value");
  return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

}  // namespace pare::graph
