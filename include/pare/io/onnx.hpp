// SPDX-License-Identifier: Apache-2.0
// pare — ONNX import: parse a ModelProto into plain structs (nodes, attributes, initializers,
// graph inputs and outputs). Building a runnable pare::Model from it is io/load_model.hpp's job.
//
//     auto m = pare::io::OnnxModel::open("model.onnx");
//     for (const auto& n : m.nodes) std::cout << n.op_type << ' ' << n.name << '\n';
//     const pare::io::OnnxTensor& w = m.initializer("fc.weight");
//     std::vector<float> wf = w.to_float();
//
// The protobuf bytes are read with our own wire-format reader (io/detail/protobuf.hpp; the
// reasons are in docs/format-onnx.md). Initializer data may come from raw_data, from the typed
// fields (float_data, int32_data, int64_data, double_data, uint64_data) or from an external file
// (data_location = EXTERNAL, keys location/offset/length), which must resolve to a regular file
// inside the model's folder. Every tensor's element count is overflow-checked and must match its
// data exactly before anything is copied, so no allocation exceeds what the file holds.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/float16.hpp"
#include "pare/io/detail/byte_reader.hpp"

namespace pare::io {

/// TensorProto.DataType values (the numbers are ONNX's).
enum class OnnxDataType : std::int32_t {
  undefined = 0,
  float32 = 1,
  uint8 = 2,
  int8 = 3,
  uint16 = 4,
  int16 = 5,
  int32 = 6,
  int64 = 7,
  string = 8,
  boolean = 9,
  float16 = 10,
  float64 = 11,
  uint32 = 12,
  uint64 = 13,
  complex64 = 14,
  complex128 = 15,
  bfloat16 = 16,
};

[[nodiscard]] constexpr std::string_view name(OnnxDataType t) noexcept {
  switch (t) {
    case OnnxDataType::float32:
      return "FLOAT";
    case OnnxDataType::uint8:
      return "UINT8";
    case OnnxDataType::int8:
      return "INT8";
    case OnnxDataType::uint16:
      return "UINT16";
    case OnnxDataType::int16:
      return "INT16";
    case OnnxDataType::int32:
      return "INT32";
    case OnnxDataType::int64:
      return "INT64";
    case OnnxDataType::string:
      return "STRING";
    case OnnxDataType::boolean:
      return "BOOL";
    case OnnxDataType::float16:
      return "FLOAT16";
    case OnnxDataType::float64:
      return "DOUBLE";
    case OnnxDataType::uint32:
      return "UINT32";
    case OnnxDataType::uint64:
      return "UINT64";
    case OnnxDataType::complex64:
      return "COMPLEX64";
    case OnnxDataType::complex128:
      return "COMPLEX128";
    case OnnxDataType::bfloat16:
      return "BFLOAT16";
    case OnnxDataType::undefined:
      break;
  }
  return "UNDEFINED";
}

/// Bytes per element of the data types pare loads; 0 for the others.
[[nodiscard]] constexpr std::size_t onnx_element_size(OnnxDataType t) noexcept {
  switch (t) {
    case OnnxDataType::float32:
    case OnnxDataType::int32:
      return 4;
    case OnnxDataType::uint8:
    case OnnxDataType::int8:
    case OnnxDataType::boolean:
      return 1;
    case OnnxDataType::float16:
    case OnnxDataType::bfloat16:
      return 2;
    case OnnxDataType::int64:
    case OnnxDataType::float64:
      return 8;
    default:
      return 0;
  }
}

/// An initializer (or a tensor-valued attribute): data in little-endian element order.
struct OnnxTensor {
  std::string name;
  OnnxDataType dtype = OnnxDataType::float32;
  std::vector<std::int64_t> dims;  ///< empty for a scalar
  std::vector<std::byte> data;     ///< size() * onnx_element_size(dtype) bytes
  std::uint64_t offset = 0;        ///< file offset of the TensorProto

  [[nodiscard]] std::size_t size() const noexcept {
    std::size_t n = 1;
    for (auto d : dims) n *= static_cast<std::size_t>(d);  // checked when parsed
    return n;
  }
  /// The elements converted to float (FLOAT16/BFLOAT16/DOUBLE and the integer types too).
  [[nodiscard]] std::vector<float> to_float() const;
  /// The elements converted to int64 (float types are truncated toward zero).
  [[nodiscard]] std::vector<std::int64_t> to_int64() const;
  /// Element `i` as a double (exact for every type but INT64 beyond 2^53).
  [[nodiscard]] double element(std::size_t i) const noexcept {
    const std::byte* p = data.data() + i * onnx_element_size(dtype);
    switch (dtype) {
      case OnnxDataType::float32:
        return std::bit_cast<float>(detail::load_le<std::uint32_t>(p));
      case OnnxDataType::float64:
        return std::bit_cast<double>(detail::load_le<std::uint64_t>(p));
      case OnnxDataType::float16:
        return static_cast<float>(f16::from_bits(detail::load_le<std::uint16_t>(p)));
      case OnnxDataType::bfloat16:
        return static_cast<float>(bf16::from_bits(detail::load_le<std::uint16_t>(p)));
      case OnnxDataType::int8:
        return static_cast<std::int8_t>(std::to_integer<std::uint8_t>(*p));
      case OnnxDataType::uint8:
      case OnnxDataType::boolean:
        return std::to_integer<std::uint8_t>(*p);
      case OnnxDataType::int32:
        return static_cast<std::int32_t>(detail::load_le<std::uint32_t>(p));
      case OnnxDataType::int64:
        return static_cast<double>(int64_at(i));
      default:
        return 0.0;
    }
  }

 private:
  [[nodiscard]] std::int64_t int64_at(std::size_t i) const noexcept {
    return static_cast<std::int64_t>(detail::load_le<std::uint64_t>(data.data() + i * 8));
  }
};

/// AttributeProto.AttributeType values.
enum class OnnxAttributeType : std::int32_t {
  undefined = 0,
  float32 = 1,
  int64 = 2,
  string = 3,
  tensor = 4,
  graph = 5,
  floats = 6,
  ints = 7,
  strings = 8,
  tensors = 9,
  graphs = 10,
  sparse_tensor = 11,
  sparse_tensors = 12,
  type_proto = 13,
  type_protos = 14,
};

/// A node attribute. Sub-graphs (If/Loop bodies) are recorded by type only: no op pare runs
/// takes one.
struct OnnxAttribute {
  std::string name;
  OnnxAttributeType type = OnnxAttributeType::undefined;
  float f = 0.0f;
  std::int64_t i = 0;
  std::string s;
  std::vector<float> floats;
  std::vector<std::int64_t> ints;
  std::vector<std::string> strings;
  std::shared_ptr<const OnnxTensor> t;
};

struct OnnxNode {
  std::string name;
  std::string op_type;
  std::string domain;
  std::vector<std::string> inputs;  ///< an empty name is an omitted optional input
  std::vector<std::string> outputs;
  std::vector<OnnxAttribute> attributes;
  std::uint64_t offset = 0;  ///< file offset of the NodeProto

  [[nodiscard]] const OnnxAttribute* attribute(std::string_view n) const noexcept {
    for (const auto& a : attributes)
      if (a.name == n) return &a;
    return nullptr;
  }
};

/// A graph input or output: element type and shape (-1 for a symbolic or unknown dimension).
struct OnnxValueInfo {
  std::string name;
  std::int32_t elem_type = 0;  ///< an OnnxDataType value; 0 when not a tensor type
  std::vector<std::int64_t> shape;
  bool has_shape = false;
};

struct OnnxModel {
  std::int64_t ir_version = 0;
  std::map<std::string, std::int64_t> opsets;  ///< domain ("" is ai.onnx) -> version
  std::string producer_name;
  std::string producer_version;
  std::string graph_name;
  std::vector<OnnxNode> nodes;
  std::vector<OnnxTensor> initializers;
  std::vector<OnnxValueInfo> inputs;  ///< may include initializers (IR < 4 style)
  std::vector<OnnxValueInfo> outputs;

  /// Version of the default (ai.onnx) opset, 0 when the model imports none.
  [[nodiscard]] std::int64_t opset() const;
  [[nodiscard]] const OnnxTensor* find_initializer(std::string_view n) const noexcept {
    for (const auto& t : initializers)
      if (t.name == n) return &t;
    return nullptr;
  }
  [[nodiscard]] const OnnxTensor& initializer(std::string_view n) const;

  /// Maps and parses `path`; external data resolves relative to its folder.
  [[nodiscard]] static OnnxModel open(const std::filesystem::path& path);
};

/// Parses ModelProto bytes held in memory. `folder` is where external data lives; without it a
/// model with external data is refused.
[[nodiscard]] OnnxModel parse_onnx(std::span<const std::byte> bytes, std::string name,
                                   std::optional<std::filesystem::path> folder = {});

/// Parses one serialized TensorProto (the input_<k>.pb / output_<k>.pb files of ONNX's test data
/// sets). `name` names the bytes in errors; external data is refused.
[[nodiscard]] OnnxTensor parse_onnx_tensor(std::span<const std::byte> bytes, std::string name);

}  // namespace pare::io

#ifndef PARE_COMPILED_LIB
#include "pare/io/onnx-inl.hpp"
#endif
