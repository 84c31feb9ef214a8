// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/attributes.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/nn/graph/attributes.hpp"

namespace pare::graph {

PARE_INLINE void Attributes::set(std::string name, Attribute a) {
  map_[std::move(name)] = std::move(a);
}

PARE_INLINE bool Attributes::has(std::string_view n) const {
  return map_.find(std::string(n)) != map_.end();
}

PARE_INLINE std::int64_t Attributes::get_int(std::string_view n, std::int64_t fallback) const {
  const Attribute* a = find(n, Attribute::Kind::int64);
  return a ? a->i : fallback;
}

PARE_INLINE float Attributes::get_float(std::string_view n, float fallback) const {
  const Attribute* a = find(n, Attribute::Kind::float32);
  return a ? a->f : fallback;
}

PARE_INLINE std::string Attributes::get_string(std::string_view n, std::string fallback) const {
  const Attribute* a = find(n, Attribute::Kind::string);
  return a ? a->s : fallback;
}

PARE_INLINE std::vector<std::int64_t> Attributes::get_ints(
    std::string_view n, std::vector<std::int64_t> fallback) const {
  const Attribute* a = find(n, Attribute::Kind::ints);
  return a ? a->ints : fallback;
}

PARE_INLINE std::vector<float> Attributes::get_floats(std::string_view n) const {
  const Attribute* a = find(n, Attribute::Kind::floats);
  return a ? a->floats : std::vector<float>{};
}

PARE_INLINE std::shared_ptr<const Value> Attributes::get_tensor(std::string_view n) const {
  const Attribute* a = find(n, Attribute::Kind::tensor);
  return a ? a->t : nullptr;
}

PARE_INLINE const Attribute* Attributes::find(std::string_view n, Attribute::Kind k) const {
  auto it = map_.find(std::string(n));
  if (it == map_.end()) return nullptr;
  PARE_CHECK(it->second.kind == k, ArgumentError, "node '", node_, "': attribute '", n,
             "' has the wrong type");
  return &it->second;
}

}  // namespace pare::graph
