// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/value.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

PARE_INLINE std::string to_string(std::span<const std::size_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

PARE_INLINE std::size_t element_count(std::span<const std::size_t> shape) {
  std::size_t n = 1;
  bool zero = false;
  for (auto d : shape) {
    if (d == 0) zero = true;
    PARE_CHECK(d == 0 || n <= max_value_elements / d, ShapeError, "a value of shape ",
               to_string(shape), " exceeds pare::graph::max_value_elements = ", max_value_elements);
    n *= d == 0 ? 1 : d;
  }
  return zero ? 0 : n;
}

PARE_INLINE Value Value::zeros(std::vector<std::size_t> shape) {
  Value v;
  v.floats.assign(element_count(shape), 0.0f);
  v.shape = std::move(shape);
  return v;
}

PARE_INLINE Value Value::integers(ValueType t, std::vector<std::size_t> shape) {
  PARE_CHECK(t != ValueType::f32, ArgumentError, "Value::integers needs an integer type");
  Value v;
  v.type = t;
  v.ints.assign(element_count(shape), 0);
  v.shape = std::move(shape);
  return v;
}

}  // namespace pare::graph
