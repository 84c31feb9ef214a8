// SPDX-License-Identifier: Apache-2.0
// pare — the runtime graph's tensor: a dynamic-rank value (shape known only at run time).
//
// A graph imported from ONNX learns its shapes while it runs, so its values cannot be
// Tensor<T, Rank>. A Value is float data (the common case) or integers (the quantized ops'
// int8/uint8/int32 and the shape ops' int64, all held widened in int64 with `type` saying
// which they are) plus a shape vector. Conversion to and from Tensor<float, Rank> is explicit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/dtype.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"

namespace pare::graph {

/// Element type of a Value. Integer types are stored widened in Value::ints.
enum class ValueType : std::uint8_t { f32, i8, u8, i32, i64, boolean };

[[nodiscard]] constexpr std::string_view name(ValueType t) noexcept {
  switch (t) {
    case ValueType::f32:
      return "float32";
    case ValueType::i8:
      return "int8";
    case ValueType::u8:
      return "uint8";
    case ValueType::i32:
      return "int32";
    case ValueType::i64:
      return "int64";
    case ValueType::boolean:
      return "bool";
  }
  return "?";
}

/// The DType a file stores a ValueType's elements as.
[[nodiscard]] constexpr DType dtype(ValueType t) noexcept {
  switch (t) {
    case ValueType::i8:
      return DType::i8;
    case ValueType::u8:
      return DType::u8;
    case ValueType::i32:
      return DType::i32;
    case ValueType::i64:
      return DType::i64;
    case ValueType::boolean:
      return DType::boolean;
    case ValueType::f32:
      break;
  }
  return DType::f32;
}

/// The ValueType holding a DType's elements unchanged; nullopt for one no value holds (f64, f16,
/// the packed types, ...), which a caller must refuse or convert on purpose.
[[nodiscard]] constexpr std::optional<ValueType> value_type(DType t) noexcept {
  switch (t) {
    case DType::f32:
      return ValueType::f32;
    case DType::i8:
      return ValueType::i8;
    case DType::u8:
      return ValueType::u8;
    case DType::i32:
      return ValueType::i32;
    case DType::i64:
      return ValueType::i64;
    case DType::boolean:
      return ValueType::boolean;
    default:
      return std::nullopt;
  }
}

/// `shape` as "[2, 3]", for error messages.
[[nodiscard]] std::string to_string(std::span<const std::size_t> shape);

/// Largest element count a runtime value may have. A hostile graph can ask for enormous
/// values from tiny inputs (a broadcast of [n, 1] and [1, n], padding of 2^20); this turns such
/// a request into a ShapeError instead of an out-of-memory kill. 2^34 floats is 64 GiB; the fuzz
/// target lowers it. A plain variable that running models read: set it before serving.
inline std::size_t max_value_elements = std::size_t{1} << 34;

/// Product of `shape`; ShapeError when it overflows or exceeds max_value_elements.
[[nodiscard]] std::size_t element_count(std::span<const std::size_t> shape);

struct Value {
  ValueType type = ValueType::f32;
  std::vector<std::size_t> shape;  ///< empty for a scalar
  std::vector<float> floats;       ///< the elements when type == f32
  std::vector<std::int64_t> ints;  ///< the elements for every integer type

  /// A zero-filled float value of `shape`.
  [[nodiscard]] static Value zeros(std::vector<std::size_t> shape);
  /// A zero-filled integer value of type `t`.
  [[nodiscard]] static Value integers(ValueType t, std::vector<std::size_t> shape);
  /// A float value copied from a tensor view (any strides).
  template <std::size_t Rank>
  [[nodiscard]] static Value from(TensorView<const float, Rank> t) {
    Value v;
    v.shape.assign(t.extents().begin(), t.extents().end());
    const Tensor<float, Rank> dense(t);
    v.floats.assign(dense.data(), dense.data() + dense.size());
    return v;
  }

  template <std::size_t Rank>
  [[nodiscard]] static Value from(TensorView<float, Rank> t) {
    return from(TensorView<const float, Rank>(t));
  }
  template <std::size_t Rank>
  [[nodiscard]] static Value from(const Tensor<float, Rank>& t) {
    return from(t.view());
  }

  [[nodiscard]] bool is_float() const noexcept { return type == ValueType::f32; }
  [[nodiscard]] std::size_t rank() const noexcept { return shape.size(); }
  [[nodiscard]] std::size_t size() const noexcept {
    return is_float() ? floats.size() : ints.size();
  }
  /// Element `i` as a double, whatever the type.
  [[nodiscard]] double at(std::size_t i) const noexcept {
    return is_float() ? static_cast<double>(floats[i]) : static_cast<double>(ints[i]);
  }

  /// The float data as Tensor<float, Rank>; ShapeError when the rank differs or the value holds
  /// integers.
  template <std::size_t Rank>
  [[nodiscard]] Tensor<float, Rank> to_tensor() const {
    PARE_CHECK(is_float(), ShapeError, "value holds ", name(type), ", not float32");
    PARE_CHECK(shape.size() == Rank, ShapeError, "value of shape ", to_string(shape),
               " is not of rank ", Rank);
    Shape<Rank> e{};
    for (std::size_t d = 0; d < Rank; ++d) e[d] = shape[d];
    Tensor<float, Rank> t(e);
    std::copy(floats.begin(), floats.end(), t.data());
    return t;
  }
};

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/value-inl.hpp"
#endif
