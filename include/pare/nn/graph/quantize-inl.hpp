// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/quantize.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/nn/graph/quantize.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

namespace detail {

/// For element i of a value of `shape`: index into a per-axis parameter (0 when per tensor).
struct AxisIndexer {
  std::size_t inner = 1, extent = 1;
  bool per_axis = false;
  [[nodiscard]] std::size_t operator()(std::size_t i) const noexcept {
    return per_axis ? (i / inner) % extent : 0;
  }
};

[[nodiscard]] inline AxisIndexer axis_indexer(const Value& x, const Value& scale,
                                              const Value* zero_point, std::int64_t axis,
                                              const std::string& op) {
  AxisIndexer ix;
  PARE_CHECK(scale.is_float(), ArgumentError, op, ": scale must be float32");
  PARE_CHECK(!zero_point || zero_point->size() == scale.size(), ShapeError, op, ": zero point has ",
             zero_point ? zero_point->size() : 0, " elements, scale ", scale.size());
  PARE_CHECK(!zero_point || !zero_point->is_float(), ArgumentError, op,
             ": zero point must be an integer type");
  if (scale.size() == 1 && scale.rank() <= 1) return ix;
  PARE_CHECK(scale.rank() == 1 && x.rank() > 0, ShapeError, op, ": scale ", to_string(scale.shape),
             " is neither a scalar nor 1-D");
  const std::size_t a = normalize_axis(axis, x.rank(), op);
  PARE_CHECK(scale.size() == x.shape[a], ShapeError, op, ": scale has ", scale.size(),
             " elements, axis ", a, " of ", to_string(x.shape), " has ", x.shape[a]);
  ix.per_axis = true;
  ix.extent = x.shape[a];
  for (std::size_t d = a + 1; d < x.rank(); ++d) ix.inner *= x.shape[d];
  return ix;
}

}  // namespace detail

PARE_INLINE OpFn make_quantize_linear(const Attributes& attrs) {
  const std::int64_t axis = attrs.get_int("axis", 1);
  const std::string op = "QuantizeLinear '" + attrs.node() + "'";
  return [=](Inputs in, Outputs out) {
    const Value& x = float_input(in, 0, op);
    const Value& scale = input(in, 1, op);
    const Value* zp = optional_input(in, 2);
    const auto ix = detail::axis_indexer(x, scale, zp, axis, op);
    const ValueType t = zp ? zp->type : ValueType::u8;
    PARE_CHECK(t == ValueType::u8 || t == ValueType::i8, ArgumentError, op,
               ": the zero point must be uint8 or int8, got ", name(t));
    const float lo = t == ValueType::u8 ? 0.0f : -128.0f;
    const float hi = t == ValueType::u8 ? 255.0f : 127.0f;
    Value y = Value::integers(t, x.shape);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::size_t k = ix(i);
      const float z = zp ? static_cast<float>(zp->ints[k]) : 0.0f;
      float q = std::nearbyint(x.floats[i] / scale.floats[k]) + z;
      if (std::isnan(q)) q = z;
      y.ints[i] = static_cast<std::int64_t>(std::clamp(q, lo, hi));
    }
    *out[0] = std::move(y);
  };
}

PARE_INLINE OpFn make_dequantize_linear(const Attributes& attrs) {
  const std::int64_t axis = attrs.get_int("axis", 1);
  const std::string op = "DequantizeLinear '" + attrs.node() + "'";
  return [=](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    PARE_CHECK(x.type == ValueType::u8 || x.type == ValueType::i8 || x.type == ValueType::i32,
               ArgumentError, op, ": input must be uint8, int8 or int32, got ", name(x.type));
    const Value& scale = input(in, 1, op);
    const Value* zp = optional_input(in, 2);
    const auto ix = detail::axis_indexer(x, scale, zp, axis, op);
    Value y = Value::zeros(x.shape);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::size_t k = ix(i);
      const std::int64_t z = zp ? zp->ints[k] : 0;
      y.floats[i] = static_cast<float>(x.ints[i] - z) * scale.floats[k];
    }
    *out[0] = std::move(y);
  };
}

}  // namespace pare::graph
