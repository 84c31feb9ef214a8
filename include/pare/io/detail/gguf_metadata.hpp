// SPDX-License-Identifier: Apache-2.0
// pare — GGUF metadata: values (the 13 GGUF types, arrays that may nest), the ordered key → value
// map a file carries, and their parsing from / encoding to bytes.
//
//     const auto& md = file.metadata();
//     auto arch  = md.get<std::string>("general.architecture");
//     auto align = md.get_or<std::uint32_t>("general.alignment", 32);
//     auto toks  = md.get_array<std::string>("tokenizer.ggml.tokens");
//
// Memory stays proportional to the file: arrays of numbers and bools keep their little-endian
// bytes (decoded on request); only string and nested-array elements become objects.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/io/detail/byte_reader.hpp"
#include "pare/io/detail/gguf_types.hpp"

namespace pare::io {

/// A C++ type that is one fixed-size GGUF value type (numbers and bool).
template <class T>
concept GgufScalar = std::same_as<T, std::uint8_t> || std::same_as<T, std::int8_t> ||
                     std::same_as<T, std::uint16_t> || std::same_as<T, std::int16_t> ||
                     std::same_as<T, std::uint32_t> || std::same_as<T, std::int32_t> ||
                     std::same_as<T, std::uint64_t> || std::same_as<T, std::int64_t> ||
                     std::same_as<T, float> || std::same_as<T, double> || std::same_as<T, bool>;

/// The GGUF value type of a C++ type (GgufScalar or std::string).
template <class T>
inline constexpr GgufValueType gguf_value_type_of = [] {
  if constexpr (std::same_as<T, std::uint8_t>)
    return GgufValueType::u8;
  else if constexpr (std::same_as<T, std::int8_t>)
    return GgufValueType::i8;
  else if constexpr (std::same_as<T, std::uint16_t>)
    return GgufValueType::u16;
  else if constexpr (std::same_as<T, std::int16_t>)
    return GgufValueType::i16;
  else if constexpr (std::same_as<T, std::uint32_t>)
    return GgufValueType::u32;
  else if constexpr (std::same_as<T, std::int32_t>)
    return GgufValueType::i32;
  else if constexpr (std::same_as<T, float>)
    return GgufValueType::f32;
  else if constexpr (std::same_as<T, bool>)
    return GgufValueType::boolean;
  else if constexpr (std::same_as<T, std::string>)
    return GgufValueType::string;
  else if constexpr (std::same_as<T, std::uint64_t>)
    return GgufValueType::u64;
  else if constexpr (std::same_as<T, std::int64_t>)
    return GgufValueType::i64;
  else if constexpr (std::same_as<T, double>)
    return GgufValueType::f64;
  else
    static_assert(
        sizeof(T) == 0,
        "not a GGUF value type: use a fixed-width integer, float, double, bool or std::string");
}();

class GgufValue;

/// A GGUF array: one element type and its elements. Elements of a fixed-size type are kept as
/// their little-endian bytes; string and array elements as GgufValues.
class GgufArray {
 public:
  GgufArray() = default;
  /// An array of numbers or bools.
  template <GgufScalar T>
  explicit GgufArray(const std::vector<T>& v) : type_(gguf_value_type_of<T>), count_(v.size()) {
    fixed_.resize(v.size() * sizeof(T));
    for (std::size_t i = 0; i < v.size(); ++i) store(fixed_.data() + i * sizeof(T), v[i]);
  }
  template <GgufScalar T>
  GgufArray(std::initializer_list<T> v) : GgufArray(std::vector<T>(v)) {}
  /// An array of strings.
  explicit GgufArray(const std::vector<std::string>& v);
  /// An array of arrays (GGUF allows nesting; llama.cpp's own reader does not).
  explicit GgufArray(const std::vector<GgufArray>& v);

  [[nodiscard]] GgufValueType element_type() const noexcept { return type_; }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }

  /// The elements as T; ArgumentError unless T is the element type (std::string for strings).
  template <class T>
  [[nodiscard]] std::vector<T> values() const;
  /// Elements of a string or array element type; empty for fixed-size element types.
  [[nodiscard]] const std::vector<GgufValue>& items() const noexcept { return items_; }
  /// Little-endian bytes of fixed-size elements; empty for string and array element types.
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return fixed_; }

  friend bool operator==(const GgufArray& a, const GgufArray& b);

 private:
  friend struct GgufCodec;
  template <class T>
  static void store(std::byte* p, T v) noexcept {
    if constexpr (std::same_as<T, bool>) {
      *p = std::byte{v ? std::uint8_t{1} : std::uint8_t{0}};
    } else {
      std::memcpy(p, &v, sizeof v);  // little-endian host (static_assert in gguf.hpp)
    }
  }

  GgufValueType type_ = GgufValueType::u8;
  std::size_t count_ = 0;
  std::vector<std::byte> fixed_;
  std::vector<GgufValue> items_;
};

/// One GGUF metadata value. The variant's index is the GgufValueType id.
class GgufValue {
 public:
  using Storage = std::variant<std::uint8_t, std::int8_t, std::uint16_t, std::int16_t,
                               std::uint32_t, std::int32_t, float, bool, std::string, GgufArray,
                               std::uint64_t, std::int64_t, double>;

  GgufValue() = default;
  template <GgufScalar T>
  GgufValue(T v) : v_(std::in_place_type<T>, v) {}
  GgufValue(std::string s) : v_(std::in_place_type<std::string>, std::move(s)) {}  // NOLINT
  GgufValue(std::string_view s) : v_(std::in_place_type<std::string>, s) {}        // NOLINT
  GgufValue(const char* s) : v_(std::in_place_type<std::string>, s) {}             // NOLINT
  GgufValue(GgufArray a) : v_(std::in_place_type<GgufArray>, std::move(a)) {}      // NOLINT

  [[nodiscard]] GgufValueType type() const noexcept {
    return static_cast<GgufValueType>(v_.index());
  }
  /// The value if it holds a T (GgufScalar, std::string or GgufArray), else nullptr.
  template <class T>
  [[nodiscard]] const T* get_if() const noexcept {
    return std::get_if<T>(&v_);
  }
  [[nodiscard]] const Storage& storage() const noexcept { return v_; }

  friend bool operator==(const GgufValue& a, const GgufValue& b) { return a.v_ == b.v_; }

 private:
  Storage v_;
};

template <class T>
std::vector<T> GgufArray::values() const {
  PARE_CHECK(gguf_value_type_of<T> == type_, ArgumentError, "GGUF array holds ", name(type_),
             ", asked for ", name(gguf_value_type_of<T>));
  std::vector<T> out;
  out.reserve(count_);
  if constexpr (std::same_as<T, std::string>) {
    for (const auto& v : items_) out.push_back(*v.get_if<std::string>());
  } else if constexpr (std::same_as<T, bool>) {
    for (std::byte b : fixed_) out.push_back(b != std::byte{0});
  } else {
    for (std::size_t i = 0; i < count_; ++i) {
      T x;
      std::memcpy(&x, fixed_.data() + i * sizeof(T), sizeof(T));
      out.push_back(x);
    }
  }
  return out;
}

/// GGUF metadata: keys in file order, each with its value and (for a file) its byte offset.
class GgufMetadata {
 public:
  struct Entry {
    std::string key;
    GgufValue value;
    std::uint64_t offset = 0;  ///< file offset of the key (0 when built in memory)
  };

  GgufMetadata() = default;
  GgufMetadata(std::initializer_list<std::pair<std::string, GgufValue>> kvs);

  /// Sets `key` (replacing its value in place, or appending it).
  void set(std::string key, GgufValue value, std::uint64_t offset = 0);

  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
  [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }
  [[nodiscard]] auto begin() const noexcept { return entries_.begin(); }
  [[nodiscard]] auto end() const noexcept { return entries_.end(); }
  [[nodiscard]] bool contains(std::string_view key) const {
    return index_.find(key) != index_.end();
  }
  /// The value of `key`, or nullptr.
  [[nodiscard]] const GgufValue* find(std::string_view key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &entries_[it->second].value;
  }

  /// The value of `key` as T (a GgufScalar or std::string; no conversions). ArgumentError when
  /// the key is missing; FormatError (naming file, key and offset) when it holds another type.
  template <class T>
  [[nodiscard]] T get(std::string_view key) const {
    const Entry& e = entry(key);
    if (const T* v = e.value.get_if<T>()) return *v;
    throw FormatError(file_, e.key, e.offset,
                      ::pare::detail::concat("metadata value is ", name(e.value.type()),
                                             ", expected ", name(gguf_value_type_of<T>)));
  }
  /// Like get(), or `fallback` when the key is missing.
  template <class T>
  [[nodiscard]] T get_or(std::string_view key, T fallback) const {
    return contains(key) ? get<T>(key) : fallback;
  }
  /// The array at `key` as std::vector<T>; same errors as get().
  template <class T>
  [[nodiscard]] std::vector<T> get_array(std::string_view key) const {
    const Entry& e = entry(key);
    const GgufArray* a = e.value.get_if<GgufArray>();
    if (a == nullptr || a->element_type() != gguf_value_type_of<T>)
      throw FormatError(
          file_, e.key, e.offset,
          ::pare::detail::concat("metadata value is ",
                                 a ? "array of " + name(a->element_type()) : name(e.value.type()),
                                 ", expected array of ", name(gguf_value_type_of<T>)));
    return a->values<T>();
  }

  /// The file these came from (used in error messages).
  void set_file(std::string file) { file_ = std::move(file); }

 private:
  const Entry& entry(std::string_view key) const;

  std::vector<Entry> entries_;
  std::map<std::string, std::size_t, std::less<>> index_;
  std::string file_;
};

/// Reads and writes GgufValues (friend of GgufArray to fill it without copies).
struct GgufCodec {
  static constexpr int max_depth = 8;  ///< arrays nested deeper than this are FormatErrors

  /// Reads a GGUF string (u64 length + bytes); the length is checked against the bytes left.
  static std::string read_string(detail::ByteReader& r, std::string_view field);

  static GgufValueType read_type(detail::ByteReader& r, std::string_view field);

  /// Reads one value of type `t`; `depth` counts enclosing arrays.
  static GgufValue read_value(detail::ByteReader& r, GgufValueType t, std::string_view field,
                              int depth = 0);

  static GgufArray read_array(detail::ByteReader& r, std::string_view field, int depth);

  /// Appends the encoding of `v` (without its type tag) to `out`.
  static void write_value(std::vector<std::byte>& out, const GgufValue& v);
  static void write_string(std::vector<std::byte>& out, std::string_view s);
  static void write_array(std::vector<std::byte>& out, const GgufArray& a);
  static void write_u32(std::vector<std::byte>& out, std::uint32_t x);
  static void write_u64(std::vector<std::byte>& out, std::uint64_t x);
};

}  // namespace pare::io

#ifndef PARE_COMPILED_LIB
#include "pare/io/detail/gguf_metadata-inl.hpp"
#endif
