// SPDX-License-Identifier: Apache-2.0
// pare — definitions for core/json.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pare/core/json.hpp"
#include "pare/core/json_reader.hpp"

namespace pare {

namespace detail {

/// At most `max` bytes of `s`, cut at a UTF-8 character boundary (for messages).
[[nodiscard]] inline std::string_view json_prefix(std::string_view s, std::size_t max = 64) {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

PARE_INLINE JsonError json_member_error(std::string_view key, const JsonError& e) {
  return JsonError("member \"" + std::string(json_prefix(key)) + "\": " + e.what());
}

inline void json_append_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t run = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence_length(s, i);
      if (n == 0)
        throw JsonError("cannot write a string that is not valid UTF-8 (at byte " +
                        std::to_string(i) + " of the string)");
      i += n;
      continue;
    }
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out.append(s.data() + run, i - run);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        constexpr char hex[] = "0123456789abcdef";
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
      }
    }
    run = ++i;
  }
  out.append(s.data() + run, i - run);
  out += '"';
}

// The shortest digits that read back to `d` (std::to_chars), laid out as nlohmann::json (and so
// every .pare file written so far) does: fixed notation while the decimal point falls within
// 15 digits of the first (with ".0" on integral values), else d.ddde±XX with at least two
// exponent digits.
inline void json_append_double(std::string& out, double d) {
  if (!(d - d == 0))  // NaN and infinities: d - d is NaN
    throw JsonError(d != d ? "cannot write NaN as JSON" : "cannot write an infinity as JSON");
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  const char* p = buf;
  if (*p == '-') {
    out += '-';
    ++p;
  }
  char digits[24];
  int k = 0;
  for (; *p != 'e'; ++p)
    if (*p != '.') digits[k++] = *p;
  ++p;
  const bool negative_exponent = *p++ == '-';
  int e = 0;
  for (; p < r.ptr; ++p) e = e * 10 + (*p - '0');
  if (negative_exponent) e = -e;
  const int n = e + 1;  // digits[0..n) come before the decimal point
  const auto count = [](int x) { return static_cast<std::size_t>(x); };
  if (k <= n && n <= 15) {
    out.append(digits, count(k));
    out.append(count(n - k), '0');
    out += ".0";
  } else if (0 < n && n <= 15) {
    out.append(digits, count(n));
    out += '.';
    out.append(digits + n, count(k - n));
  } else if (-4 < n && n <= 0) {
    out += "0.";
    out.append(count(-n), '0');
    out.append(digits, count(k));
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits + 1, count(k - 1));
    }
    const int x = n - 1 < 0 ? 1 - n : n - 1;
    out += n - 1 < 0 ? "e-" : "e+";
    if (x < 10) out += '0';
    out += std::to_string(x);
  }
}

template <class I>
void json_append_integer(std::string& out, I v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

/// Throws JsonParseError at the later of two equal keys among an object's members.
inline void json_check_unique(const Json::Object& m, const std::size_t* key_offsets,
                              const JsonReader& reader) {
  const std::size_t n = m.size();
  const auto fail = [&](std::size_t i) {
    reader.fail_at(key_offsets[i], "duplicate key \"" + std::string(json_prefix(m[i].key)) + "\"");
  };
  if (n <= 16) {
    for (std::size_t i = 1; i < n; ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (m[i].key == m[j].key) fail(i);
    return;
  }
  // Heap sort of member indices by (key, index): n log n for any input, and no <algorithm>.
  std::vector<std::size_t> idx(n);
  for (std::size_t i = 0; i < n; ++i) idx[i] = i;
  const auto less = [&](std::size_t a, std::size_t b) {
    const int c = m[a].key.compare(m[b].key);
    return c < 0 || (c == 0 && a < b);
  };
  const auto sift = [&](std::size_t root, std::size_t end) {
    for (;;) {
      std::size_t child = 2 * root + 1;
      if (child >= end) return;
      if (child + 1 < end && less(idx[child], idx[child + 1])) ++child;
      if (!less(idx[root], idx[child])) return;
      std::swap(idx[root], idx[child]);
      root = child;
    }
  };
  for (std::size_t s = n / 2; s-- > 0;) sift(s, n);
  for (std::size_t end = n; end-- > 1;) {
    std::swap(idx[0], idx[end]);
    sift(0, end);
  }
  for (std::size_t k = 0; k + 1 < n; ++k)
    if (m[idx[k]].key == m[idx[k + 1]].key) fail(idx[k + 1]);
}

}  // namespace detail

// ---- construction ---------------------------------------------------------------------------

PARE_INLINE Json::Json(const char* s) : Json(std::string(s)) {}
PARE_INLINE Json::Json(std::string_view s) : Json(std::string(s)) {}
PARE_INLINE Json::Json(std::string s) : kind_(Kind::string) {
  v_.s = new std::string(std::move(s));
}
PARE_INLINE Json::Json(Array a) : kind_(Kind::array) { v_.a = new Array(std::move(a)); }
PARE_INLINE Json::Json(Object o) : kind_(Kind::object) { v_.o = new Object(std::move(o)); }

PARE_INLINE Json Json::array() { return Json(Array{}); }
PARE_INLINE Json Json::array(std::initializer_list<Json> items) { return Json(Array(items)); }
PARE_INLINE Json Json::object() { return Json(Object{}); }
PARE_INLINE Json Json::object(std::initializer_list<JsonMember> members) {
  Json j = object();
  j.v_.o->reserve(members.size());
  for (const JsonMember& m : members) {
    if (j.find(m.key) != nullptr)
      throw JsonError("Json::object: key \"" + std::string(detail::json_prefix(m.key)) +
                      "\" given twice");
    j.v_.o->push_back(m);
  }
  return j;
}

PARE_INLINE Json::Json(const Json& other) : kind_(other.kind_), v_(other.v_) {
  switch (kind_) {
    case Kind::string:
      v_.s = new std::string(*other.v_.s);
      break;
    case Kind::array:
      v_.a = new Array(*other.v_.a);
      break;
    case Kind::object:
      v_.o = new Object(*other.v_.o);
      break;
    default:
      break;
  }
}

// Both assignments build the new value before dropping the old, so `j = j["child"]` and
// `j = std::move(j["child"])` work.
PARE_INLINE Json& Json::operator=(const Json& other) {
  Json copy(other);
  swap(copy);
  return *this;
}

PARE_INLINE Json& Json::operator=(Json&& other) noexcept {
  Json moved(std::move(other));
  swap(moved);
  return *this;
}

PARE_INLINE Json::~Json() { destroy(); }

PARE_INLINE void Json::destroy() noexcept {
  switch (kind_) {
    case Kind::string:
      delete v_.s;
      break;
    case Kind::array:
      delete v_.a;
      break;
    case Kind::object:
      delete v_.o;
      break;
    default:
      break;
  }
  kind_ = Kind::null;
}

// ---- kind and typed access ------------------------------------------------------------------

PARE_INLINE std::string_view Json::kind_name() const noexcept {
  switch (kind_) {
    case Kind::null:
      return "null";
    case Kind::boolean:
      return "a boolean";
    case Kind::int64:
    case Kind::uint64:
      return "an integer";
    case Kind::floating:
      return "a floating-point number";
    case Kind::string:
      return "a string";
    case Kind::array:
      return "an array";
    case Kind::object:
      return "an object";
  }
  return "?";
}

PARE_INLINE void Json::wrong_kind(std::string_view wanted) const {
  throw JsonError("expected " + std::string(wanted) + ", found " + std::string(kind_name()));
}

PARE_INLINE void Json::out_of_range(std::string_view type) const {
  std::string text;
  if (kind_ == Kind::floating && !(v_.d - v_.d == 0))
    text = "a non-finite number";
  else
    dump_value(text, -1, 0);
  throw JsonError(text + " does not fit in " + std::string(type));
}

PARE_INLINE bool Json::as_bool() const {
  if (kind_ != Kind::boolean) wrong_kind("a boolean");
  return v_.b;
}

PARE_INLINE std::int64_t Json::as_int64() const {
  if (kind_ == Kind::int64) return v_.i;
  if (kind_ != Kind::uint64) wrong_kind("an integer");
  if (!is_int64()) out_of_range("int64_t");
  return static_cast<std::int64_t>(v_.u);
}

PARE_INLINE std::uint64_t Json::as_uint64() const {
  if (kind_ == Kind::uint64) return v_.u;
  if (kind_ == Kind::int64) out_of_range("uint64_t");
  wrong_kind("a non-negative integer");
}

PARE_INLINE double Json::as_double() const {
  switch (kind_) {
    case Kind::floating:
      return v_.d;
    case Kind::int64:
      return static_cast<double>(v_.i);
    case Kind::uint64:
      return static_cast<double>(v_.u);
    default:
      wrong_kind("a number");
  }
}

PARE_INLINE const std::string& Json::as_string() const {
  if (kind_ != Kind::string) wrong_kind("a string");
  return *v_.s;
}

PARE_INLINE const Json::Array& Json::as_array() const {
  if (kind_ != Kind::array) wrong_kind("an array");
  return *v_.a;
}

PARE_INLINE Json::Array& Json::as_array() {
  if (kind_ != Kind::array) wrong_kind("an array");
  return *v_.a;
}

PARE_INLINE const Json::Object& Json::as_object() const {
  if (kind_ != Kind::object) wrong_kind("an object");
  return *v_.o;
}

PARE_INLINE Json::Object& Json::as_object() {
  if (kind_ != Kind::object) wrong_kind("an object");
  return *v_.o;
}

// ---- members and elements -------------------------------------------------------------------

PARE_INLINE const Json* Json::find(std::string_view key) const noexcept {
  if (kind_ != Kind::object) return nullptr;
  for (const JsonMember& m : *v_.o)
    if (m.key == key) return &m.value;
  return nullptr;
}

PARE_INLINE Json* Json::find(std::string_view key) noexcept {
  return const_cast<Json*>(static_cast<const Json&>(*this).find(key));
}

PARE_INLINE const Json& Json::at(std::string_view key) const {
  if (kind_ != Kind::object)
    throw JsonError("member \"" + std::string(detail::json_prefix(key)) + "\" asked of " +
                    std::string(kind_name()) + ", not an object");
  if (const Json* v = find(key)) return *v;
  throw JsonError("member \"" + std::string(detail::json_prefix(key)) + "\" is missing");
}

PARE_INLINE Json& Json::at(std::string_view key) {
  return const_cast<Json&>(static_cast<const Json&>(*this).at(key));
}

PARE_INLINE const Json& Json::at(std::size_t index) const {
  if (kind_ != Kind::array)
    throw JsonError("element " + std::to_string(index) + " asked of " + std::string(kind_name()) +
                    ", not an array");
  if (index >= v_.a->size())
    throw JsonError("element " + std::to_string(index) + " is past the end of an array of " +
                    std::to_string(v_.a->size()));
  return (*v_.a)[index];
}

PARE_INLINE Json& Json::at(std::size_t index) {
  return const_cast<Json&>(static_cast<const Json&>(*this).at(index));
}

PARE_INLINE Json& Json::operator[](std::string_view key) {
  if (kind_ == Kind::null) *this = object();
  if (kind_ != Kind::object)
    throw JsonError("member \"" + std::string(detail::json_prefix(key)) + "\" set on " +
                    std::string(kind_name()) + ", not an object");
  if (Json* v = find(key)) return *v;
  v_.o->push_back(JsonMember{std::string(key), Json()});
  return v_.o->back().value;
}

PARE_INLINE void Json::push_back(Json value) {
  if (kind_ == Kind::null) *this = array();
  if (kind_ != Kind::array) wrong_kind("an array (push_back)");
  v_.a->push_back(std::move(value));
}

PARE_INLINE bool Json::erase(std::string_view key) {
  if (kind_ != Kind::object) return false;
  for (auto it = v_.o->begin(); it != v_.o->end(); ++it)
    if (it->key == key) {
      v_.o->erase(it);
      return true;
    }
  return false;
}

PARE_INLINE std::size_t Json::size() const noexcept {
  if (kind_ == Kind::array) return v_.a->size();
  if (kind_ == Kind::object) return v_.o->size();
  return 0;
}

PARE_INLINE bool Json::equal(const Json& a, const Json& b) noexcept {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case Kind::null:
      return true;
    case Kind::boolean:
      return a.v_.b == b.v_.b;
    case Kind::int64:
      return a.v_.i == b.v_.i;
    case Kind::uint64:
      return a.v_.u == b.v_.u;
    case Kind::floating:
      return a.v_.d == b.v_.d;
    case Kind::string:
      return *a.v_.s == *b.v_.s;
    case Kind::array:
      return *a.v_.a == *b.v_.a;
    case Kind::object: {
      const Object &x = *a.v_.o, &y = *b.v_.o;
      if (x.size() != y.size()) return false;
      for (std::size_t k = 0; k < x.size(); ++k)
        if (x[k].key != y[k].key || !equal(x[k].value, y[k].value)) return false;
      return true;
    }
  }
  return false;
}

// ---- text -----------------------------------------------------------------------------------

PARE_INLINE std::string Json::dump(int indent) const {
  std::string out;
  dump_value(out, indent, 0);
  return out;
}

PARE_INLINE void Json::dump_to(std::string& out, int indent) const { dump_value(out, indent, 0); }

PARE_INLINE void Json::dump_value(std::string& out, int indent, int level) const {
  const auto newline = [&](int lvl) {
    out += '\n';
    out.append(static_cast<std::size_t>(indent) * static_cast<std::size_t>(lvl), ' ');
  };
  switch (kind_) {
    case Kind::null:
      out += "null";
      return;
    case Kind::boolean:
      out += v_.b ? "true" : "false";
      return;
    case Kind::int64:
      detail::json_append_integer(out, v_.i);
      return;
    case Kind::uint64:
      detail::json_append_integer(out, v_.u);
      return;
    case Kind::floating:
      detail::json_append_double(out, v_.d);
      return;
    case Kind::string:
      detail::json_append_string(out, *v_.s);
      return;
    case Kind::array: {
      out += '[';
      const Array& a = *v_.a;
      for (std::size_t k = 0; k < a.size(); ++k) {
        if (k > 0) out += ',';
        if (indent >= 0) newline(level + 1);
        a[k].dump_value(out, indent, level + 1);
      }
      if (indent >= 0 && !a.empty()) newline(level);
      out += ']';
      return;
    }
    case Kind::object: {
      out += '{';
      const Object& o = *v_.o;
      for (std::size_t k = 0; k < o.size(); ++k) {
        if (k > 0) out += ',';
        if (indent >= 0) newline(level + 1);
        detail::json_append_string(out, o[k].key);
        out += indent >= 0 ? ": " : ":";
        o[k].value.dump_value(out, indent, level + 1);
      }
      if (indent >= 0 && !o.empty()) newline(level);
      out += '}';
      return;
    }
  }
}

PARE_INLINE Json Json::parse(std::string_view text, const JsonParseOptions& options) {
  using Token = JsonReader::Token;
  JsonReader reader(text, options);
  Json root;
  // The containers being filled, innermost last. Each points into its parent's storage, which
  // does not move while the child is open: only the innermost container grows.
  std::vector<Json*> open;
  std::vector<std::size_t> key_offsets;  // of every member of the open objects, for errors
  std::vector<std::size_t> first_key;    // per open object: its first entry in key_offsets
  const auto slot = [&]() -> Json& {
    if (open.empty()) return root;
    Json& c = *open.back();
    if (c.kind_ == Kind::array) return c.v_.a->emplace_back();
    return c.v_.o->back().value;  // the key token appended the member
  };
  for (;;) {
    switch (reader.next()) {
      case Token::begin_object: {
        Json& s = slot();
        s = object();
        open.push_back(&s);
        first_key.push_back(key_offsets.size());
        break;
      }
      case Token::begin_array: {
        Json& s = slot();
        s = array();
        open.push_back(&s);
        break;
      }
      case Token::end_object:
        detail::json_check_unique(*open.back()->v_.o, key_offsets.data() + first_key.back(),
                                  reader);
        key_offsets.resize(first_key.back());
        first_key.pop_back();
        open.pop_back();
        break;
      case Token::end_array:
        open.pop_back();
        break;
      case Token::key:
        open.back()->v_.o->push_back(JsonMember{std::move(reader.string()), Json()});
        key_offsets.push_back(reader.offset());
        break;
      case Token::null:
        (void)slot();
        break;
      case Token::boolean:
        slot() = Json(reader.boolean());
        break;
      case Token::int64:
        slot() = Json(reader.int64());
        break;
      case Token::uint64:
        slot() = Json(reader.uint64());
        break;
      case Token::floating:
        slot() = Json(reader.floating());
        break;
      case Token::string:
        slot() = Json(std::move(reader.string()));
        break;
      case Token::end:
        return root;
    }
  }
}

}  // namespace pare
