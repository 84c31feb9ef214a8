// SPDX-License-Identifier: Apache-2.0
// pare — the attributes of a graph node (ONNX's AttributeProto, minus sub-graphs).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

struct Attribute {
  enum class Kind : std::uint8_t { float32, int64, string, tensor, floats, ints, strings, other };
  Kind kind = Kind::other;
  float f = 0.0f;
  std::int64_t i = 0;
  std::string s;
  std::vector<float> floats;
  std::vector<std::int64_t> ints;
  std::vector<std::string> strings;
  std::shared_ptr<const Value> t;
};

/// Named attributes with typed getters that name the node and attribute when a type is wrong.
class Attributes {
 public:
  Attributes() = default;
  explicit Attributes(std::string node) : node_(std::move(node)) {}

  void set(std::string name, Attribute a);
  [[nodiscard]] bool has(std::string_view n) const;
  [[nodiscard]] const std::string& node() const noexcept { return node_; }
  [[nodiscard]] const std::map<std::string, Attribute>& all() const noexcept { return map_; }

  [[nodiscard]] std::int64_t get_int(std::string_view n, std::int64_t fallback) const;
  [[nodiscard]] float get_float(std::string_view n, float fallback) const;
  [[nodiscard]] std::string get_string(std::string_view n, std::string fallback) const;
  [[nodiscard]] std::vector<std::int64_t> get_ints(std::string_view n,
                                                   std::vector<std::int64_t> fallback) const;
  [[nodiscard]] std::vector<float> get_floats(std::string_view n) const;
  [[nodiscard]] std::shared_ptr<const Value> get_tensor(std::string_view n) const;

 private:
  const Attribute* find(std::string_view n, Attribute::Kind k) const;
  std::string node_;
  std::map<std::string, Attribute> map_;
};

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/attributes-inl.hpp"
#endif
