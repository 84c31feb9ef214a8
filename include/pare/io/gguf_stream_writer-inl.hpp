// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/gguf_stream_writer.hpp: compiled once into pare::compiled, or
// included by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <string_view>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/float16.hpp"
#include "pare/io/atomic_write.hpp"
#include "pare/io/detail/gguf_quants.hpp"
#include "pare/io/detail/little_endian.hpp"
#include "pare/io/gguf_stream_writer.hpp"

namespace pare::io::detail {

inline void gguf_check_depth(const GgufValue& v, const std::string& key, int depth = 0) {
  const auto* a = v.get_if<GgufArray>();
  if (a == nullptr) return;
  PARE_CHECK(depth < GgufCodec::max_depth, ArgumentError, "write_gguf: metadata '", key,
             "' nests arrays deeper than ", GgufCodec::max_depth, " levels");
  for (const auto& item : a->items()) gguf_check_depth(item, key, depth + 1);
}

/// Converts `values` to `type` in slices of `chunk` elements and hands each slice's bytes on.
template <class Sink>
void gguf_encode_values(GgmlType type, std::span<const float> values, Sink&& sink) {
  constexpr std::size_t chunk = 8192;  // a multiple of 32: whole blocks per slice
  std::vector<std::byte> buf;
  for (std::size_t i = 0; i < values.size(); i += chunk) {
    const auto part = values.subspan(i, std::min(chunk, values.size() - i));
    switch (type) {
      case GgmlType::f32:
        sink(std::as_bytes(part));
        continue;
      case GgmlType::f16:
        buf.resize(part.size() * 2);
        for (std::size_t k = 0; k < part.size(); ++k)
          store_le<std::uint16_t>(buf.data() + 2 * k, f16(part[k]).bits());
        break;
      default:
        buf.resize(part.size() / 32 * (type == GgmlType::q8_0 ? 34 : 18));
        gguf_quantize(type, part, buf);
        break;
    }
    sink(std::span<const std::byte>(buf));
  }
}

}  // namespace pare::io::detail

namespace pare::io {

PARE_INLINE GgufStreamWriter::GgufStreamWriter(const std::filesystem::path& path,
                                               const GgufMetadata& metadata,
                                               std::vector<GgufTensorSpec> tensors)
    : path_(path.string()), specs_(std::move(tensors)) {
  for (const auto& e : metadata) {
    PARE_CHECK(!e.key.empty(), ArgumentError, "write_gguf: empty metadata key");
    detail::gguf_check_depth(e.value, e.key);
  }
  if (const auto* a = metadata.find("general.alignment")) {
    const auto* v = a->get_if<std::uint32_t>();
    PARE_CHECK(v != nullptr && *v != 0 && (*v & (*v - 1)) == 0, ArgumentError,
               "write_gguf: general.alignment must be a u32 power of two");
    alignment_ = *v;
  }
  auto pad = [&](std::uint64_t n) { return (alignment_ - n % alignment_) % alignment_; };

  std::vector<std::byte> header(4);
  std::memcpy(header.data(), "GGUF", 4);
  GgufCodec::write_u32(header, 3);
  GgufCodec::write_u64(header, specs_.size());
  GgufCodec::write_u64(header, metadata.size());
  for (const auto& e : metadata) {
    GgufCodec::write_string(header, e.key);
    GgufCodec::write_u32(header, static_cast<std::uint32_t>(e.value.type()));
    GgufCodec::write_value(header, e.value);
  }
  std::map<std::string_view, int> names;
  std::uint64_t offset = 0;
  constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  for (const auto& t : specs_) {
    PARE_CHECK(!t.name.empty() && t.name.size() < 64, ArgumentError, "write_gguf: tensor name '",
               t.name, "' must have 1 to 63 bytes");
    PARE_CHECK(names.emplace(t.name, 0).second, ArgumentError,
               "write_gguf: duplicate tensor name '", t.name, "'");
    PARE_CHECK(!t.shape.empty() && t.shape.size() <= 4, ArgumentError, "write_gguf: tensor '",
               t.name, "' has rank ", t.shape.size(), "; GGUF stores 1 to 4 dimensions");
    const auto info = ggml_type_info(t.type);
    PARE_CHECK(info.has_value(), ArgumentError, "write_gguf: tensor '", t.name, "': ", name(t.type),
               " is not a ggml type");
    std::uint64_t count = 1;
    for (auto d : t.shape) {
      PARE_CHECK(d == 0 || count <= max / d, ArgumentError, "write_gguf: tensor '", t.name,
                 "': element count overflows");
      count *= d;
    }
    PARE_CHECK(t.shape.back() % info->block_size == 0, ArgumentError, "write_gguf: tensor '",
               t.name, "': row length ", t.shape.back(), " is not a multiple of ", info->name,
               "'s block size ", info->block_size);
    const std::uint64_t bytes = count / info->block_size * info->type_size;
    PARE_CHECK(bytes <= max / 2 && offset <= max / 2 - bytes - alignment_, ArgumentError,
               "write_gguf: tensor '", t.name, "': file size overflows");
    GgufCodec::write_string(header, t.name);
    GgufCodec::write_u32(header, static_cast<std::uint32_t>(t.shape.size()));
    for (std::size_t d = t.shape.size(); d-- > 0;) GgufCodec::write_u64(header, t.shape[d]);
    GgufCodec::write_u32(header, static_cast<std::uint32_t>(t.type));
    GgufCodec::write_u64(header, offset);
    sizes_.push_back(bytes);
    offset += bytes + pad(bytes);
  }
  header.resize(header.size() + pad(header.size()), std::byte{0});
  file_size_ = header.size() + offset;

  file_ = std::make_unique<detail::AtomicFile>(path);
  file_->sink().write(header);
  advance();
}

PARE_INLINE GgufStreamWriter::~GgufStreamWriter() = default;

PARE_INLINE std::uint64_t GgufStreamWriter::remaining() const noexcept {
  return current_ < sizes_.size() ? sizes_[current_] - done_ : 0;
}

PARE_INLINE std::uint64_t GgufStreamWriter::bytes_written() const noexcept {
  return file_ ? file_->sink().position() : 0;
}

// Pads and moves past every complete tensor (zero-byte tensors complete at once).
PARE_INLINE void GgufStreamWriter::advance() {
  while (current_ < sizes_.size() && done_ == sizes_[current_]) {
    const std::uint64_t n = sizes_[current_];
    file_->sink().fill(static_cast<std::size_t>((alignment_ - n % alignment_) % alignment_),
                       std::byte{0});
    ++current_;
    done_ = 0;
  }
}

PARE_INLINE void GgufStreamWriter::write(std::span<const std::byte> bytes) {
  PARE_CHECK(!finished_, ArgumentError, "GgufStreamWriter(", path_, "): write after finish()");
  if (bytes.empty()) return;
  PARE_CHECK(current_ < specs_.size(), ArgumentError, "GgufStreamWriter(", path_,
             "): ", bytes.size(), " bytes after the last tensor is complete");
  PARE_CHECK(bytes.size() <= remaining(), ArgumentError, "GgufStreamWriter(", path_, "): tensor '",
             specs_[current_].name, "' needs ", remaining(), " more bytes, got ", bytes.size());
  try {
    file_->sink().write(bytes);
  } catch (...) {
    broken_ = true;
    throw;
  }
  done_ += bytes.size();
  advance();
}

PARE_INLINE void GgufStreamWriter::write_floats(std::span<const float> values) {
  PARE_CHECK(!finished_, ArgumentError, "GgufStreamWriter(", path_, "): write after finish()");
  if (values.empty()) return;
  PARE_CHECK(current_ < specs_.size(), ArgumentError, "GgufStreamWriter(", path_,
             "): ", values.size(), " values after the last tensor is complete");
  const GgufTensorSpec& t = specs_[current_];
  PARE_CHECK(t.type == GgmlType::f32 || t.type == GgmlType::f16 || t.type == GgmlType::q8_0 ||
                 t.type == GgmlType::q4_0,
             UnsupportedError, "write_gguf: tensor '", t.name,
             "': pare encodes floats as f32, f16, q8_0 or q4_0, not ", name(t.type),
             "; pass packed bytes instead");
  const auto info = *ggml_type_info(t.type);
  PARE_CHECK(values.size() % info.block_size == 0 && done_ % info.type_size == 0, ArgumentError,
             "GgufStreamWriter(", path_, "): tensor '", t.name, "' takes whole blocks of ",
             info.block_size, " values, got ", values.size(), " values at byte ", done_);
  const std::uint64_t bytes = values.size() / info.block_size * info.type_size;
  PARE_CHECK(bytes <= remaining(), ArgumentError, "GgufStreamWriter(", path_, "): tensor '", t.name,
             "' needs ", remaining() / info.type_size * info.block_size, " more values, got ",
             values.size());
  try {
    detail::gguf_encode_values(t.type, values, [&](std::span<const std::byte> b) {
      file_->sink().write(b);
      done_ += b.size();
    });
  } catch (...) {
    broken_ = true;  // part of the values may be in the file: finish() must refuse
    throw;
  }
  advance();
}

PARE_INLINE void GgufStreamWriter::finish() {
  PARE_CHECK(!finished_, ArgumentError, "GgufStreamWriter(", path_, "): finish() twice");
  PARE_CHECK(!broken_, ArgumentError, "GgufStreamWriter(", path_,
             "): an earlier write failed; the file is incomplete");
  PARE_CHECK(current_ == specs_.size(), ArgumentError, "GgufStreamWriter(", path_, "): tensor '",
             current_ < specs_.size() ? specs_[current_].name : std::string(), "' got ", done_,
             " of its ", remaining() + done_, " bytes");
  file_->commit();
  finished_ = true;
}

}  // namespace pare::io
