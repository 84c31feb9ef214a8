// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/torch_checkpoint.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/io/torch_checkpoint.hpp"

namespace pare::io {

PARE_INLINE void TorchCheckpoint::add_tensor(const detail::Pickle& p,
                                             const detail::NamedTensor& nt) {
  const detail::TorchTensorRecord& t = p.tensors[nt.tensor];
  const detail::TorchStorageRef& s = p.storages[t.storage];
  const std::string& where = p.file;
  auto fail = [&](const std::string& what) { throw FormatError(where, nt.name, t.at, what); };
  const std::uint64_t w = size_bits(s.dtype) / 8;
  // Elements: product of sizes; reach: offset + sum((size - 1) * stride) must be < numel.
  std::uint64_t count = 1;
  std::uint64_t reach = t.offset;
  for (std::size_t d = 0; d < t.shape.size(); ++d)
    count = detail::checked_mul(count, t.shape[d], where, nt.name, t.at);
  if (count > 0) {
    for (std::size_t d = 0; d < t.shape.size(); ++d)
      reach = detail::checked_add(
          reach, detail::checked_mul(t.shape[d] - 1, t.strides[d], where, nt.name, t.at), where,
          nt.name, t.at);
    if (reach >= s.numel)
      fail(::pare::detail::concat("size ", dims_text(t.shape), " with stride ",
                                  dims_text(t.strides), " from storage_offset ", t.offset,
                                  " reaches element ", reach, " of a storage of ", s.numel));
  } else if (t.offset > s.numel) {
    fail(::pare::detail::concat("storage_offset ", t.offset, " is past the end of a storage of ",
                                s.numel));
  }
  if (count > std::numeric_limits<std::size_t>::max() / w)
    fail("tensor is too large for this platform");
  TorchTensorInfo info;
  info.dtype = s.dtype;
  info.shape.assign(t.shape.begin(), t.shape.end());
  info.strides.assign(t.strides.begin(), t.strides.end());
  // A legacy storage view starts inside its keyed storage; the data read is the keyed one.
  info.storage_offset = static_cast<std::size_t>(t.offset + s.view_offset);
  info.storage_key = s.key;
  info.storage_numel = static_cast<std::size_t>(s.key_numel);
  info.location = s.location;
  info.requires_grad = t.requires_grad;
  info.parameter = t.parameter;
  info.offset = t.at;
  index_.emplace(nt.name, names_.size());
  names_.push_back(nt.name);
  infos_.push_back(std::move(info));
}

PARE_INLINE void TorchCheckpoint::parse_legacy(const detail::PickleLimits& limits) {
  const std::string& fname = file_.name();
  const std::span<const std::byte> bytes = file_.bytes();
  std::uint64_t pos = 0;
  // Each pickle of the stream runs on the rest of the file and ends at its STOP.
  auto next = [&](const char* what) {
    detail::Pickle p =
        detail::run_pickle(bytes.subspan(static_cast<std::size_t>(pos)), fname + ":" + what, pos,
                           limits, detail::PickleFraming::legacy_stream);
    pos += p.size;
    return p;
  };
  (void)next("magic number");  // its bytes were matched by looks_like_legacy_torch
  const detail::Pickle version = next("protocol version");
  const detail::PickleObject& v = version.at(version.root);
  if (v.kind != detail::PickleKind::integer || v.integer != 1001)
    throw UnsupportedError(::pare::detail::concat(
        fname, ": legacy PyTorch checkpoint of protocol version ",
        v.kind == detail::PickleKind::integer ? std::to_string(v.integer)
                                              : std::string(detail::kind_name(v.kind)),
        " (pare reads 1001, what every PyTorch since 0.1.10 writes)"));
  version_ = 1001;
  const detail::Pickle sys_info = next("sys_info");
  if (sys_info.at(sys_info.root).kind != detail::PickleKind::dict)
    throw FormatError(
        sys_info.file, "sys_info", sys_info.base,
        ::pare::detail::concat("is a ", detail::kind_name(sys_info.at(sys_info.root).kind),
                               ", not a dict"));
  const detail::Pickle p = next("object");
  const auto named = detail::state_dict_tensors(p, limits);
  const detail::Pickle keys = next("storage keys");
  const detail::PickleObject& list = keys.at(keys.root);
  if (list.kind != detail::PickleKind::list)
    throw FormatError(
        keys.file, "storage keys", keys.base,
        ::pare::detail::concat("is a ", detail::kind_name(list.kind), ", not a list"));

  // Every persistent id naming a key must agree on what the keyed storage is.
  std::unordered_map<std::string, const detail::TorchStorageRef*> storage_of;
  for (const auto& s : p.storages) {
    const auto [it, fresh] = storage_of.emplace(s.key, &s);
    if (!fresh && (it->second->dtype != s.dtype || it->second->key_numel != s.key_numel))
      throw FormatError(
          p.file, "persistent id", s.at,
          ::pare::detail::concat("storage ", detail::printable(s.key), " is ", s.key_numel, " ",
                                 pare::name(s.dtype), " here but ", it->second->key_numel, " ",
                                 pare::name(it->second->dtype), " before"));
  }
  // The records follow the key list in its order: an 8-byte element count, then the elements.
  std::unordered_map<std::string, std::span<const std::byte>> data_of;
  for (std::uint32_t item : keys.seqs[list.index]) {
    const detail::PickleObject& k = keys.at(item);
    if (k.kind != detail::PickleKind::string)
      throw FormatError(
          keys.file, "storage keys", k.at,
          ::pare::detail::concat("a key is a ", detail::kind_name(k.kind), ", not a str"));
    const std::string& key = keys.strings[k.index];
    const auto s = storage_of.find(key);
    if (s == storage_of.end())
      throw FormatError(keys.file, "storage keys", k.at,
                        "key " + detail::printable(key) + " names no storage of the object");
    if (data_of.contains(key))
      throw FormatError(keys.file, "storage keys", k.at,
                        "key " + detail::printable(key) + " is listed twice");
    const std::string field = "storage " + detail::printable(key);
    if (bytes.size() - pos < 8)
      throw FormatError(fname, field, pos,
                        ::pare::detail::concat("the file ends ", bytes.size() - pos,
                                               " bytes into the storage's 8-byte element count"));
    std::uint64_t count = 0;
    for (std::size_t b = 0; b < 8; ++b)
      count |= std::to_integer<std::uint64_t>(bytes[static_cast<std::size_t>(pos) + b]) << (8 * b);
    const detail::TorchStorageRef& ref = *s->second;
    if (count != ref.key_numel)
      throw FormatError(
          fname, field, pos,
          ::pare::detail::concat("holds ", count, " elements, the pickle says ", ref.key_numel));
    pos += 8;
    const std::uint64_t size =
        detail::checked_mul(count, size_bits(ref.dtype) / 8, fname, field, pos);
    if (size > bytes.size() - pos)
      throw FormatError(
          fname, field, pos,
          ::pare::detail::concat(count, " ", pare::name(ref.dtype), " elements need ", size,
                                 " bytes, ", bytes.size() - pos, " remain in the file"));
    data_of.emplace(key,
                    bytes.subspan(static_cast<std::size_t>(pos), static_cast<std::size_t>(size)));
    pos += size;
  }
  if (pos != bytes.size())
    throw FormatError(fname, "end of file", pos,
                      ::pare::detail::concat(bytes.size() - pos, " bytes after the last storage"));

  names_.reserve(named.size());
  infos_.reserve(named.size());
  legacy_data_.reserve(named.size());
  for (const auto& nt : named) {
    const detail::TorchTensorRecord& t = p.tensors[nt.tensor];
    const detail::TorchStorageRef& s = p.storages[t.storage];
    const auto it = data_of.find(s.key);
    if (it == data_of.end())
      throw FormatError(p.file, nt.name, t.at,
                        "storage " + detail::printable(s.key) + " is not in the storage key list");
    add_tensor(p, nt);
    legacy_data_.push_back(it->second);
  }
}

}  // namespace pare::io
