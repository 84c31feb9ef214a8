// SPDX-License-Identifier: Apache-2.0
// Helpers for the ONNX tests: test-data paths and .npy files as runtime values.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "pare/io/npy.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::test {

inline std::string onnx_data(const std::string& name) {
  return std::string(PARE_TEST_DATA_DIR) + "/onnx/" + name;
}

/// A .npy array (float32, int8, uint8, int32 or int64, C order) as a graph value.
inline graph::Value npy_value(const std::string& path) {
  const io::NpyArray a = io::read_npy_array(path);
  graph::Value v;
  v.shape = a.shape;
  const std::size_t n = a.size();
  const auto* p = a.data.data();
  auto ints = [&](graph::ValueType t, auto sample) {
    using T = decltype(sample);
    v.type = t;
    v.ints.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      T x;
      std::memcpy(&x, p + i * sizeof(T), sizeof(T));
      v.ints[i] = static_cast<std::int64_t>(x);
    }
  };
  switch (a.dtype) {
    case DType::f32:
      v.floats.resize(n);
      if (n) std::memcpy(v.floats.data(), p, n * 4);
      break;
    case DType::i8:
      ints(graph::ValueType::i8, std::int8_t{});
      break;
    case DType::u8:
      ints(graph::ValueType::u8, std::uint8_t{});
      break;
    case DType::i32:
      ints(graph::ValueType::i32, std::int32_t{});
      break;
    case DType::i64:
      ints(graph::ValueType::i64, std::int64_t{});
      break;
    default:
      throw ArgumentError("npy_value: unexpected dtype in " + path);
  }
  return v;
}

}  // namespace pare::test
