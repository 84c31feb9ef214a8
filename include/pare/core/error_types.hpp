// SPDX-License-Identifier: Apache-2.0
// pare — the exception classes alone, for headers that throw but compose no messages from
// arbitrary types (core/json.hpp): no <sstream>. Everything else includes core/error.hpp, which
// adds message composition (detail::concat) and PARE_CHECK / PARE_ASSERT.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
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
      : Error(file + ": field '" + field + "' at byte " + std::to_string(offset) + ": " + what),
        file_(std::move(file)),
        field_(std::move(field)),
        offset_(offset) {}

  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] const std::string& field() const noexcept { return field_; }
  [[nodiscard]] std::uint64_t offset() const noexcept { return offset_; }

 private:
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

}  // namespace pare
