// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/detail/safetensors_header.hpp: compiled once into pare::compiled, or
// included by the header (core/config.hpp explains the two modes).
#pragma once

#include <functional>
#include <set>
#include <string_view>

#include "pare/core/config.hpp"
#include "pare/core/json_reader.hpp"
#include "pare/io/detail/safetensors_header.hpp"

namespace pare::io::detail {

PARE_INLINE SafetensorsHeader parse_safetensors_header(std::string_view text,
                                                       std::string_view file) {
  using T = JsonReader::Token;
  JsonReader r(text, {.source = file});
  const auto unexpected = [&](T t) -> std::string {
    switch (t) {
      case T::null:
        return "unexpected null";
      case T::boolean:
        return "unexpected boolean";
      case T::int64:
        return "negative number where a size was expected";
      case T::uint64:
        return "unexpected number";
      case T::floating:
        return "'" + std::string(r.raw().substr(0, 64)) +
               "' is not a non-negative integer that fits in 64 bits";
      case T::string:
        return "unexpected string \"" + r.string().substr(0, 64) + "\"";
      case T::begin_array:
        return "unexpected array";
      case T::begin_object:
        return "unexpected object";
      default:
        return "unexpected JSON";
    }
  };
  // Each value of the top-level object: a tensor or "__metadata__", both objects.
  const auto expect_object = [&](T t) {
    if (t != T::begin_object) r.fail(t == T::begin_array ? "expected an object" : unexpected(t));
  };

  SafetensorsHeader h;
  expect_object(r.next());
  std::set<std::string, std::less<>> names;
  // After begin_object the reader gives only keys until end_object.
  for (T t = r.next(); t != T::end_object; t = r.next()) {
    std::string name = std::move(r.string());
    if (!names.insert(name).second) r.fail("duplicate key \"" + name + "\"");
    expect_object(r.next());
    if (name == "__metadata__") {
      for (T m = r.next(); m != T::end_object; m = r.next()) {
        std::string key = std::move(r.string());
        if (h.metadata.count(key) != 0) r.fail("duplicate __metadata__ key \"" + key + "\"");
        const T v = r.next();
        if (v != T::string)
          r.fail(v == T::begin_object || v == T::begin_array ? "__metadata__ values must be strings"
                                                             : unexpected(v));
        h.metadata.emplace(std::move(key), std::move(r.string()));
      }
      continue;
    }
    RawTensorInfo cur;
    cur.name = std::move(name);
    for (T f = r.next(); f != T::end_object; f = r.next()) {
      const std::string field = r.string();
      const bool dtype = field == "dtype", shape = field == "shape";
      if (!dtype && !shape && field != "data_offsets")
        r.fail("tensor '" + cur.name + "' has unknown key \"" + field + "\"");
      bool& seen = dtype ? cur.has_dtype : shape ? cur.has_shape : cur.has_offsets;
      if (seen) r.fail("tensor '" + cur.name + "' repeats key \"" + field + "\"");
      seen = true;
      const T v = r.next();
      if (dtype) {
        if (v != T::string) r.fail(unexpected(v));
        cur.dtype = std::move(r.string());
        continue;
      }
      if (v != T::begin_array) r.fail(unexpected(v));
      std::vector<std::uint64_t>& list = shape ? cur.shape : cur.offsets;
      for (T e = r.next(); e != T::end_array; e = r.next()) {
        if (e != T::uint64) r.fail(unexpected(e));
        if (shape && list.size() == safetensors_max_rank)
          r.fail("tensor '" + cur.name + "' has more than 64 dimensions");
        if (!shape && list.size() == 2)
          r.fail("tensor '" + cur.name + "': data_offsets has more than 2 values");
        list.push_back(r.uint64());
      }
    }
    if (!cur.has_dtype || !cur.has_shape || !cur.has_offsets)
      r.fail("tensor '" + cur.name + "' needs \"dtype\", \"shape\" and \"data_offsets\"");
    if (cur.offsets.size() != 2) r.fail("tensor '" + cur.name + "': data_offsets needs 2 values");
    h.tensors.push_back(std::move(cur));
  }
  (void)r.next();  // the end: only whitespace may follow
  return h;
}

}  // namespace pare::io::detail
