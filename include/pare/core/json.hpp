// SPDX-License-Identifier: Apache-2.0
// pare — Json: a small JSON value for .pare headers, layer attributes and metadata.
//
//     pare::Json j = pare::Json::object({{"name", "fc1"}, {"shape", pare::Json::array({64, 32})}});
//     j["bias"] = true;                                    // insert (or replace) a member
//     std::uint64_t rows = j.at("shape")[0].as_uint64();   // JsonError if missing or mistyped
//     auto shape = j.get<std::vector<std::size_t>>("shape");
//     for (const auto& [key, value] : j.as_object()) { ... }   // insertion order
//     std::string text = j.dump();                       // {"name":"fc1","shape":[64,32],...}
//     pare::Json back = pare::Json::parse(text);           // strict RFC 8259
//     (core/json_reader.hpp)
//
// A value is null, a boolean, an integer (int64 when negative, uint64 otherwise), a double, a
// string (UTF-8), an array or an object. Objects keep their members in insertion order, which is
// the order dump() writes; lookup by key is a linear scan, which is what the few-member objects
// of pare's files want (parse() checks large objects for duplicate keys by sorting, so a
// hostile object with a million members costs n log n, not n²). Equality is by kind and value:
// 1 and 1.0 differ, objects compare member by member in order.
//
// dump() writes compact JSON: no whitespace, strings as UTF-8 with only `"`, `\` and control
// characters escaped, doubles as the shortest text that reads back to the same double (a ".0"
// added to integral values so they stay doubles; an exponent from 1e15 up and below 1e-4). That
// is the layout nlohmann::json wrote, so files written before keep their bytes — except where
// its Grisu2 digits were not the shortest (about 0.7 % of float values: 0.014861093834042549
// is now 0.01486109383404255, the same double). A string that is not valid UTF-8, or a NaN or
// infinity, is a JsonError rather than broken output.
//
// Copies, comparison, dump() and destruction recurse once per level of nesting; parse() builds
// nothing deeper than its max_depth (512 by default), and values built in code are as deep as
// their builder makes them.
//
// No exceptions escape but pare's: JsonParseError (a FormatError) for bad text, JsonError for a
// value of the wrong kind, a missing key or index, or a number that does not fit the type asked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error_types.hpp"
#include "pare/core/json_reader.hpp"

namespace pare {

/// A Json value was used as a kind it is not (as_string() on a number), a key or index is
/// missing, or a number does not fit the type asked for; or dump() met a string that is not
/// UTF-8 or a non-finite double. The message names the key when one was given.
class JsonError : public Error {
 public:
  using Error::Error;
};

class Json;
struct JsonMember;

namespace detail {
template <class T>
struct JsonIsVector : std::false_type {};
template <class T, class A>
struct JsonIsVector<std::vector<T, A>> : std::true_type {};

template <class T>
inline constexpr bool json_character =
    std::is_same_v<T, char> || std::is_same_v<T, wchar_t> || std::is_same_v<T, char8_t> ||
    std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t>;

template <class R>
concept JsonRange =
    requires(const R& r) {
      typename R::value_type;
      r.begin();
      r.end();
    } && !std::is_convertible_v<const R&, std::string_view> &&
    !std::is_same_v<R, std::vector<Json>> && !std::is_same_v<R, std::vector<JsonMember>>;

/// A container of (key, value) pairs: std::map<std::string, T>, a vector of pairs, ...
template <class R>
concept JsonObjectRange = JsonRange<R> && requires(const typename R::value_type& m) {
  std::string_view(m.first);
  m.second;
};

template <class R>
concept JsonArrayRange = JsonRange<R> && !JsonObjectRange<R>;
}  // namespace detail

/// A JSON value (see the file comment). Cheap to move (16 bytes); copies are deep.
class Json {
 public:
  enum class Kind : std::uint8_t { null, boolean, int64, uint64, floating, string, array, object };
  using Array = std::vector<Json>;
  using Object = std::vector<JsonMember>;

  // ---- construction -----------------------------------------------------------------------
  /// null.
  Json() noexcept { v_.u = 0; }
  Json(std::nullptr_t) noexcept : Json() {}
  template <class B>
    requires std::is_same_v<B, bool>
  Json(B b) noexcept : kind_(Kind::boolean) {
    v_.b = b;
  }
  /// Any integer type but bool and the character types; negative values are int64, others
  /// uint64.
  template <class I>
    requires(std::is_integral_v<I> && !std::is_same_v<I, bool> && !detail::json_character<I>)
  Json(I i) noexcept {
    if constexpr (std::is_signed_v<I>) {
      if (i < 0) {
        kind_ = Kind::int64;
        v_.i = static_cast<std::int64_t>(i);
        return;
      }
    }
    kind_ = Kind::uint64;
    v_.u = static_cast<std::uint64_t>(i);
  }
  /// float and double (widened exactly); NaN and infinity are stored but refused by dump().
  template <class F>
    requires std::is_floating_point_v<F>
  Json(F f) noexcept : kind_(Kind::floating) {
    v_.d = static_cast<double>(f);
  }
  Json(const char* s);
  Json(std::string_view s);
  Json(std::string s);
  /// Explicit, so that nested braces never turn into an array or object unasked: build those
  /// with array() and object().
  explicit Json(Array a);
  explicit Json(Object o);
  /// An array of a container's elements (std::vector<float>, std::array<std::size_t, 4>, ...).
  template <detail::JsonArrayRange R>
  Json(const R& r);
  /// An object of a container of (key, value) pairs (std::map<std::string, T>, ...), in the
  /// container's order.
  template <detail::JsonObjectRange R>
  Json(const R& r);

  /// An array: `Json::array({1, "two", 3.0})`; `Json::array()` is `[]`.
  [[nodiscard]] static Json array();
  [[nodiscard]] static Json array(std::initializer_list<Json> items);
  /// An object: `Json::object({{"k", 1}, {"v", Json::array({1, 2})}})`; `Json::object()` is
  /// `{}`. JsonError for a repeated key.
  [[nodiscard]] static Json object();
  [[nodiscard]] static Json object(std::initializer_list<JsonMember> members);

  /// Parses a strict RFC 8259 text (see core/json_reader.hpp). Also refuses duplicate keys.
  /// JsonParseError with the byte offset of the first problem.
  [[nodiscard]] static Json parse(std::string_view text, const JsonParseOptions& options = {});

  Json(const Json& other);
  Json(Json&& other) noexcept : kind_(other.kind_), v_(other.v_) { other.kind_ = Kind::null; }
  Json& operator=(const Json& other);
  Json& operator=(Json&& other) noexcept;
  ~Json();
  void swap(Json& other) noexcept {
    std::swap(kind_, other.kind_);
    std::swap(v_, other.v_);
  }

  // ---- kind -------------------------------------------------------------------------------
  [[nodiscard]] Kind kind() const noexcept { return kind_; }
  /// "null", "a boolean", "an integer", "a floating-point number", "a string", "an array",
  /// "an object" (for messages).
  [[nodiscard]] std::string_view kind_name() const noexcept;
  [[nodiscard]] bool is_null() const noexcept { return kind_ == Kind::null; }
  [[nodiscard]] bool is_bool() const noexcept { return kind_ == Kind::boolean; }
  /// Any number: integer or floating point.
  [[nodiscard]] bool is_number() const noexcept {
    return kind_ == Kind::int64 || kind_ == Kind::uint64 || kind_ == Kind::floating;
  }
  /// An integer (written without fraction or exponent, and within 64 bits).
  [[nodiscard]] bool is_integer() const noexcept {
    return kind_ == Kind::int64 || kind_ == Kind::uint64;
  }
  /// An integer in [-2^63, 2^63).
  [[nodiscard]] bool is_int64() const noexcept {
    return kind_ == Kind::int64 ||
           (kind_ == Kind::uint64 &&
            v_.u <= std::uint64_t{std::numeric_limits<std::int64_t>::max()});
  }
  /// An integer in [0, 2^64).
  [[nodiscard]] bool is_uint64() const noexcept { return kind_ == Kind::uint64; }
  /// A floating-point number (written with a fraction or an exponent, or an integer beyond 64
  /// bits).
  [[nodiscard]] bool is_double() const noexcept { return kind_ == Kind::floating; }
  [[nodiscard]] bool is_string() const noexcept { return kind_ == Kind::string; }
  [[nodiscard]] bool is_array() const noexcept { return kind_ == Kind::array; }
  [[nodiscard]] bool is_object() const noexcept { return kind_ == Kind::object; }

  // ---- typed access: JsonError naming the kind found when it is not the one asked ----------
  [[nodiscard]] bool as_bool() const;
  [[nodiscard]] std::int64_t as_int64() const;
  [[nodiscard]] std::uint64_t as_uint64() const;
  /// Any number, integers converted (rounded to nearest beyond 2^53).
  [[nodiscard]] double as_double() const;
  [[nodiscard]] const std::string& as_string() const;
  [[nodiscard]] const Array& as_array() const;
  [[nodiscard]] Array& as_array();
  /// The members in insertion order: `for (const auto& [key, value] : j.as_object())`.
  [[nodiscard]] const Object& as_object() const;
  [[nodiscard]] Object& as_object();

  /// The value as T: bool, an arithmetic type (range-checked: 300 is no uint8_t, 1e300 no
  /// float), std::string, std::string_view (into this value), Json, or a std::vector of those.
  template <class T>
  [[nodiscard]] T get() const;
  /// Member `key` of this object as T; JsonError naming `key` when it is missing or mistyped.
  template <class T>
  [[nodiscard]] T get(std::string_view key) const;

  // ---- members and elements ---------------------------------------------------------------
  /// Member `key`, or nullptr when this is not an object or has no such member.
  [[nodiscard]] const Json* find(std::string_view key) const noexcept;
  [[nodiscard]] Json* find(std::string_view key) noexcept;
  [[nodiscard]] bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }
  /// Member `key`; JsonError naming it when missing (or when this is not an object).
  [[nodiscard]] const Json& at(std::string_view key) const;
  [[nodiscard]] Json& at(std::string_view key);
  /// Element `index`; JsonError when out of range (or when this is not an array).
  [[nodiscard]] const Json& at(std::size_t index) const;
  [[nodiscard]] Json& at(std::size_t index);
  /// For building: member `key`, appended as null when absent; a null value becomes an object
  /// first. JsonError on any other kind.
  Json& operator[](std::string_view key);
  /// at(key): reading never inserts.
  const Json& operator[](std::string_view key) const { return at(key); }
  Json& operator[](std::size_t index) { return at(index); }
  const Json& operator[](std::size_t index) const { return at(index); }
  /// Appends to an array (a null value becomes an array first).
  void push_back(Json value);
  /// Removes member `key`; false when there was none.
  bool erase(std::string_view key);
  /// Elements of an array or members of an object; 0 for anything else.
  [[nodiscard]] std::size_t size() const noexcept;
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }

  // ---- text -------------------------------------------------------------------------------
  /// Compact JSON (indent < 0), or one member or element a line indented by `indent` spaces.
  /// JsonError for a NaN or infinity or a string that is not UTF-8.
  [[nodiscard]] std::string dump(int indent = -1) const;
  /// dump() appended to `out`.
  void dump_to(std::string& out, int indent = -1) const;

  friend bool operator==(const Json& a, const Json& b) noexcept { return equal(a, b); }

 private:
  [[nodiscard]] static bool equal(const Json& a, const Json& b) noexcept;
  [[noreturn]] void wrong_kind(std::string_view wanted) const;
  [[noreturn]] void out_of_range(std::string_view type) const;
  void destroy() noexcept;
  void dump_value(std::string& out, int indent, int level) const;

  Kind kind_ = Kind::null;
  union Value {
    bool b;
    std::int64_t i;
    std::uint64_t u;
    double d;
    std::string* s;
    Array* a;
    Object* o;
  } v_;
};

/// One member of a JSON object.
struct JsonMember {
  std::string key;
  Json value;
};

namespace detail {
template <class T>
inline constexpr bool json_always_false = false;
/// `e`'s message with `member "key": ` in front (Json::get(key)).
[[nodiscard]] JsonError json_member_error(std::string_view key, const JsonError& e);
}  // namespace detail

template <detail::JsonArrayRange R>
Json::Json(const R& r) : Json(Array{}) {
  for (const auto& x : r) {
    if constexpr (std::is_same_v<typename R::value_type, bool>)
      v_.a->emplace_back(static_cast<bool>(x));  // std::vector<bool> hands out proxies
    else
      v_.a->emplace_back(x);
  }
}

template <detail::JsonObjectRange R>
Json::Json(const R& r) : Json(Object{}) {
  for (const auto& m : r)
    v_.o->push_back(JsonMember{std::string(std::string_view(m.first)), Json(m.second)});
}

template <class T>
T Json::get() const {
  if constexpr (std::is_same_v<T, Json>) {
    return *this;
  } else if constexpr (std::is_same_v<T, bool>) {
    return as_bool();
  } else if constexpr (std::is_integral_v<T> && !detail::json_character<T>) {
    if constexpr (std::is_signed_v<T>) {
      const std::int64_t v = as_int64();
      if constexpr (sizeof(T) < sizeof(std::int64_t))
        if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
          out_of_range(sizeof(T) == 1 ? "int8_t" : sizeof(T) == 2 ? "int16_t" : "int32_t");
      return static_cast<T>(v);
    } else {
      const std::uint64_t v = as_uint64();
      if constexpr (sizeof(T) < sizeof(std::uint64_t))
        if (v > std::numeric_limits<T>::max())
          out_of_range(sizeof(T) == 1 ? "uint8_t" : sizeof(T) == 2 ? "uint16_t" : "uint32_t");
      return static_cast<T>(v);
    }
  } else if constexpr (std::is_floating_point_v<T>) {
    const double d = as_double();
    if constexpr (sizeof(T) < sizeof(double))
      if (d > std::numeric_limits<T>::max() || d < std::numeric_limits<T>::lowest())
        out_of_range("float");
    return static_cast<T>(d);
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
    return T(as_string());
  } else if constexpr (detail::JsonIsVector<T>::value) {
    const Array& a = as_array();
    T out;
    out.reserve(a.size());
    for (const Json& x : a) out.push_back(x.get<typename T::value_type>());
    return out;
  } else {
    static_assert(detail::json_always_false<T>,
                  "Json::get<T>: T must be bool, an arithmetic type, std::string, "
                  "std::string_view, Json, or a std::vector of those");
  }
}

template <class T>
T Json::get(std::string_view key) const {
  const Json& v = at(key);
  try {
    return v.get<T>();
  } catch (const JsonError& e) {
    throw detail::json_member_error(key, e);
  }
}

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/core/json-inl.hpp"
#endif
