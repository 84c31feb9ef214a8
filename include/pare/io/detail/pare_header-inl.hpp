// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/detail/pare_header.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <set>
#include <utility>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/io/checksum.hpp"
#include "pare/io/detail/pare_header.hpp"

namespace pare::io::detail {

PARE_INLINE std::uint64_t pare_nbytes(DType dtype, std::span<const std::uint64_t> shape,
                                      const std::string& file, std::string_view field,
                                      std::uint64_t at) {
  const std::uint64_t bits = size_bits(dtype);
  if (bits >= 8) {
    std::uint64_t n = bits / 8;
    for (auto e : shape) n = checked_mul(n, e, file, field, at);
    return n;
  }
  const std::uint64_t lanes = 8 / bits;
  const std::uint64_t last = shape.empty() ? 1 : shape.back();
  std::uint64_t n = last / lanes + (last % lanes != 0 ? 1 : 0);
  for (std::size_t d = 0; d + 1 < shape.size(); ++d) n = checked_mul(n, shape[d], file, field, at);
  // The element count must fit too, so that size() never overflows.
  std::uint64_t count = 1;
  for (auto e : shape) count = checked_mul(count, e, file, field, at);
  return n;
}

PARE_INLINE void PareSchema::fail(const std::string& path, const std::string& what) const {
  throw FormatError(file_, path, pare_header_size, what);
}

PARE_INLINE const Json& PareSchema::member(const Json& obj, const char* key,
                                           const std::string& path) const {
  const Json* v = obj.find(key);
  if (v == nullptr) fail(path + "." + key, "missing");
  return *v;
}

PARE_INLINE std::uint64_t PareSchema::unsigned_at(const Json& obj, const char* key,
                                                  const std::string& path) const {
  const auto& v = member(obj, key, path);
  if (!v.is_uint64())
    fail(path + "." + key, "must be a non-negative integer below 2^64, got " + kind(v));
  return v.as_uint64();
}

PARE_INLINE std::string PareSchema::string_at(const Json& obj, const char* key,
                                              const std::string& path) const {
  const auto& v = member(obj, key, path);
  if (!v.is_string()) fail(path + "." + key, "must be a string, got " + kind(v));
  return v.as_string();
}

PARE_INLINE PareTensorRecord pare_parse_tensor(const PareSchema& s, const Json& t, std::size_t i,
                                               const std::string& file, std::uint64_t data_offset,
                                               std::uint64_t data_size) {
  const std::string path = "tensors[" + std::to_string(i) + "]";
  if (!t.is_object()) s.fail(path, "must be an object, got " + PareSchema::kind(t));
  PareTensorRecord r;
  r.index = i;
  r.name = s.string_at(t, "name", path);
  if (r.name.empty()) s.fail(path + ".name", "must not be empty");
  const std::string dt = s.string_at(t, "dtype", path);
  const auto d = dtype_from_name(dt);
  if (!d) s.fail(path + ".dtype", "unknown dtype \"" + dt.substr(0, 64) + "\"");
  r.dtype = *d;
  const auto& shape = s.member(t, "shape", path);
  if (!shape.is_array())
    s.fail(path + ".shape", "must be an array, got " + PareSchema::kind(shape));
  if (shape.size() > pare_max_rank)
    s.fail(path + ".shape",
           ::pare::detail::concat(shape.size(), " dimensions, at most ", pare_max_rank));
  for (std::size_t k = 0; k < shape.size(); ++k) {
    if (!shape[k].is_uint64())
      s.fail(::pare::detail::concat(path, ".shape[", k, "]"), "must be a non-negative integer");
    r.shape.push_back(shape[k].as_uint64());
  }
  const std::uint64_t need = pare_nbytes(r.dtype, r.shape, file, path + ".shape", pare_header_size);
  const std::uint64_t offset = s.unsigned_at(t, "offset", path);
  r.nbytes = s.unsigned_at(t, "nbytes", path);
  const std::uint64_t crc = s.unsigned_at(t, "crc32c", path);
  if (crc > 0xFFFFFFFFu)
    s.fail(path + ".crc32c", ::pare::detail::concat(crc, " does not fit in 32 bits"));
  r.crc32c = static_cast<std::uint32_t>(crc);
  if (r.nbytes != need)
    s.fail(path + ".nbytes", ::pare::detail::concat("shape and dtype ", dt, " need ", need,
                                                    " bytes, nbytes says ", r.nbytes));
  if (offset % pare_alignment != 0)
    s.fail(path + ".offset",
           ::pare::detail::concat(offset, " is not a multiple of ", pare_alignment));
  if (offset > data_size || r.nbytes > data_size - offset)
    s.fail(path + ".offset",
           ::pare::detail::concat("bytes [", offset, ", ", offset, " + ", r.nbytes,
                                  ") are not inside the ", data_size, "-byte data section"));
  r.offset = data_offset + offset;
  return r;
}

PARE_INLINE PareGroupRecord
pare_parse_group(const PareSchema& s, const Json& g, std::size_t i,
                 const std::map<std::string, std::size_t, std::less<>>& tensor_index) {
  const std::string path = "groups[" + std::to_string(i) + "]";
  if (!g.is_object()) s.fail(path, "must be an object, got " + PareSchema::kind(g));
  PareGroupRecord r;
  r.index = i;
  r.name = s.string_at(g, "name", path);
  if (r.name.empty()) s.fail(path + ".name", "must not be empty");
  r.kind = s.string_at(g, "kind", path);
  if (r.kind.empty()) s.fail(path + ".kind", "must not be empty");
  const auto& members = s.member(g, "members", path);
  if (!members.is_object())
    s.fail(path + ".members", "must be an object, got " + PareSchema::kind(members));
  for (const auto& [role, tensor] : members.as_object()) {
    const std::string mpath = path + ".members." + role;
    if (!tensor.is_string())
      s.fail(mpath, "must be a tensor name (string), got " + PareSchema::kind(tensor));
    const std::string& name = tensor.as_string();
    if (tensor_index.find(name) == tensor_index.end())
      s.fail(mpath, "names tensor \"" + name.substr(0, 64) + "\", which is not in \"tensors\"");
    r.members.emplace(role, name);
  }
  if (const Json* a = g.find("attributes")) {
    if (!a->is_object())
      s.fail(path + ".attributes", "must be an object, got " + PareSchema::kind(*a));
    r.attributes = *a;
  }
  return r;
}

PARE_INLINE PareHeader parse_pare_header(std::span<const std::byte> bytes,
                                         const std::string& file) {
  ByteReader r(bytes, file);
  PareHeader h;
  if (r.size() < pare_header_size)
    r.fail_at(0, "header",
              ::pare::detail::concat("file of ", r.size(), " bytes is shorter than the ",
                                     pare_header_size, "-byte .pare header"));
  const auto magic = r.read_bytes(8, "magic");
  for (std::size_t k = 0; k < 8; ++k)
    if (std::to_integer<unsigned char>(magic[k]) != pare_magic[k])
      r.fail_at(
          k, "magic",
          "not a .pare file (expected \\x89PARE\\r\\n\\x1a\\n; a changed \\r\\n or \\x1a means "
          "a text-mode transfer damaged it)");
  h.major = r.read_u16("version.major");
  h.minor = r.read_u16("version.minor");
  if (h.major != pare_major)
    throw UnsupportedError(::pare::detail::concat(file, ": .pare version ", h.major, ".", h.minor,
                                                  "; this reader reads major version ",
                                                  pare_major));
  h.flags = r.read_u32("flags");
  if ((h.flags & pare_required_flags_mask) != 0)
    throw UnsupportedError(::pare::detail::concat(file, ": .pare flags 0x",
                                                  ::pare::detail::Hex{h.flags},
                                                  " ask for features this reader does not have"));
  h.json_length = r.read_u64("json_length");
  h.data_offset = r.read_u64("data_offset");
  (void)r.read_u32("reserved");
  const std::uint32_t header_crc = r.read_u32("header_crc32c");
  if (h.json_length > pare_max_json_size)
    r.fail_at(
        pare_off_json_length, "json_length",
        ::pare::detail::concat("JSON of ", h.json_length, " bytes exceeds the 256 MiB limit"));
  if (h.json_length > r.remaining())
    r.fail_at(pare_off_json_length, "json_length",
              ::pare::detail::concat("JSON of ", h.json_length, " bytes does not fit in the ",
                                     r.remaining(), " bytes after the header"));
  const std::uint64_t expect_data = pare_align_up(pare_header_size + h.json_length);
  if (h.data_offset != expect_data)
    r.fail_at(pare_off_data_offset, "data_offset",
              ::pare::detail::concat(h.data_offset, " is not ", expect_data,
                                     " (the end of the JSON rounded up to 64 bytes)"));
  if (h.data_offset > r.size())
    r.fail_at(pare_off_data_offset, "data_offset",
              ::pare::detail::concat("data section at ", h.data_offset,
                                     " starts past the end of the ", r.size(), "-byte file"));
  const auto json = r.read_bytes(h.json_length, "json");
  const std::uint32_t crc = crc32c(json, crc32c(bytes.first(pare_off_header_crc)));
  // Fuzz builds may skip this one check (as zlib and libpng fuzzers skip theirs) so that mutated
  // JSON reaches the schema checks; never define the macro in a production build.
#if !defined(PARE_FUZZ_IGNORE_HEADER_CRC)
  if (crc != header_crc)
    r.fail_at(pare_off_header_crc, "header_crc32c",
              ::pare::detail::concat("header CRC32C is 0x", ::pare::detail::Hex{crc},
                                     ", the file says 0x", ::pare::detail::Hex{header_crc},
                                     " (header or JSON damaged)"));
#else
  (void)crc;
  (void)header_crc;
#endif
  for (std::uint64_t k = pare_header_size + h.json_length; k < h.data_offset; ++k)
    if (bytes[k] != std::byte{0})
      r.fail_at(k, "padding", "padding before the data section must be zero bytes");

  Json doc;
  try {
    doc = Json::parse(std::string_view(reinterpret_cast<const char*>(json.data()), json.size()),
                      {.max_depth = pare_max_json_depth, .source = file});
  } catch (const JsonParseError& e) {
    r.fail_at(pare_header_size + e.offset(), "json", "invalid JSON: " + e.reason());
  }
  const PareSchema s(file);
  if (!doc.is_object()) s.fail("json", "top level must be an object, got " + PareSchema::kind(doc));

  const std::uint64_t data_size = r.size() - h.data_offset;
  const auto& tensors = s.member(doc, "tensors", "json");
  if (!tensors.is_array()) s.fail("tensors", "must be an array, got " + PareSchema::kind(tensors));
  std::map<std::string, std::size_t, std::less<>> index;
  h.tensors.reserve(tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    auto rec = pare_parse_tensor(s, tensors[i], i, file, h.data_offset, data_size);
    if (!index.emplace(rec.name, i).second)
      s.fail(::pare::detail::concat("tensors[", i, "].name"),
             "duplicate tensor name \"" + rec.name.substr(0, 64) + "\"");
    h.tensors.push_back(std::move(rec));
  }
  // Non-empty tensors must not overlap; the file ends exactly at the last byte of tensor data.
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < h.tensors.size(); ++i)
    if (h.tensors[i].nbytes != 0) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::pair(h.tensors[a].offset, a) < std::pair(h.tensors[b].offset, b);
  });
  std::uint64_t end = h.data_offset;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const auto& t = h.tensors[order[k]];
    if (t.offset < end)
      throw FormatError(
          file, ::pare::detail::concat("tensors[", t.index, "].offset"), t.offset,
          "tensor \"" + t.name + "\" overlaps tensor \"" + h.tensors[order[k - 1]].name + "\"");
    end = t.offset + t.nbytes;
  }
  if (end != r.size())
    r.fail_at(
        end, "data",
        ::pare::detail::concat("the file is ", r.size(), " bytes but its tensor data ends at ", end,
                               " (truncated, or bytes appended)"));

  if (const Json* groups = doc.find("groups")) {
    if (!groups->is_array()) s.fail("groups", "must be an array, got " + PareSchema::kind(*groups));
    std::set<std::string, std::less<>> names;
    for (std::size_t i = 0; i < groups->size(); ++i) {
      auto g = pare_parse_group(s, (*groups)[i], i, index);
      if (!names.insert(g.name).second)
        s.fail(::pare::detail::concat("groups[", i, "].name"),
               "duplicate group name \"" + g.name.substr(0, 64) + "\"");
      h.groups.push_back(std::move(g));
    }
  }
  if (Json* graph = doc.find("graph")) {
    if (!graph->is_object() && !graph->is_null())
      s.fail("graph", "must be an object or null, got " + PareSchema::kind(*graph));
    h.graph = std::move(*graph);
  }
  if (const Json* metadata = doc.find("metadata")) {
    if (!metadata->is_object())
      s.fail("metadata", "must be an object, got " + PareSchema::kind(*metadata));
    for (const auto& [k, v] : metadata->as_object()) {
      if (!v.is_string()) s.fail("metadata." + k, "must be a string, got " + PareSchema::kind(v));
      h.metadata.emplace(k, v.as_string());
    }
  }
  return h;
}

PARE_INLINE std::array<std::byte, pare_header_size> encode_pare_header(std::string_view json,
                                                                       std::uint32_t flags) {
  std::array<std::byte, pare_header_size> h{};
  for (std::size_t k = 0; k < 8; ++k) h[k] = static_cast<std::byte>(pare_magic[k]);
  store_le<std::uint16_t>(h.data() + pare_off_major, pare_major);
  store_le<std::uint16_t>(h.data() + pare_off_minor, pare_minor);
  store_le<std::uint32_t>(h.data() + pare_off_flags, flags);
  store_le<std::uint64_t>(h.data() + pare_off_json_length, json.size());
  store_le<std::uint64_t>(h.data() + pare_off_data_offset,
                          pare_align_up(pare_header_size + json.size()));
  store_le<std::uint32_t>(h.data() + pare_off_reserved, 0);
  const std::uint32_t crc = crc32c(std::as_bytes(std::span(json.data(), json.size())),
                                   crc32c(std::span(h).first(pare_off_header_crc)));
  store_le<std::uint32_t>(h.data() + pare_off_header_crc, crc);
  return h;
}

}  // namespace pare::io::detail
