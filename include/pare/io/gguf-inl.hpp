// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/gguf.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/float16.hpp"
#include "pare/io/atomic_write.hpp"
#include "pare/io/detail/gguf_quants.hpp"
#include "pare/io/gguf.hpp"

namespace pare::io {

PARE_INLINE const GgufTensorInfo& GgufFile::info(std::string_view name) const {
  auto it = index_.find(name);
  PARE_CHECK(it != index_.end(), ArgumentError, file_.name(), " has no tensor '", name, "'");
  return tensors_[it->second];
}

PARE_INLINE std::span<const std::byte> GgufFile::raw(std::string_view name) const {
  const GgufTensorInfo& i = info(name);
  return file_.bytes().subspan(static_cast<std::size_t>(i.file_offset),
                               static_cast<std::size_t>(i.byte_size));
}

PARE_INLINE Tensor<float, 2> GgufFile::dequantize(std::string_view name) const {
  const GgufTensorInfo& i = info(name);
  Tensor<float, 2> out(Shape<2>{i.rows(), i.row_length()});
  decode(i, out.span());
  return out;
}

PARE_INLINE void GgufFile::decode(const GgufTensorInfo& i, std::span<float> out) const {
  const auto t = *ggml_type_info(i.type);  // parse() admitted only known types
  if (!t.dequantizable)
    throw UnsupportedError(
        ::pare::detail::concat(file_.name(), ": tensor '", i.name, "' is ", t.name,
                               ", which pare cannot dequantize; raw() gives its blocks"));
  detail::gguf_dequantize_unchecked(i.type, file_.bytes().data() + i.file_offset, out.data(),
                                    out.size());
}

PARE_INLINE void GgufFile::parse() {
  const std::string& fname = file_.name();
  detail::ByteReader r(file_.bytes(), fname);
  const auto magic = r.read_bytes(4, "magic");
  if (std::memcmp(magic.data(), "GGUF", 4) != 0)
    r.fail_at(0, "magic", "not a GGUF file (magic is not \"GGUF\")");
  version_ = r.read_u32("version");
  if (version_ == 0) r.fail_at(4, "version", "version 0 does not exist");
  if ((version_ & 0xFFFFu) == 0)
    throw UnsupportedError(
        ::pare::detail::concat(fname, ": version field reads ", version_,
                               ": a big-endian GGUF file, which pare does not read"));
  if (version_ == 1)
    throw UnsupportedError(
        fname + ": GGUF version 1 (32-bit counts) is obsolete; pare reads versions 2 and 3");
  if (version_ > 3)
    throw UnsupportedError(::pare::detail::concat(fname, ": GGUF version ", version_,
                                                  " is newer than pare reads (2 and 3)"));
  const std::uint64_t n_tensors = r.read_u64("tensor_count");
  const std::uint64_t n_kv = r.read_u64("metadata_kv_count");
  // Smallest possible key/value (key length, 1-byte key, type, 1-byte value) and tensor info
  // (name length, n_dims, type, offset): counts the remaining bytes cannot hold are lies.
  constexpr std::uint64_t min_kv = 8 + 1 + 4 + 1, min_info = 8 + 4 + 4 + 8;
  if (n_kv > r.remaining() / min_kv)
    r.fail_at(16, "metadata_kv_count",
              ::pare::detail::concat(n_kv, " key/value pairs cannot fit in the ", r.remaining(),
                                     " bytes left"));
  if (n_tensors > r.remaining() / min_info || n_tensors * min_info > r.remaining() - n_kv * min_kv)
    r.fail_at(8, "tensor_count",
              ::pare::detail::concat(n_tensors, " tensor infos cannot fit in the ", r.remaining(),
                                     " bytes left after ", n_kv, " key/value pairs"));

  metadata_.set_file(fname);
  for (std::uint64_t k = 0; k < n_kv; ++k) {
    const std::uint64_t at = r.offset();
    const std::string field = ::pare::detail::concat("metadata key #", k);
    std::string key = GgufCodec::read_string(r, field);
    if (key.empty()) r.fail_at(at, field, "metadata key is empty");
    if (metadata_.contains(key)) r.fail_at(at, key, "duplicate metadata key");
    const GgufValueType type = GgufCodec::read_type(r, key);
    GgufValue value = GgufCodec::read_value(r, type, key);
    metadata_.set(std::move(key), std::move(value), at);
  }
  alignment_ = default_alignment;
  if (const auto* a = metadata_.find("general.alignment")) {
    const auto& e = *std::find_if(metadata_.begin(), metadata_.end(),
                                  [](const auto& x) { return x.key == "general.alignment"; });
    const auto* v = a->get_if<std::uint32_t>();
    if (v == nullptr)
      r.fail_at(e.offset, "general.alignment", "must be a u32, is " + name(a->type()));
    if (*v == 0 || (*v & (*v - 1)) != 0)
      r.fail_at(e.offset, "general.alignment",
                ::pare::detail::concat(*v, " is not a power of two"));
    alignment_ = *v;
  }

  tensors_.reserve(static_cast<std::size_t>(n_tensors));
  for (std::uint64_t k = 0; k < n_tensors; ++k) tensors_.push_back(read_info(r, k));

  const std::uint64_t end_of_infos = r.offset();
  data_offset_ = align_up(end_of_infos, fname);
  if (n_tensors > 0 && data_offset_ > r.size())
    r.fail_at(end_of_infos, "data section",
              ::pare::detail::concat("data section would start at ", data_offset_, " (aligned to ",
                                     alignment_, "), past the end of the file"));
  for (auto& t : tensors_) {
    if (t.offset % alignment_ != 0)
      r.fail_at(t.info_offset, t.name,
                ::pare::detail::concat("data offset ", t.offset,
                                       " is not a multiple of the alignment ", alignment_));
    t.file_offset = detail::checked_add(data_offset_, t.offset, fname, t.name, t.info_offset);
    const std::uint64_t end =
        detail::checked_add(t.file_offset, t.byte_size, fname, t.name, t.info_offset);
    if (end > r.size())
      r.fail_at(t.info_offset, t.name,
                ::pare::detail::concat(t.byte_size, " bytes of ", name(t.type), " data at ",
                                       t.file_offset, " run past the end of the file (", r.size(),
                                       " bytes)"));
  }
  std::vector<std::size_t> order(tensors_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return tensors_[a].file_offset < tensors_[b].file_offset;
  });
  const GgufTensorInfo* prev = nullptr;
  for (std::size_t k : order) {
    const GgufTensorInfo& t = tensors_[k];
    if (t.byte_size == 0) continue;
    if (prev != nullptr && t.file_offset < prev->file_offset + prev->byte_size)
      r.fail_at(t.info_offset, t.name,
                ::pare::detail::concat("data [", t.offset, ", ", t.offset + t.byte_size,
                                       ") overlaps tensor '", prev->name, "' at [", prev->offset,
                                       ", ", prev->offset + prev->byte_size, ")"));
    prev = &t;
  }
}

PARE_INLINE GgufTensorInfo GgufFile::read_info(detail::ByteReader& r, std::uint64_t k) {
  const std::string& fname = file_.name();
  GgufTensorInfo t;
  t.info_offset = r.offset();
  t.name = GgufCodec::read_string(r, ::pare::detail::concat("tensor name #", k));
  if (index_.find(t.name) != index_.end())
    r.fail_at(t.info_offset, t.name, "duplicate tensor name");
  const std::uint64_t dims_at = r.offset();
  const std::uint32_t n_dims = r.read_u32(t.name);
  if (n_dims > max_dims)
    r.fail_at(dims_at, t.name,
              ::pare::detail::concat("n_dims is ", n_dims, ", GGUF allows at most ", max_dims));
  std::uint64_t ne[max_dims] = {1, 1, 1, 1};
  t.element_count = 1;
  for (std::uint32_t d = 0; d < n_dims; ++d) {
    ne[d] = r.read_u64(t.name);
    if (ne[d] > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      r.fail_at(dims_at, t.name,
                ::pare::detail::concat("dimension ", d, " is ", ne[d], ", above 2^63 - 1"));
    t.element_count = detail::checked_mul(t.element_count, ne[d], fname, t.name, dims_at);
  }
  if (t.element_count > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    r.fail_at(dims_at, t.name, "element count exceeds 2^63 - 1");
  for (std::uint32_t d = n_dims; d-- > 0;) t.shape.push_back(static_cast<std::size_t>(ne[d]));
  const std::uint64_t type_at = r.offset();
  const std::uint32_t type_id = r.read_u32(t.name);
  const auto ti = ggml_type_info(type_id);
  if (!ti) {
    const auto removed = detail::ggml_removed_type_name(type_id);
    r.fail_at(type_at, t.name,
              removed.empty() ? ::pare::detail::concat("unknown ggml type ", type_id)
                              : ::pare::detail::concat("ggml type ", type_id, " (", removed,
                                                       ") was removed from GGUF"));
  }
  t.type = static_cast<GgmlType>(type_id);
  if (ne[0] % ti->block_size != 0)
    r.fail_at(dims_at, t.name,
              ::pare::detail::concat("row length ne[0] = ", ne[0], " is not a multiple of ",
                                     ti->name, "'s block size ", ti->block_size));
  t.byte_size =
      detail::checked_mul(t.element_count / ti->block_size, ti->type_size, fname, t.name, dims_at);
  t.offset = r.read_u64(t.name);
  index_.emplace(t.name, static_cast<std::size_t>(k));
  return t;
}

PARE_INLINE std::uint64_t GgufFile::align_up(std::uint64_t x, const std::string& fname) const {
  const std::uint64_t up = detail::checked_add(x, alignment_ - 1, fname, "data section", x);
  return up - up % alignment_;
}

}  // namespace pare::io

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

PARE_INLINE void write_gguf(const std::filesystem::path& path, const GgufMetadata& metadata,
                            std::span<const GgufWriteTensor> tensors) {
  std::uint64_t alignment = GgufFile::default_alignment;
  for (const auto& e : metadata) {
    PARE_CHECK(!e.key.empty(), ArgumentError, "write_gguf: empty metadata key");
    detail::gguf_check_depth(e.value, e.key);
  }
  if (const auto* a = metadata.find("general.alignment")) {
    const auto* v = a->get_if<std::uint32_t>();
    PARE_CHECK(v != nullptr && *v != 0 && (*v & (*v - 1)) == 0, ArgumentError,
               "write_gguf: general.alignment must be a u32 power of two");
    alignment = *v;
  }
  auto pad = [&](std::uint64_t n) { return (alignment - n % alignment) % alignment; };

  std::vector<std::byte> header(4);
  std::memcpy(header.data(), "GGUF", 4);
  GgufCodec::write_u32(header, 3);
  GgufCodec::write_u64(header, tensors.size());
  GgufCodec::write_u64(header, metadata.size());
  for (const auto& e : metadata) {
    GgufCodec::write_string(header, e.key);
    GgufCodec::write_u32(header, static_cast<std::uint32_t>(e.value.type()));
    GgufCodec::write_value(header, e.value);
  }
  std::vector<std::uint64_t> sizes;
  std::map<std::string_view, int> names;
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    PARE_CHECK(!t.name.empty() && t.name.size() < 64, ArgumentError, "write_gguf: tensor name '",
               t.name, "' must have 1 to 63 bytes");
    PARE_CHECK(names.emplace(t.name, 0).second, ArgumentError,
               "write_gguf: duplicate tensor name '", t.name, "'");
    PARE_CHECK(!t.shape.empty() && t.shape.size() <= GgufFile::max_dims, ArgumentError,
               "write_gguf: tensor '", t.name, "' has rank ", t.shape.size(),
               "; GGUF stores 1 to 4 dimensions");
    const auto info = ggml_type_info(t.type);
    PARE_CHECK(info.has_value(), ArgumentError, "write_gguf: tensor '", t.name, "': ", name(t.type),
               " is not a ggml type");
    std::uint64_t count = 1;
    for (auto d : t.shape) {
      PARE_CHECK(d == 0 || count <= std::numeric_limits<std::uint64_t>::max() / d, ArgumentError,
                 "write_gguf: tensor '", t.name, "': element count overflows");
      count *= d;
    }
    PARE_CHECK(t.shape.back() % info->block_size == 0, ArgumentError, "write_gguf: tensor '",
               t.name, "': row length ", t.shape.back(), " is not a multiple of ", info->name,
               "'s block size ", info->block_size);
    const std::uint64_t bytes = count / info->block_size * info->type_size;
    if (!t.packed.empty() || t.values.empty()) {
      PARE_CHECK(t.values.empty() && t.packed.size() == bytes, ArgumentError,
                 "write_gguf: tensor '", t.name, "' needs ", bytes, " packed bytes of ", info->name,
                 " (and no float values), got ", t.packed.size());
    } else {
      PARE_CHECK(t.type == GgmlType::f32 || t.type == GgmlType::f16 || t.type == GgmlType::q8_0 ||
                     t.type == GgmlType::q4_0,
                 UnsupportedError, "write_gguf: tensor '", t.name,
                 "': pare encodes floats as f32, f16, q8_0 or q4_0, not ", info->name,
                 "; pass packed bytes instead");
      PARE_CHECK(t.values.size() == count, ArgumentError, "write_gguf: tensor '", t.name,
                 "' has shape of ", count, " elements, got ", t.values.size(), " values");
      if (t.type == GgmlType::q8_0 || t.type == GgmlType::q4_0)
        for (std::size_t i = 0; i < t.values.size(); ++i)
          PARE_CHECK(std::isfinite(t.values[i]), ArgumentError, "write_gguf: tensor '", t.name,
                     "' value ", i, " is ", t.values[i], "; only finite values can be quantized");
    }
    GgufCodec::write_string(header, t.name);
    GgufCodec::write_u32(header, static_cast<std::uint32_t>(t.shape.size()));
    for (std::size_t d = t.shape.size(); d-- > 0;) GgufCodec::write_u64(header, t.shape[d]);
    GgufCodec::write_u32(header, static_cast<std::uint32_t>(t.type));
    GgufCodec::write_u64(header, offset);
    sizes.push_back(bytes);
    offset += bytes + pad(bytes);
  }
  header.resize(header.size() + pad(header.size()), std::byte{0});

  atomic_write(path, [&](FileSink& s) {
    s.write(header);
    for (std::size_t k = 0; k < tensors.size(); ++k) {
      const auto& t = tensors[k];
      if (!t.packed.empty())
        s.write(t.packed);
      else
        detail::gguf_encode_values(t.type, t.values,
                                   [&](std::span<const std::byte> b) { s.write(b); });
      s.fill(static_cast<std::size_t>(pad(sizes[k])), std::byte{0});
    }
  });
}

PARE_INLINE void write_gguf(const std::filesystem::path& path, const GgufMetadata& metadata,
                            std::initializer_list<GgufWriteTensor> tensors) {
  write_gguf(path, metadata, std::span<const GgufWriteTensor>(tensors.begin(), tensors.size()));
}

}  // namespace pare::io
