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
#include <cstring>
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
              std::uint64_t base = 0, int depth = 0)
      : bytes_(bytes), file_(std::move(file)), path_(std::move(path)), base_(base), depth_(depth) {
    if (depth_ > max_depth)
      throw FormatError(file_, path_, base_,
                        ::pare::detail::concat("messages nest deeper than ", max_depth, " levels"));
  }

  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::uint64_t base() const noexcept { return base_; }
  [[nodiscard]] int depth() const noexcept { return depth_; }
  [[nodiscard]] bool at_end() const noexcept { return pos_ == bytes_.size(); }

  /// Reads the next field into `f`; false at the end of the message.
  bool next(ProtoField& f) {
    if (at_end()) return false;
    f = ProtoField{};
    f.offset = base_ + pos_;
    const std::uint64_t tag = read_varint("tag");
    const auto wire = static_cast<std::uint8_t>(tag & 7u);
    const std::uint64_t number = tag >> 3;
    if (number == 0 || number > (1u << 29) - 1)
      throw FormatError(file_, path_, f.offset,
                        ::pare::detail::concat("field number ", number, " is outside 1..2^29-1"));
    f.number = static_cast<std::uint32_t>(number);
    switch (wire) {
      case 0:
        f.type = WireType::varint;
        f.value = read_varint(field_name(f.number));
        break;
      case 1:
        f.type = WireType::fixed64;
        f.value = read_fixed<std::uint64_t>(f.number);
        break;
      case 5:
        f.type = WireType::fixed32;
        f.value = read_fixed<std::uint32_t>(f.number);
        break;
      case 2: {
        f.type = WireType::length_delimited;
        const std::uint64_t n = read_varint(field_name(f.number));
        if (n > bytes_.size() - pos_)
          throw FormatError(file_, field_name(f.number), base_ + pos_,
                            ::pare::detail::concat("declares ", n, " bytes but its message has ",
                                                   bytes_.size() - pos_, " left"));
        f.bytes_offset = base_ + pos_;
        f.bytes = bytes_.subspan(pos_, static_cast<std::size_t>(n));
        pos_ += static_cast<std::size_t>(n);
        break;
      }
      case 3:
      case 4:
        throw FormatError(file_, field_name(f.number), f.offset,
                          "group wire types (3, 4) are not used by this format");
      default:
        throw FormatError(file_, field_name(f.number), f.offset,
                          ::pare::detail::concat("invalid wire type ", int{wire}));
    }
    return true;
  }

  /// A reader for the embedded message in length-delimited field `f`, named `path`.
  [[nodiscard]] ProtoReader message(const ProtoField& f, std::string path) const {
    expect(f, WireType::length_delimited, path);
    return ProtoReader(f.bytes, file_, std::move(path), f.bytes_offset, depth_ + 1);
  }

  /// Throws FormatError unless `f` has wire type `t`; `what` names the field.
  void expect(const ProtoField& f, WireType t, std::string_view what) const {
    if (f.type != t)
      throw FormatError(file_, std::string(what), f.offset,
                        ::pare::detail::concat("wire type ", static_cast<int>(f.type),
                                               ", expected ", static_cast<int>(t)));
  }

  /// The field as an int64 (varint, two's complement as protobuf's int64 and int32 are).
  [[nodiscard]] std::int64_t as_int64(const ProtoField& f, std::string_view what) const {
    expect(f, WireType::varint, what);
    return static_cast<std::int64_t>(f.value);
  }
  /// The field as an int32: int32 values are sign-extended varints, so the value must fit.
  [[nodiscard]] std::int32_t as_int32(const ProtoField& f, std::string_view what) const {
    const std::int64_t v = as_int64(f, what);
    if (v < INT32_MIN || v > INT32_MAX)
      throw FormatError(file_, std::string(what), f.offset,
                        ::pare::detail::concat("value ", v, " does not fit in int32"));
    return static_cast<std::int32_t>(v);
  }
  [[nodiscard]] float as_float(const ProtoField& f, std::string_view what) const {
    expect(f, WireType::fixed32, what);
    return std::bit_cast<float>(static_cast<std::uint32_t>(f.value));
  }
  [[nodiscard]] std::string as_string(const ProtoField& f, std::string_view what) const {
    expect(f, WireType::length_delimited, what);
    return {reinterpret_cast<const char*>(f.bytes.data()), f.bytes.size()};
  }

  /// Appends a repeated varint field, packed (wire type 2) or not (wire type 0).
  /// The packed count is bounded by the payload size, so the vector grows only as the bytes do.
  void append_varints(const ProtoField& f, std::vector<std::int64_t>& out,
                      std::string_view what) const {
    if (f.type == WireType::varint) {
      out.push_back(static_cast<std::int64_t>(f.value));
      return;
    }
    expect(f, WireType::length_delimited, what);
    ProtoReader r(f.bytes, file_, std::string(what), f.bytes_offset, depth_ + 1);
    while (!r.at_end()) out.push_back(static_cast<std::int64_t>(r.read_varint(what)));
  }

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
  std::uint64_t read_varint(std::string_view what) {
    const std::uint64_t start = pos_;
    std::uint64_t v = 0;
    for (int i = 0; i < 10; ++i) {
      if (pos_ >= bytes_.size())
        throw FormatError(file_, std::string(what), base_ + start,
                          "varint runs past the end of its message");
      const auto b = std::to_integer<std::uint8_t>(bytes_[pos_++]);
      if (i == 9 && b > 1)
        throw FormatError(file_, std::string(what), base_ + start,
                          "varint does not fit in 64 bits");
      v |= static_cast<std::uint64_t>(b & 0x7Fu) << (7 * i);
      if ((b & 0x80u) == 0) return v;
    }
    throw FormatError(file_, std::string(what), base_ + start, "varint longer than 10 bytes");
  }

  /// Zigzag decoding of sint32/sint64 (protobuf maps 0,-1,1,-2,... to 0,1,2,3,...).
  [[nodiscard]] static constexpr std::int64_t zigzag(std::uint64_t v) noexcept {
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1u);
  }

  [[nodiscard]] std::string field_name(std::uint32_t number) const {
    return ::pare::detail::concat(path_, ".#", number);
  }

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
