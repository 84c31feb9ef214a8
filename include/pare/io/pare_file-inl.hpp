// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/pare_file.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/io/atomic_write.hpp"
#include "pare/io/pare_file.hpp"

namespace pare::io {

PARE_INLINE PareFile::PareFile(MappedFile file, PareOpenOptions options) : file_(std::move(file)) {
  auto h = detail::parse_pare_header(file_.bytes(), file_.name());
  major_ = h.major;
  minor_ = h.minor;
  graph_ = std::move(h.graph);
  metadata_ = std::move(h.metadata);
  tensors_.reserve(h.tensors.size());
  names_.reserve(h.tensors.size());
  for (auto& t : h.tensors) {
    PareTensorInfo i;
    i.dtype = t.dtype;
    i.shape = std::move(t.shape);
    i.offset = t.offset;
    i.crc32c = t.crc32c;
    i.index = t.index;
    i.bytes = file_.bytes().subspan(static_cast<std::size_t>(t.offset),
                                    static_cast<std::size_t>(t.nbytes));
    index_.emplace(t.name, tensors_.size());
    names_.push_back(std::move(t.name));
    tensors_.push_back(std::move(i));
  }
  for (auto& g : h.groups) {
    group_index_.emplace(g.name, groups_.size());
    group_names_.push_back(g.name);
    groups_.push_back(PareGroupInfo{std::move(g.name), std::move(g.kind), std::move(g.members),
                                    std::move(g.attributes), g.index});
  }
  if (options.verify_checksums) verify_all();
}

PARE_INLINE const PareTensorInfo& PareFile::info(std::string_view name) const {
  auto it = index_.find(name);
  if (it == index_.end())
    throw ArgumentError(file_.name() + " has no tensor '" + std::string(name) + "'");
  return tensors_[it->second];
}

PARE_INLINE const PareGroupInfo& PareFile::group(std::string_view name) const {
  auto it = group_index_.find(name);
  if (it == group_index_.end())
    throw ArgumentError(file_.name() + " has no group '" + std::string(name) + "'");
  return groups_[it->second];
}

PARE_INLINE void PareFile::verify_all() const {
  for (std::size_t k = 0; k < tensors_.size(); ++k) verify(tensors_[k], names_[k]);
}

PARE_INLINE std::string PareFile::field(const PareTensorInfo& i, const char* key) const {
  return ::pare::detail::concat("tensors[", i.index, "].", key);
}

PARE_INLINE void PareFile::group_fail(const PareGroupInfo& g, const std::string& key,
                                      const std::string& what) const {
  throw FormatError(file_.name(), ::pare::detail::concat("groups[", g.index, "].", key),
                    detail::pare_header_size, "group '" + g.name + "': " + what);
}

PARE_INLINE const PareTensorInfo& PareFile::member(const PareGroupInfo& g, const char* role,
                                                   DType dtype,
                                                   std::span<const std::uint64_t> shape) const {
  auto it = g.members.find(role);
  if (it == g.members.end()) group_fail(g, std::string("members.") + role, "missing");
  const PareTensorInfo& t = info(it->second);
  if (t.dtype != dtype || !std::equal(t.shape.begin(), t.shape.end(), shape.begin(), shape.end()))
    group_fail(g, std::string("members.") + role,
               ::pare::detail::concat("tensor '", it->second, "' is ", pare::name(t.dtype),
                                      " of rank ", t.shape.size(), ", expected ", pare::name(dtype),
                                      " of shape ", shape_text(shape)));
  return t;
}

PARE_INLINE std::string PareFile::shape_text(std::span<const std::uint64_t> s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

PARE_INLINE void PareWriter::add_generated(std::string name, DType dtype,
                                           std::vector<std::uint64_t> shape, Producer produce) {
  PARE_CHECK(!name.empty(), ArgumentError, "PareWriter: empty tensor name");
  PARE_CHECK(shape.size() <= detail::pare_max_rank, ArgumentError, "PareWriter: tensor '", name,
             "' has ", shape.size(), " dimensions, .pare allows ", detail::pare_max_rank);
  std::uint64_t nbytes = 0;
  try {
    nbytes = detail::pare_nbytes(dtype, shape, "PareWriter", name, 0);
  } catch (const FormatError&) {
    throw ShapeError("PareWriter: tensor '" + name + "': element or byte count overflows 64 bits");
  }
  PARE_CHECK(names_.emplace(name).second, ArgumentError, "PareWriter: duplicate tensor name '",
             name, "'");
  entries_.push_back({std::move(name), dtype, std::move(shape), nbytes, std::move(produce)});
}

PARE_INLINE void PareWriter::add_group(std::string name, std::string kind,
                                       std::map<std::string, std::string> members,
                                       Json attributes) {
  PARE_CHECK(!name.empty() && !kind.empty(), ArgumentError,
             "PareWriter: a group needs a name and a kind");
  PARE_CHECK(attributes.is_object(), ArgumentError, "PareWriter: attributes of group '", name,
             "' must be an object");
  PARE_CHECK(group_names_.emplace(name).second, ArgumentError, "PareWriter: duplicate group name '",
             name, "'");
  groups_.push_back({std::move(name), std::move(kind), std::move(members), std::move(attributes)});
}

PARE_INLINE void PareWriter::set_graph(Json graph) {
  PARE_CHECK(graph.is_object() || graph.is_null(), ArgumentError,
             "PareWriter: the graph must be a JSON object");
  // The graph sits one level inside the top-level object.
  PARE_CHECK(nesting(graph) < detail::pare_max_json_depth, ArgumentError,
             "PareWriter: the graph nests arrays and objects deeper than ",
             detail::pare_max_json_depth - 1, " levels, which readers reject");
  graph_ = std::move(graph);
}

PARE_INLINE void PareWriter::save(const std::filesystem::path& path) const {
  for (const auto& g : groups_)
    for (const auto& [role, t] : g.members)
      PARE_CHECK(names_.count(t) != 0, ArgumentError, "PareWriter: group '", g.name, "' member '",
                 role, "' names tensor '", t, "', which was not added");
  // Pass 1: CRCs (the JSON that carries them comes before the data).
  std::vector<std::uint32_t> crcs(entries_.size());
  std::vector<std::uint64_t> offsets(entries_.size());
  std::uint64_t cursor = 0;
  std::uint64_t end = 0;
  for (std::size_t k = 0; k < entries_.size(); ++k) {
    const Entry& e = entries_[k];
    crcs[k] = run(e, [&](std::span<const std::byte>) {});
    if (e.nbytes == 0) continue;  // empty tensors sit at offset 0 and take no space
    offsets[k] = cursor;
    end = cursor + e.nbytes;
    cursor = detail::pare_align_up(end);
  }
  const std::string json = make_json(crcs, offsets);
  const auto header = detail::encode_pare_header(json);
  const std::uint64_t data_offset = detail::pare_align_up(detail::pare_header_size + json.size());
  atomic_write(path, [&](FileSink& s) {
    s.write(header.data(), header.size());
    s.write(json);
    s.fill(static_cast<std::size_t>(data_offset - s.position()), std::byte{0});
    for (std::size_t k = 0; k < entries_.size(); ++k) {
      const Entry& e = entries_[k];
      if (e.nbytes == 0) continue;
      s.fill(static_cast<std::size_t>(data_offset + offsets[k] - s.position()), std::byte{0});
      if (run(e, [&](std::span<const std::byte> c) { s.write(c); }) != crcs[k])
        throw Error("PareWriter: tensor '" + e.name + "' changed while it was being saved");
    }
    PARE_ASSERT(s.position() == data_offset + end);
  });
}

PARE_INLINE std::size_t PareWriter::nesting(const Json& j, std::size_t level) {
  if (!j.is_array() && !j.is_object()) return level;
  std::size_t deepest = ++level;
  if (level >= detail::pare_max_json_depth) return level;
  if (j.is_array())
    for (const Json& child : j.as_array()) deepest = std::max(deepest, nesting(child, level));
  else
    for (const auto& m : j.as_object()) deepest = std::max(deepest, nesting(m.value, level));
  return deepest;
}

PARE_INLINE void PareWriter::emit_chunked(std::span<const std::byte> bytes, const Emit& emit) {
  constexpr std::size_t chunk = std::size_t{4} << 20;
  for (std::size_t at = 0; at < bytes.size(); at += chunk)
    emit(bytes.subspan(at, std::min(chunk, bytes.size() - at)));
}

PARE_INLINE std::string PareWriter::make_json(const std::vector<std::uint32_t>& crcs,
                                              const std::vector<std::uint64_t>& offsets) const {
  Json::Array tensors;
  tensors.reserve(entries_.size());
  for (std::size_t k = 0; k < entries_.size(); ++k) {
    const Entry& e = entries_[k];
    tensors.push_back(Json::object({{"name", e.name},
                                    {"dtype", pare::name(e.dtype)},
                                    {"shape", e.shape},
                                    {"offset", offsets[k]},
                                    {"nbytes", e.nbytes},
                                    {"crc32c", crcs[k]}}));
  }
  Json doc = Json::object({{"tensors", Json(std::move(tensors))}});
  if (!groups_.empty()) {
    Json::Array groups;
    groups.reserve(groups_.size());
    for (const auto& g : groups_)
      groups.push_back(Json::object({{"name", g.name},
                                     {"kind", g.kind},
                                     {"members", g.members},
                                     {"attributes", g.attributes}}));
    doc["groups"] = Json(std::move(groups));
  }
  if (!graph_.is_null()) doc["graph"] = graph_;
  if (!metadata_.empty()) doc["metadata"] = metadata_;
  try {
    return doc.dump();
  } catch (const JsonError& ex) {
    throw ArgumentError(
        std::string("PareWriter: a name, metadata or graph string is not valid UTF-8: ") +
        ex.what());
  }
}

PARE_INLINE void PareFile::verify(std::string_view name) const { verify(info(name), name); }

PARE_INLINE void PareFile::verify(const PareTensorInfo& i, std::string_view name) const {
  const std::uint32_t crc = crc32c(i.bytes);
  if (crc != i.crc32c)
    throw FormatError(file_.name(), field(i, "crc32c"), i.offset,
                      ::pare::detail::concat("tensor '", name, "': data CRC32C is 0x",
                                             ::pare::detail::Hex{crc}, ", the header says 0x",
                                             ::pare::detail::Hex{i.crc32c}, " (data damaged)"));
}

}  // namespace pare::io
