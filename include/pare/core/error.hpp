// SPDX-License-Identifier: Apache-2.0
// pare — errors: one hierarchy for everything a user can get wrong at run time.
#pragma once

#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace pare {

/// Base of every exception pare throws on purpose; catch this to catch them all.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Two shapes disagree (a matrix-vector product, a view over too little data, ...).
class ShapeError : public Error {
 public:
  using Error::Error;
};

/// Bytes from a file or buffer are not what the format promises. The message names the file,
/// the field and the byte offset, so a user can open a hex editor at the right place.
class FormatError : public Error {
 public:
  FormatError(std::string file, std::string field, std::uint64_t offset, const std::string& what)
      : Error(compose(file, field, offset, what)),
        file_(std::move(file)),
        field_(std::move(field)),
        offset_(offset) {}

  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] const std::string& field() const noexcept { return field_; }
  [[nodiscard]] std::uint64_t offset() const noexcept { return offset_; }

 private:
  static std::string compose(const std::string& file, const std::string& field,
                             std::uint64_t offset, const std::string& what) {
    return file + ": field '" + field + "' at byte " + std::to_string(offset) + ": " + what;
  }
  std::string file_;
  std::string field_;
  std::uint64_t offset_;
};

/// A valid request pare does not (yet) implement: an ONNX op, a dtype, a CPU path.
class UnsupportedError : public Error {
 public:
  using Error::Error;
};

/// A precondition of a public function was violated (bad argument value, not a bad shape).
class ArgumentError : public Error {
 public:
  using Error::Error;
};

namespace detail {

/// An unsigned integer printed in hexadecimal (lower case, no prefix) by concat().
struct Hex {
  std::uint64_t value;
};

// Message parts are appended with <charconv> rather than a std::ostringstream: <sstream> would
// cost every file that includes pare a noticeable share of its compile time.
template <class T>
void append_part(std::string& out, const T& v) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    out += std::string_view(v);
  } else if constexpr (std::is_same_v<T, char>) {
    out += v;
  } else if constexpr (std::is_same_v<T, Hex>) {
    char buf[16];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, v.value, 16).ptr);
  } else if constexpr (std::is_same_v<T, bool>) {
    out += v ? "true" : "false";
  } else if constexpr (std::is_enum_v<T>) {
    append_part(out, static_cast<std::underlying_type_t<T>>(v));
  } else if constexpr (std::is_arithmetic_v<T>) {
    char buf[64];
    // Floating point as an ostream prints it by default (%g, 6 significant digits).
    std::to_chars_result r;
    if constexpr (std::is_floating_point_v<T>)
      r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 6);
    else
      r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  } else if constexpr (requires { v.string(); }) {
    out += v.string();  // std::filesystem::path, unquoted
  } else if constexpr (requires { to_string(v); }) {
    out += to_string(v);  // shapes and other pare types, found by argument-dependent lookup
  } else {
    static_assert(
        !sizeof(T),
        "pare error messages take strings, numbers, enums, paths and types with to_string()");
  }
}

template <class... Parts>
[[nodiscard]] std::string concat(const Parts&... parts) {
  std::string s;
  (append_part(s, parts), ...);
  return s;
}

template <class E, class... Parts>
[[noreturn]] void raise(const Parts&... parts) {
  throw E(concat(parts...));
}

}  // namespace detail
}  // namespace pare

// PARE_CHECK is always on and guards public entry points; PARE_ASSERT guards hot paths in debug
// builds only. Both may be predefined by the user (as {fmt} allows for FMT_ASSERT).
#ifndef PARE_CHECK
#define PARE_CHECK(cond, ErrorType, ...)                        \
  do {                                                          \
    if (!(cond)) ::pare::detail::raise<ErrorType>(__VA_ARGS__); \
  } while (false)
#endif

#ifndef PARE_ASSERT
#ifdef NDEBUG
#define PARE_ASSERT(cond) static_cast<void>(0)
#else
#include <cassert>
#define PARE_ASSERT(cond) assert(cond)
#endif
#endif
