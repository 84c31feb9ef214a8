// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/detail/protobuf.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <cstring>

#include "pare/core/config.hpp"
#include "pare/io/detail/protobuf.hpp"

namespace pare::io::detail {

PARE_INLINE ProtoReader::ProtoReader(std::span<const std::byte> bytes, std::string file,
                                     std::string path, std::uint64_t base, int depth)
    : bytes_(bytes), file_(std::move(file)), path_(std::move(path)), base_(base), depth_(depth) {
  if (depth_ > max_depth)
    throw FormatError(file_, path_, base_,
                      ::pare::detail::concat("messages nest deeper than ", max_depth, " levels"));
}

PARE_INLINE bool ProtoReader::next(ProtoField& f) {
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

PARE_INLINE ProtoReader ProtoReader::message(const ProtoField& f, std::string path) const {
  expect(f, WireType::length_delimited, path);
  return ProtoReader(f.bytes, file_, std::move(path), f.bytes_offset, depth_ + 1);
}

PARE_INLINE void ProtoReader::expect(const ProtoField& f, WireType t, std::string_view what) const {
  if (f.type != t)
    throw FormatError(file_, std::string(what), f.offset,
                      ::pare::detail::concat("wire type ", static_cast<int>(f.type), ", expected ",
                                             static_cast<int>(t)));
}

PARE_INLINE std::int64_t ProtoReader::as_int64(const ProtoField& f, std::string_view what) const {
  expect(f, WireType::varint, what);
  return static_cast<std::int64_t>(f.value);
}

PARE_INLINE std::int32_t ProtoReader::as_int32(const ProtoField& f, std::string_view what) const {
  const std::int64_t v = as_int64(f, what);
  if (v < INT32_MIN || v > INT32_MAX)
    throw FormatError(file_, std::string(what), f.offset,
                      ::pare::detail::concat("value ", v, " does not fit in int32"));
  return static_cast<std::int32_t>(v);
}

PARE_INLINE float ProtoReader::as_float(const ProtoField& f, std::string_view what) const {
  expect(f, WireType::fixed32, what);
  return std::bit_cast<float>(static_cast<std::uint32_t>(f.value));
}

PARE_INLINE std::string ProtoReader::as_string(const ProtoField& f, std::string_view what) const {
  expect(f, WireType::length_delimited, what);
  return {reinterpret_cast<const char*>(f.bytes.data()), f.bytes.size()};
}

PARE_INLINE void ProtoReader::append_varints(const ProtoField& f, std::vector<std::int64_t>& out,
                                             std::string_view what) const {
  if (f.type == WireType::varint) {
    out.push_back(static_cast<std::int64_t>(f.value));
    return;
  }
  expect(f, WireType::length_delimited, what);
  ProtoReader r(f.bytes, file_, std::string(what), f.bytes_offset, depth_ + 1);
  while (!r.at_end()) out.push_back(static_cast<std::int64_t>(r.read_varint(what)));
}

PARE_INLINE std::uint64_t ProtoReader::read_varint(std::string_view what) {
  const std::uint64_t start = pos_;
  std::uint64_t v = 0;
  for (int i = 0; i < 10; ++i) {
    if (pos_ >= bytes_.size())
      throw FormatError(file_, std::string(what), base_ + start,
                        "varint runs past the end of its message");
    const auto b = std::to_integer<std::uint8_t>(bytes_[pos_++]);
    if (i == 9 && b > 1)
      throw FormatError(file_, std::string(what), base_ + start, "varint does not fit in 64 bits");
    v |= static_cast<std::uint64_t>(b & 0x7Fu) << (7 * i);
    if ((b & 0x80u) == 0) return v;
  }
  throw FormatError(file_, std::string(what), base_ + start, "varint longer than 10 bytes");
}

PARE_INLINE std::string ProtoReader::field_name(std::uint32_t number) const {
  return ::pare::detail::concat(path_, ".#", number);
}

}  // namespace pare::io::detail
