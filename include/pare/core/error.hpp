// SPDX-License-Identifier: Apache-2.0
// pare — errors: one hierarchy for everything a user can get wrong at run time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
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
    std::ostringstream s;
    s << file << ": field '" << field << "' at byte " << offset << ": " << what;
    return s.str();
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

template <class... Parts>
[[nodiscard]] std::string concat(const Parts&... parts) {
  std::ostringstream s;
  (s << ... << parts);
  return s.str();
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
