// SPDX-License-Identifier: Apache-2.0
// pare — a small bounds-checked reader of the protobuf wire format (no schema, no codegen).
//
// Why our own instead of libprotobuf: ONNX needs only a handful of messages, so a reader that
// walks (field number, wire type, value) triples is ~300 lines with no code generator and no
// runtime dependency for users; and since the bytes are hostile we want every length, varint and
// nesting level checked where we can see it, with errors that carry the file, the field path and
// the byte offset (libprotobuf reports "failed to parse" and caps messages at 2 GiB).
//
// The reader never copies: length-delimited values are spans into the caller's buffer.
// Limits: a varint is at most 10 bytes (the 10th may only carry the 64th bit); a
// length-delimited value must fit inside its enclosing message; messages nest at most
// `max_depth` deep; field numbers are 1..2^29-1; group wire types (3, 4) and the reserved ones
// (6, 7) are FormatErrors.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"

namespace pare::io::detail {

enum class WireType : std::uint8_t {
  varint = 0,
  fixed64 = 1,
  length_delimited = 2,
  start_group = 3,
  end_group = 4,
  fixed32 = 5,
};

/// One field of a message as it appears on the wire.
struct ProtoField {
  std::uint32_t number = 0;
  WireType type = WireType::varint;
  std::uint64_t offset = 0;          ///< absolute file offset of the field's tag
  std::uint64_t value = 0;           ///< varint, fixed32 or fixed64 payload
  std::span<const std::byte> bytes;  ///< the payload of a length-delimited field
  std::uint64_t bytes_offset = 0;    ///< absolute file offset of `bytes`
};

/// Walks the fields of one message. `path` names the message in error messages
/// ("graph.node[3]"); offsets are absolute file offsets (`base` is the message's start).
class ProtoReader {
 public:
  static constexpr int max_depth = 64;

  ProtoReader(std::span<const std::byte> bytes, std::string file, std::string path,
              std::uint64_t base = 0, int depth = 0);

  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::uint64_t base() const noexcept { return base_; }
  [[nodiscard]] int depth() const noexcept { return depth_; }
  [[nodiscard]] bool at_end() const noexcept { return pos_ == bytes_.size(); }

  /// Reads the next field into `f`; false at the end of the message.
  bool next(ProtoField& f);

  /// A reader for the embedded message in length-delimited field `f`, named `path`.
  [[nodiscard]] ProtoReader message(const ProtoField& f, std::string path) const;

  /// Throws FormatError unless `f` has wire type `t`; `what` names the field.
  void expect(const ProtoField& f, WireType t, std::string_view what) const;

  /// The field as an int64 (varint, two's complement as protobuf's int64 and int32 are).
  [[nodiscard]] std::int64_t as_int64(const ProtoField& f, std::string_view what) const;
  /// The field as an int32: int32 values are sign-extended varints, so the value must fit.
  [[nodiscard]] std::int32_t as_int32(const ProtoField& f, std::string_view what) const;
  [[nodiscard]] float as_float(const ProtoField& f, std::string_view what) const;
  [[nodiscard]] std::string as_string(const ProtoField& f, std::string_view what) const;

  /// Appends a repeated varint field, packed (wire type 2) or not (wire type 0).
  /// The packed count is bounded by the payload size, so the vector grows only as the bytes do.
  void append_varints(const ProtoField& f, std::vector<std::int64_t>& out,
                      std::string_view what) const;

  /// Appends a repeated fixed-width field (float, double, fixed32/64), packed or not.
  template <class T>
  void append_fixed(const ProtoField& f, std::vector<T>& out, std::string_view what) const {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8);
    using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    constexpr WireType single = sizeof(T) == 4 ? WireType::fixed32 : WireType::fixed64;
    if (f.type == single) {
      out.push_back(std::bit_cast<T>(static_cast<U>(f.value)));
      return;
    }
    expect(f, WireType::length_delimited, what);
    if (f.bytes.size() % sizeof(T) != 0)
      throw FormatError(file_, std::string(what), f.bytes_offset,
                        ::pare::detail::concat("packed payload of ", f.bytes.size(),
                                               " bytes is not a multiple of ", sizeof(T)));
    const std::size_t n = f.bytes.size() / sizeof(T);
    out.reserve(out.size() + n);
    for (std::size_t i = 0; i < n; ++i) {
      U u = 0;
      for (std::size_t k = 0; k < sizeof(T); ++k)
        u |= static_cast<U>(std::to_integer<unsigned char>(f.bytes[i * sizeof(T) + k])) << (8 * k);
      out.push_back(std::bit_cast<T>(u));
    }
  }

  /// Decodes one varint at the cursor (at most 10 bytes; the 10th may only hold bit 63).
  std::uint64_t read_varint(std::string_view what);

  /// Zigzag decoding of sint32/sint64 (protobuf maps 0,-1,1,-2,... to 0,1,2,3,...).
  [[nodiscard]] static constexpr std::int64_t zigzag(std::uint64_t v) noexcept {
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1u);
  }

  [[nodiscard]] std::string field_name(std::uint32_t number) const;

 private:
  template <class U>
  U read_fixed(std::uint32_t number) {
    if (bytes_.size() - pos_ < sizeof(U))
      throw FormatError(file_, field_name(number), base_ + pos_,
                        ::pare::detail::concat("needs ", sizeof(U), " bytes but its message has ",
                                               bytes_.size() - pos_, " left"));
    U v = 0;
    for (std::size_t k = 0; k < sizeof(U); ++k)
      v |= static_cast<U>(std::to_integer<unsigned char>(bytes_[pos_ + k])) << (8 * k);
    pos_ += sizeof(U);
    return v;
  }

  std::span<const std::byte> bytes_;
  std::string file_;
  std::string path_;
  std::uint64_t base_ = 0;
  int depth_ = 0;
  std::size_t pos_ = 0;
};

}  // namespace pare::io::detail

#ifndef PARE_COMPILED_LIB
#include "pare/io/detail/protobuf-inl.hpp"
#endif
