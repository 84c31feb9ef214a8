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
#include "pare/io/gguf_stream_writer.hpp"

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

namespace pare::io {

PARE_INLINE void write_gguf(const std::filesystem::path& path, const GgufMetadata& metadata,
                            std::span<const GgufWriteTensor> tensors) {
  std::vector<GgufTensorSpec> specs;
  specs.reserve(tensors.size());
  for (const auto& t : tensors) specs.push_back({t.name, t.shape, t.type});
  // The writer checks names, shapes and types before any data; a data check that fails below
  // destroys it unfinished, which removes its temporary.
  GgufStreamWriter w(path, metadata, std::move(specs));
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    const auto& t = tensors[k];
    const std::uint64_t bytes = w.tensor_bytes(k);
    if (!t.packed.empty() || t.values.empty()) {
      PARE_CHECK(t.values.empty() && t.packed.size() == bytes, ArgumentError,
                 "write_gguf: tensor '", t.name, "' needs ", bytes, " packed bytes of ",
                 name(t.type), " (and no float values), got ", t.packed.size());
    } else {
      PARE_CHECK(t.type == GgmlType::f32 || t.type == GgmlType::f16 || t.type == GgmlType::q8_0 ||
                     t.type == GgmlType::q4_0,
                 UnsupportedError, "write_gguf: tensor '", t.name,
                 "': pare encodes floats as f32, f16, q8_0 or q4_0, not ", name(t.type),
                 "; pass packed bytes instead");
      std::uint64_t count = 1;
      for (auto d : t.shape) count *= d;  // the writer checked it does not overflow
      PARE_CHECK(t.values.size() == count, ArgumentError, "write_gguf: tensor '", t.name,
                 "' has shape of ", count, " elements, got ", t.values.size(), " values");
      if (t.type == GgmlType::q8_0 || t.type == GgmlType::q4_0)
        for (std::size_t i = 0; i < t.values.size(); ++i)
          PARE_CHECK(std::isfinite(t.values[i]), ArgumentError, "write_gguf: tensor '", t.name,
                     "' value ", i, " is ", t.values[i], "; only finite values can be quantized");
    }
  }
  for (const auto& t : tensors) {
    if (!t.packed.empty())
      w.write(t.packed);
    else
      w.write_floats(t.values);
  }
  w.finish();
}

PARE_INLINE void write_gguf(const std::filesystem::path& path, const GgufMetadata& metadata,
                            std::initializer_list<GgufWriteTensor> tensors) {
  write_gguf(path, metadata, std::span<const GgufWriteTensor>(tensors.begin(), tensors.size()));
}

}  // namespace pare::io
