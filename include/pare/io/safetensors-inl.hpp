// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/safetensors.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <limits>
#include <numeric>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/json.hpp"
#include "pare/io/detail/byte_reader.hpp"
#include "pare/io/safetensors.hpp"

namespace pare::io {

PARE_INLINE const SafetensorsInfo& SafetensorsFile::info(std::string_view name) const {
  auto it = index_.find(name);
  if (it == index_.end())
    throw ArgumentError(file_.name() + " has no tensor '" + std::string(name) + "'");
  return infos_[it->second];
}

PARE_INLINE void SafetensorsFile::parse() {
  const std::string& fname = file_.name();
  detail::ByteReader r(file_.bytes(), fname);
  if (r.size() < 8) r.fail_at(0, "header length", "file is shorter than the 8-byte header length");
  const std::uint64_t n = r.read_u64("header length");
  if (n > max_header_size)
    r.fail_at(0, "header length",
              ::pare::detail::concat("header of ", n, " bytes exceeds the 100 MB limit"));
  if (n > r.remaining())
    r.fail_at(0, "header length",
              ::pare::detail::concat("header of ", n, " bytes does not fit in the ", r.remaining(),
                                     " bytes after the length"));
  const auto header = r.read_bytes(n, "header");
  if (n == 0 || header[0] != std::byte{'{'})
    r.fail_at(8, "header", "JSON header must start with '{'");

  detail::SafetensorsHeader parsed;
  try {
    parsed = detail::parse_safetensors_header(
        std::string_view(reinterpret_cast<const char*>(header.data()), header.size()), fname);
  } catch (const JsonParseError& e) {
    r.fail_at(8 + e.offset(), "header", e.reason());
  }
  metadata_ = std::move(parsed.metadata);

  const std::uint64_t data_start = 8 + n;
  const std::uint64_t data_size = r.size() - data_start;
  infos_.reserve(parsed.tensors.size());
  names_.reserve(parsed.tensors.size());
  for (auto& t : parsed.tensors) {
    const auto dt = detail::safetensors_dtype(t.dtype);
    if (!dt) r.fail_at(8, t.name, "unknown dtype \"" + t.dtype.substr(0, 64) + "\"");
    std::uint64_t count = 1;
    for (auto e : t.shape) count = detail::checked_mul(count, e, fname, t.name, 8);
    const std::uint64_t nbytes = detail::checked_mul(count, size_bits(*dt) / 8, fname, t.name, 8);
    const std::uint64_t begin = t.offsets[0];
    const std::uint64_t end = t.offsets[1];
    if (begin > end || end > data_size)
      r.fail_at(8, t.name,
                ::pare::detail::concat("data_offsets [", begin, ", ", end, ") are not inside the ",
                                       data_size, "-byte data section"));
    if (end - begin != nbytes)
      r.fail_at(data_start + begin, t.name,
                ::pare::detail::concat("shape ", shape_text(t.shape), " of ", t.dtype, " needs ",
                                       nbytes, " bytes, data_offsets span ", end - begin));
    SafetensorsInfo info;
    info.dtype = *dt;
    info.shape.assign(t.shape.begin(), t.shape.end());
    info.offset = data_start + begin;
    info.bytes = r.bytes_at(data_start + begin, nbytes, t.name);
    infos_.push_back(std::move(info));
    names_.push_back(std::move(t.name));
  }
  // Order by data position; the tensors must then tile [0, data_size) exactly.
  std::vector<std::size_t> order(infos_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::pair(infos_[a].offset, infos_[a].bytes.size()) <
           std::pair(infos_[b].offset, infos_[b].bytes.size());
  });
  std::uint64_t cursor = data_start;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const SafetensorsInfo& i = infos_[order[k]];
    if (i.offset < cursor)
      r.fail_at(i.offset, names_[order[k]],
                ::pare::detail::concat("tensor overlaps tensor '", names_[order[k - 1]], "'"));
    if (i.offset > cursor)
      r.fail_at(cursor, names_[order[k]],
                ::pare::detail::concat("bytes [", cursor - data_start, ", ", i.offset - data_start,
                                       ") of the data section belong to no tensor"));
    cursor = i.offset + i.bytes.size();
  }
  if (cursor != r.size())
    r.fail_at(cursor, "data",
              ::pare::detail::concat(r.size() - cursor,
                                     " bytes after the last tensor belong to no tensor"));

  std::vector<SafetensorsInfo> infos;
  std::vector<std::string> names;
  infos.reserve(order.size());
  names.reserve(order.size());
  for (std::size_t k : order) {
    infos.push_back(std::move(infos_[k]));
    names.push_back(std::move(names_[k]));
  }
  infos_ = std::move(infos);
  names_ = std::move(names);
  for (std::size_t k = 0; k < names_.size(); ++k) index_.emplace(names_[k], k);
}

PARE_INLINE std::string SafetensorsFile::shape_text(const std::vector<std::uint64_t>& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

PARE_INLINE void write_safetensors(const std::filesystem::path& path,
                                   std::span<const SafetensorsEntry> entries,
                                   const std::map<std::string, std::string>& metadata) {
  std::vector<const SafetensorsEntry*> sorted;
  sorted.reserve(entries.size());
  for (const auto& e : entries) {
    if (!detail::safetensors_dtype_name(e.dtype))
      throw UnsupportedError(::pare::detail::concat("safetensors has no dtype for ", name(e.dtype),
                                                    " (tensor '", e.name, "')"));
    PARE_CHECK(e.name != "__metadata__", ArgumentError,
               "\"__metadata__\" is reserved, not a tensor name");
    std::size_t count = 1;
    for (auto d : e.shape) {
      PARE_CHECK(d == 0 || count <= std::numeric_limits<std::size_t>::max() / d, ShapeError,
                 "tensor '", e.name, "': element count overflows");
      count *= d;
    }
    const std::size_t item = size_bits(e.dtype) / 8;
    PARE_CHECK(
        count <= std::numeric_limits<std::size_t>::max() / item && count * item == e.data.size(),
        ShapeError, "tensor '", e.name, "': ", count, " elements of ", name(e.dtype), " need ",
        count * item, " bytes, got ", e.data.size());
    sorted.push_back(&e);
  }
  std::sort(sorted.begin(), sorted.end(), [](const SafetensorsEntry* a, const SafetensorsEntry* b) {
    const int ra = detail::safetensors_dtype_rank(a->dtype);
    const int rb = detail::safetensors_dtype_rank(b->dtype);
    return ra != rb ? ra > rb : a->name < b->name;
  });
  {
    std::vector<std::string_view> names;
    names.reserve(sorted.size());
    for (auto* e : sorted) names.push_back(e->name);
    std::sort(names.begin(), names.end());
    const auto dup = std::adjacent_find(names.begin(), names.end());
    PARE_CHECK(dup == names.end(), ArgumentError, "duplicate tensor name '",
               dup == names.end() ? "" : *dup, "'");
  }

  // Names are unique (checked above) and "__metadata__" is refused as a name, so members can be
  // appended without the linear look-up of operator[].
  Json::Object header;
  header.reserve(sorted.size() + 1);
  if (!metadata.empty()) header.push_back({"__metadata__", Json(metadata)});
  std::uint64_t offset = 0;
  for (auto* e : sorted) {
    header.push_back({e->name, Json::object({{"dtype", *detail::safetensors_dtype_name(e->dtype)},
                                             {"shape", e->shape},
                                             {"data_offsets",
                                              Json::array({offset, offset + e->data.size()})}})});
    offset += e->data.size();
  }
  std::string text;
  try {
    text = Json(std::move(header)).dump();
  } catch (const JsonError& ex) {
    throw ArgumentError(
        std::string("write_safetensors: a name or metadata string is not valid UTF-8: ") +
        ex.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  std::byte len[8];
  detail::store_le<std::uint64_t>(len, text.size());
  atomic_write(path, [&](FileSink& s) {
    s.write(len, sizeof len);
    s.write(text);
    for (auto* e : sorted) s.write(e->data);
  });
}

PARE_INLINE void write_safetensors(const std::filesystem::path& path,
                                   std::initializer_list<SafetensorsEntry> entries,
                                   const std::map<std::string, std::string>& metadata) {
  write_safetensors(path, std::span<const SafetensorsEntry>(entries.begin(), entries.size()),
                    metadata);
}

}  // namespace pare::io
