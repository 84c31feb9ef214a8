// SPDX-License-Identifier: Apache-2.0
// pare — a bounds-checked little-endian cursor over untrusted bytes.
//
// Every file reader parses through ByteReader: a read past the end, an offset that overflows, a
// seek outside the buffer all throw FormatError(file, field, offset, what) instead of touching
// memory. Integers are assembled byte by byte, so the host's endianness and the buffer's
// alignment never matter (compilers turn the shifts into one load on little-endian hosts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "pare/core/error.hpp"

namespace pare::io::detail {

/// Loads an unsigned little-endian integer of sizeof(U) bytes from `p` (any alignment).
template <class U>
[[nodiscard]] constexpr U load_le(const std::byte* p) noexcept {
  U v = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i)
    v = static_cast<U>(v | (static_cast<U>(std::to_integer<unsigned char>(p[i])) << (8 * i)));
  return v;
}

/// Stores `v` as sizeof(U) little-endian bytes at `p`.
template <class U>
constexpr void store_le(std::byte* p, U v) noexcept {
  for (std::size_t i = 0; i < sizeof(U); ++i) p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xFFu);
}

/// `a + b`, or FormatError naming `field` when the sum does not fit in 64 bits.
[[nodiscard]] inline std::uint64_t checked_add(std::uint64_t a, std::uint64_t b,
                                               const std::string& file, std::string_view field,
                                               std::uint64_t at) {
  if (b > std::numeric_limits<std::uint64_t>::max() - a)
    throw FormatError(file, std::string(field), at,
                      ::pare::detail::concat("offset ", a, " + size ", b, " overflows 64 bits"));
  return a + b;
}

/// `a * b`, or FormatError naming `field` when the product does not fit in 64 bits.
[[nodiscard]] inline std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b,
                                               const std::string& file, std::string_view field,
                                               std::uint64_t at) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a)
    throw FormatError(file, std::string(field), at,
                      ::pare::detail::concat(a, " * ", b, " overflows 64 bits"));
  return a * b;
}

/// A cursor over `bytes` that knows the file it came from. Offsets are relative to the start of
/// the span; `base` is added in error messages when the span is a window into a larger file
/// (a .npy entry inside an .npz archive).
class ByteReader {
 public:
  ByteReader(std::span<const std::byte> bytes, std::string file, std::uint64_t base = 0)
      : bytes_(bytes), file_(std::move(file)), base_(base) {}

  [[nodiscard]] std::uint64_t offset() const noexcept { return pos_; }
  [[nodiscard]] std::uint64_t size() const noexcept { return bytes_.size(); }
  [[nodiscard]] std::uint64_t remaining() const noexcept { return bytes_.size() - pos_; }
  [[nodiscard]] bool at_end() const noexcept { return pos_ == bytes_.size(); }
  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] std::uint64_t base() const noexcept { return base_; }
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return bytes_; }

  /// Moves the cursor to `offset` (which may equal size()).
  void seek(std::uint64_t offset, std::string_view field) {
    if (offset > bytes_.size())
      fail_at(
          pos_, field,
          ::pare::detail::concat("seek to ", base_ + offset, " past the end of the ", size_text()));
    pos_ = offset;
  }
  void skip(std::uint64_t n, std::string_view field) {
    seek(checked_add(pos_, n, file_, field, base_ + pos_), field);
  }

  [[nodiscard]] std::uint8_t read_u8(std::string_view field) {
    return read_le<std::uint8_t>(field);
  }
  [[nodiscard]] std::uint16_t read_u16(std::string_view field) {
    return read_le<std::uint16_t>(field);
  }
  [[nodiscard]] std::uint32_t read_u32(std::string_view field) {
    return read_le<std::uint32_t>(field);
  }
  [[nodiscard]] std::uint64_t read_u64(std::string_view field) {
    return read_le<std::uint64_t>(field);
  }
  [[nodiscard]] std::int64_t read_i64(std::string_view field) {
    return static_cast<std::int64_t>(read_le<std::uint64_t>(field));
  }
  [[nodiscard]] float read_f32(std::string_view field) {
    const std::uint32_t b = read_le<std::uint32_t>(field);
    float f;
    std::memcpy(&f, &b, sizeof f);
    return f;
  }
  [[nodiscard]] double read_f64(std::string_view field) {
    const std::uint64_t b = read_le<std::uint64_t>(field);
    double f;
    std::memcpy(&f, &b, sizeof f);
    return f;
  }

  /// The next `n` bytes, without copying; advances the cursor.
  [[nodiscard]] std::span<const std::byte> read_bytes(std::uint64_t n, std::string_view field) {
    auto s = bytes_at(pos_, n, field);
    pos_ += n;
    return s;
  }
  /// The next `n` bytes as a string (bytes copied verbatim, no encoding check).
  [[nodiscard]] std::string read_string(std::uint64_t n, std::string_view field) {
    auto s = read_bytes(n, field);
    return {reinterpret_cast<const char*>(s.data()), s.size()};
  }

  /// `n` bytes at absolute `offset`, without moving the cursor.
  [[nodiscard]] std::span<const std::byte> bytes_at(std::uint64_t offset, std::uint64_t n,
                                                    std::string_view field) const {
    const std::uint64_t end = checked_add(offset, n, file_, field, base_ + offset);
    if (end > bytes_.size())
      fail_at(offset, field,
              ::pare::detail::concat("needs ", n, " bytes at ", base_ + offset, " but the ",
                                     size_text()));
    return bytes_.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(n));
  }

  /// Throws FormatError for `field` at the cursor.
  [[noreturn]] void fail(std::string_view field, const std::string& what) const {
    fail_at(pos_, field, what);
  }
  /// Throws FormatError for `field` at `offset` (relative to the span).
  [[noreturn]] void fail_at(std::uint64_t offset, std::string_view field,
                            const std::string& what) const {
    throw FormatError(file_, std::string(field), base_ + offset, what);
  }

 private:
  template <class U>
  [[nodiscard]] U read_le(std::string_view field) {
    if (remaining() < sizeof(U))
      fail(field, ::pare::detail::concat("needs ", sizeof(U), " bytes at ", base_ + pos_,
                                         " but the ", size_text()));
    const U v = load_le<U>(bytes_.data() + pos_);
    pos_ += sizeof(U);
    return v;
  }
  [[nodiscard]] std::string size_text() const {
    return base_ == 0 ? ::pare::detail::concat("file ends at byte ", bytes_.size())
                      : ::pare::detail::concat("region ends at byte ", base_ + bytes_.size());
  }

  std::span<const std::byte> bytes_;
  std::string file_;
  std::uint64_t base_ = 0;
  std::uint64_t pos_ = 0;
};

}  // namespace pare::io::detail
