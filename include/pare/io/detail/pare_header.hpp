// SPDX-License-Identifier: Apache-2.0
// pare — the .pare fixed header and the JSON schema check (docs/format.md is the spec).
//
// parse_pare_header() takes the whole file's bytes and returns the validated table of contents;
// it never reads outside the span, and allocates only in proportion to the JSON it was given
// (itself at most `pare_max_json_size` and at most the file).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pare/core/dtype.hpp"
#include "pare/core/error.hpp"
#include "pare/core/json.hpp"
#include "pare/io/detail/byte_reader.hpp"

namespace pare::io::detail {

/// "\x89PARE\r\n\x1a\n": the high byte catches 7-bit channels, CR LF and LF catch newline
/// translation either way, ^Z stops `type` on Windows (PNG's trick).
inline constexpr unsigned char pare_magic[8] = {0x89, 'P', 'A', 'R', 'E', '\r', '\n', 0x1A};
inline constexpr std::uint16_t pare_major = 1;
inline constexpr std::uint16_t pare_minor = 0;
inline constexpr std::uint64_t pare_header_size = 40;
inline constexpr std::uint64_t pare_alignment = 64;
inline constexpr std::uint64_t pare_max_json_size = std::uint64_t{256} << 20;
inline constexpr std::uint64_t pare_max_rank = 64;
/// Arrays and objects nested deeper than this are an error (the top-level object is level 1).
inline constexpr std::size_t pare_max_json_depth = 64;
/// Flag bits a reader must understand (none defined in 1.x); the high 16 bits are optional hints.
inline constexpr std::uint32_t pare_required_flags_mask = 0x0000FFFFu;

// Byte offsets inside the fixed header.
inline constexpr std::uint64_t pare_off_major = 8;
inline constexpr std::uint64_t pare_off_minor = 10;
inline constexpr std::uint64_t pare_off_flags = 12;
inline constexpr std::uint64_t pare_off_json_length = 16;
inline constexpr std::uint64_t pare_off_data_offset = 24;
inline constexpr std::uint64_t pare_off_reserved = 32;
inline constexpr std::uint64_t pare_off_header_crc = 36;

[[nodiscard]] constexpr std::uint64_t pare_align_up(std::uint64_t n) noexcept {
  return (n + pare_alignment - 1) / pare_alignment * pare_alignment;
}

/// Bytes of a tensor of `shape` and `dtype`: sub-byte types are packed along the last dimension,
/// each row starting on a fresh byte (QuantizedTensor's layout). Overflow throws FormatError.
[[nodiscard]] std::uint64_t pare_nbytes(DType dtype, std::span<const std::uint64_t> shape,
                                        const std::string& file, std::string_view field,
                                        std::uint64_t at);

/// One array as the JSON describes it, after validation.
struct PareTensorRecord {
  std::string name;
  DType dtype = DType::f32;
  std::vector<std::uint64_t> shape;
  std::uint64_t offset = 0;  ///< absolute file offset
  std::uint64_t nbytes = 0;
  std::uint32_t crc32c = 0;
  std::size_t index = 0;  ///< position in the "tensors" array
};

/// A multi-array tensor: a kind, named members (tensor names) and free-form attributes.
struct PareGroupRecord {
  std::string name;
  std::string kind;
  std::map<std::string, std::string> members;  ///< role -> tensor name
  Json attributes = Json::object();
  std::size_t index = 0;
};

struct PareHeader {
  std::uint16_t major = 0;
  std::uint16_t minor = 0;
  std::uint32_t flags = 0;
  std::uint64_t json_length = 0;
  std::uint64_t data_offset = 0;
  std::vector<PareTensorRecord> tensors;  ///< in "tensors" array order
  std::vector<PareGroupRecord> groups;
  Json graph;  ///< null when absent
  std::map<std::string, std::string> metadata;
};

/// Checks of one JSON value, each failing with the JSON path in `field`.
class PareSchema {
 public:
  explicit PareSchema(const std::string& file) : file_(file) {}

  [[noreturn]] void fail(const std::string& path, const std::string& what) const;
  const Json& member(const Json& obj, const char* key, const std::string& path) const;
  std::uint64_t unsigned_at(const Json& obj, const char* key, const std::string& path) const;
  std::string string_at(const Json& obj, const char* key, const std::string& path) const;
  static std::string kind(const Json& v) { return std::string(v.kind_name()); }

 private:
  const std::string& file_;
};

PareTensorRecord pare_parse_tensor(const PareSchema& s, const Json& t, std::size_t i,
                                   const std::string& file, std::uint64_t data_offset,
                                   std::uint64_t data_size);

PareGroupRecord pare_parse_group(
    const PareSchema& s, const Json& g, std::size_t i,
    const std::map<std::string, std::size_t, std::less<>>& tensor_index);

/// Validates the fixed header, the header CRC, the JSON and every tensor's placement.
/// Throws FormatError (UnsupportedError for a newer major version or a required flag).
[[nodiscard]] PareHeader parse_pare_header(std::span<const std::byte> bytes,
                                           const std::string& file);

/// The 40-byte fixed header for a JSON text; the CRC covers bytes [0, 36) and the JSON.
[[nodiscard]] std::array<std::byte, pare_header_size> encode_pare_header(std::string_view json,
                                                                         std::uint32_t flags = 0);

}  // namespace pare::io::detail

#ifndef PARE_COMPILED_LIB
#include "pare/io/detail/pare_header-inl.hpp"
#endif
