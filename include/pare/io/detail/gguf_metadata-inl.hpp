// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/detail/gguf_metadata.hpp: compiled once into pare::compiled, or
// included by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <variant>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/io/detail/gguf_metadata.hpp"

namespace pare::io {

PARE_INLINE GgufArray::GgufArray(const std::vector<std::string>& v)
    : type_(GgufValueType::string), count_(v.size()) {
  items_.reserve(v.size());
  for (const auto& s : v) items_.emplace_back(s);
}
PARE_INLINE GgufArray::GgufArray(const std::vector<GgufArray>& v)
    : type_(GgufValueType::array), count_(v.size()) {
  items_.reserve(v.size());
  for (const auto& a : v) items_.emplace_back(a);
}
PARE_INLINE bool operator==(const GgufArray& a, const GgufArray& b) {
  return a.type_ == b.type_ && a.count_ == b.count_ && a.fixed_ == b.fixed_ && a.items_ == b.items_;
}

PARE_INLINE GgufMetadata::GgufMetadata(
    std::initializer_list<std::pair<std::string, GgufValue>> kvs) {
  for (const auto& [k, v] : kvs) set(k, v);
}

PARE_INLINE void GgufMetadata::set(std::string key, GgufValue value, std::uint64_t offset) {
  if (auto it = index_.find(key); it != index_.end()) {
    entries_[it->second].value = std::move(value);
    return;
  }
  index_.emplace(key, entries_.size());
  entries_.push_back({std::move(key), std::move(value), offset});
}

PARE_INLINE const GgufMetadata::Entry& GgufMetadata::entry(std::string_view key) const {
  auto it = index_.find(key);
  PARE_CHECK(it != index_.end(), ArgumentError, file_.empty() ? "GGUF metadata" : file_,
             " has no key '", key, "'");
  return entries_[it->second];
}

PARE_INLINE std::string GgufCodec::read_string(detail::ByteReader& r, std::string_view field) {
  const std::uint64_t at = r.offset();
  const std::uint64_t n = r.read_u64(field);
  if (n > r.remaining())
    r.fail_at(at, field,
              ::pare::detail::concat("string length ", n, " exceeds the ", r.remaining(),
                                     " bytes left in the file"));
  return r.read_string(n, field);
}

PARE_INLINE GgufValueType GgufCodec::read_type(detail::ByteReader& r, std::string_view field) {
  const std::uint64_t at = r.offset();
  const std::uint32_t t = r.read_u32(field);
  if (!detail::gguf_valid_value_type(t))
    r.fail_at(at, field, ::pare::detail::concat("unknown GGUF value type ", t));
  return static_cast<GgufValueType>(t);
}

PARE_INLINE GgufValue GgufCodec::read_value(detail::ByteReader& r, GgufValueType t,
                                            std::string_view field, int depth) {
  switch (t) {
    case GgufValueType::u8:
      return r.read_u8(field);
    case GgufValueType::i8:
      return static_cast<std::int8_t>(r.read_u8(field));
    case GgufValueType::u16:
      return r.read_u16(field);
    case GgufValueType::i16:
      return static_cast<std::int16_t>(r.read_u16(field));
    case GgufValueType::u32:
      return r.read_u32(field);
    case GgufValueType::i32:
      return static_cast<std::int32_t>(r.read_u32(field));
    case GgufValueType::f32:
      return r.read_f32(field);
    case GgufValueType::u64:
      return r.read_u64(field);
    case GgufValueType::i64:
      return r.read_i64(field);
    case GgufValueType::f64:
      return r.read_f64(field);
    case GgufValueType::boolean: {
      const std::uint64_t at = r.offset();
      const std::uint8_t b = r.read_u8(field);
      if (b > 1)
        r.fail_at(at, field,
                  ::pare::detail::concat("bool value is ", unsigned{b}, ", neither 0 nor 1"));
      return b == 1;
    }
    case GgufValueType::string:
      return read_string(r, field);
    case GgufValueType::array:
      return read_array(r, field, depth + 1);
  }
  r.fail(field, "unknown GGUF value type");  // unreachable: read_type validated t
}

PARE_INLINE GgufArray GgufCodec::read_array(detail::ByteReader& r, std::string_view field,
                                            int depth) {
  const std::uint64_t at = r.offset();
  if (depth > max_depth)
    r.fail_at(at, field,
              ::pare::detail::concat("arrays nested deeper than ", max_depth, " levels"));
  GgufArray a;
  a.type_ = read_type(r, field);
  const std::uint64_t count = r.read_u64(field);
  const std::uint64_t min = detail::gguf_min_size(a.type_);
  if (count > r.remaining() / min)
    r.fail_at(
        at, field,
        ::pare::detail::concat("array of ", count, " ", name(a.type_), " values needs at least ",
                               min, " bytes each, only ", r.remaining(), " bytes are left"));
  a.count_ = static_cast<std::size_t>(count);
  if (const std::uint64_t size = detail::gguf_fixed_size(a.type_); size != 0) {
    const auto bytes = r.read_bytes(count * size, field);
    if (a.type_ == GgufValueType::boolean)
      for (std::size_t i = 0; i < bytes.size(); ++i)
        if (std::to_integer<unsigned>(bytes[i]) > 1)
          r.fail_at(r.offset() - bytes.size() + i, field, "bool array element is neither 0 nor 1");
    a.fixed_.assign(bytes.begin(), bytes.end());
    return a;
  }
  a.items_.reserve(a.count_);
  for (std::uint64_t i = 0; i < count; ++i)
    a.items_.push_back(read_value(r, a.type_, field, depth));
  return a;
}

PARE_INLINE void GgufCodec::write_value(std::vector<std::byte>& out, const GgufValue& v) {
  std::visit(
      [&](const auto& x) {
        using X = std::remove_cvref_t<decltype(x)>;
        if constexpr (std::same_as<X, std::string>) {
          write_string(out, x);
        } else if constexpr (std::same_as<X, GgufArray>) {
          write_array(out, x);
        } else {
          const std::size_t n = out.size();
          out.resize(n + sizeof(X));
          GgufArray::store(out.data() + n, x);
        }
      },
      v.storage());
}

PARE_INLINE void GgufCodec::write_string(std::vector<std::byte>& out, std::string_view s) {
  write_u64(out, s.size());
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  out.insert(out.end(), p, p + s.size());
}

PARE_INLINE void GgufCodec::write_array(std::vector<std::byte>& out, const GgufArray& a) {
  write_u32(out, static_cast<std::uint32_t>(a.type_));
  write_u64(out, a.count_);
  out.insert(out.end(), a.fixed_.begin(), a.fixed_.end());
  for (const auto& item : a.items_) write_value(out, item);
}

PARE_INLINE void GgufCodec::write_u32(std::vector<std::byte>& out, std::uint32_t x) {
  const std::size_t n = out.size();
  out.resize(n + 4);
  detail::store_le(out.data() + n, x);
}

PARE_INLINE void GgufCodec::write_u64(std::vector<std::byte>& out, std::uint64_t x) {
  const std::size_t n = out.size();
  out.resize(n + 8);
  detail::store_le(out.data() + n, x);
}

}  // namespace pare::io
