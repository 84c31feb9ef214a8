// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/torch_checkpoint.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/io/detail/byte_reader.hpp"
#include "pare/io/detect.hpp"
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

PARE_INLINE TorchCheckpoint::TorchCheckpoint(MappedFile file, const detail::PickleLimits& limits)
    : file_(std::move(file)), zip_(open_zip(file_)) {
  parse(limits);
}

PARE_INLINE std::vector<std::byte> TorchCheckpoint::load_bytes(std::string_view name) const {
  const std::size_t k = find(name);
  const TorchTensorInfo& i = infos_[k];
  std::vector<std::byte> out(i.size() * (size_bits(i.dtype) / 8));
  gather(k, out.data());
  if (i.dtype == DType::boolean)
    for (std::byte b : out)
      if (b > std::byte{1})
        throw FormatError(file_.name(), std::string(name), i.offset,
                          "a bool tensor holds a byte other than 0 and 1");
  return out;
}

PARE_INLINE std::optional<detail::ZipReader> TorchCheckpoint::open_zip(const MappedFile& f) {
  const auto b = f.bytes();
  auto starts = [&](std::initializer_list<unsigned> magic, std::size_t at = 0) {
    if (b.size() < at + magic.size()) return false;
    std::size_t i = at;
    for (unsigned m : magic)
      if (std::to_integer<unsigned>(b[i++]) != m) return false;
    return true;
  };
  if (looks_like_legacy_torch(b)) return std::nullopt;
  // Before the legacy pickle stream (PyTorch < 0.4), a tar archive.
  if (starts({'u', 's', 't', 'a', 'r'}, 257))
    throw UnsupportedError(f.name() +
                           ": tar-format PyTorch checkpoint (PyTorch < 0.4); re-save it with a "
                           "current PyTorch");
  return detail::ZipReader(b, f.name());
}

PARE_INLINE std::size_t TorchCheckpoint::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  if (it == index_.end())
    throw ArgumentError(file_.name() + " has no tensor '" + std::string(name) + "'");
  return it->second;
}

PARE_INLINE std::string TorchCheckpoint::shape_text(const std::vector<std::size_t>& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

PARE_INLINE void TorchCheckpoint::gather(std::size_t k, std::byte* out) const {
  const TorchTensorInfo& i = infos_[k];
  const std::size_t n = i.size();
  if (n == 0) return;
  const std::size_t w = size_bits(i.dtype) / 8;
  const std::span<const std::byte> data =
      zip_ ? zip_->read(zip_->entries()[entry_[k]])  // checks the CRC-32
           : legacy_data_[k];
  const std::byte* base = data.data() + i.storage_offset * w;
  if (i.is_contiguous()) {
    std::memcpy(out, base, n * w);
  } else {
    const std::size_t rank = i.rank();
    std::vector<std::size_t> idx(rank, 0);
    std::size_t off = 0;  // element offset of idx, kept incrementally
    for (std::size_t e = 0; e < n; ++e) {
      std::memcpy(out + e * w, base + off * w, w);
      for (std::size_t d = rank; d-- > 0;) {
        if (++idx[d] < i.shape[d]) {
          off += i.strides[d];
          break;
        }
        off -= (i.shape[d] - 1) * i.strides[d];
        idx[d] = 0;
      }
    }
  }
  if (big_endian_ && w > 1)
    for (std::size_t e = 0; e < n; ++e) std::reverse(out + e * w, out + (e + 1) * w);
}

PARE_INLINE void TorchCheckpoint::parse(const detail::PickleLimits& limits) {
  if (!zip_) {
    parse_legacy(limits);
    return;
  }
  const detail::ZipReader& zip = *zip_;
  const std::string& fname = file_.name();
  const auto& entries = zip.entries();
  if (entries.empty()) throw FormatError(fname, "zip directory", 0, "archive has no entries");
  // torch's reader takes the folder of the first entry as the archive name.
  const std::string& first = entries.front().name;
  const auto slash = first.find('/');
  if (slash == std::string::npos || slash == 0)
    throw FormatError(
        fname, first, entries.front().header_offset,
        "entry is not inside a folder; a torch.save archive keeps every entry in <name>/");
  prefix_ = first.substr(0, slash);
  const std::string dir = prefix_ + "/";
  if (zip.find(dir + "constants.pkl") != nullptr)
    throw UnsupportedError(
        fname +
        ": a TorchScript archive (torch.jit.save); pare reads torch.save checkpoints "
        "of state_dicts (save model.state_dict() instead)");
  const detail::ZipEntry* pkl = zip.find(dir + "data.pkl");
  if (pkl == nullptr) throw FormatError(fname, dir + "data.pkl", 0, "archive has no data.pkl");
  read_version(dir);
  read_byteorder(dir);

  const auto pickle_bytes = zip.read(*pkl);
  const detail::Pickle p =
      detail::run_pickle(pickle_bytes, fname + ":" + pkl->name, pkl->data_offset, limits);
  const auto named = detail::state_dict_tensors(p, limits);

  std::unordered_map<std::string, std::size_t> storage_entry;  // key -> entry index
  for (std::size_t e = 0; e < entries.size(); ++e)
    if (entries[e].name.size() > dir.size() + 5 && entries[e].name.starts_with(dir + "data/"))
      storage_entry.emplace(entries[e].name.substr(dir.size() + 5), e);

  names_.reserve(named.size());
  infos_.reserve(named.size());
  entry_.reserve(named.size());
  for (const auto& nt : named) {
    const detail::TorchTensorRecord& t = p.tensors[nt.tensor];
    const detail::TorchStorageRef& s = p.storages[t.storage];
    auto it = storage_entry.find(s.key);
    if (it == storage_entry.end())
      throw FormatError(p.file, nt.name, t.at,
                        "storage " + detail::printable(s.key) + " has no entry " +
                            detail::printable(dir + "data/" + s.key) + " in the archive");
    const detail::ZipEntry& e = entries[it->second];
    const std::uint64_t bytes =
        detail::checked_mul(s.key_numel, size_bits(s.dtype) / 8, p.file, nt.name, t.at);
    if (bytes != e.size)
      throw FormatError(
          p.file, nt.name, t.at,
          ::pare::detail::concat("storage '", s.key, "' of ", s.key_numel, " ", pare::name(s.dtype),
                                 " elements needs ", bytes, " bytes, its entry holds ", e.size));
    add_tensor(p, nt);
    entry_.push_back(it->second);
  }
}

PARE_INLINE void TorchCheckpoint::read_version(const std::string& dir) {
  const detail::ZipEntry* v = zip_->find(dir + "version");
  if (v == nullptr) v = zip_->find(dir + ".data/version");
  if (v == nullptr)
    throw FormatError(file_.name(), dir + "version", 0, "archive has no version record");
  const auto b = zip_->read(*v);
  std::uint64_t n = 0;
  std::size_t digits = 0;
  for (; digits < b.size() && digits < 4; ++digits) {
    const auto c = std::to_integer<unsigned>(b[digits]);
    if (c < '0' || c > '9') break;
    n = n * 10 + (c - '0');
  }
  const bool newline_only =
      digits == b.size() || (digits + 1 == b.size() && b[digits] == std::byte{'\n'});
  if (digits == 0 || !newline_only)
    throw FormatError(file_.name(), v->name, v->data_offset,
                      "version record is not a decimal number");
  if (n < 1 || n > 10)
    throw UnsupportedError(::pare::detail::concat(file_.name(), ": archive format version ", n,
                                                  " (pare reads versions 1 to 10)"));
  version_ = static_cast<unsigned>(n);
}

PARE_INLINE void TorchCheckpoint::read_byteorder(const std::string& dir) {
  const detail::ZipEntry* o = zip_->find(dir + "byteorder");
  if (o == nullptr) return;  // files before PyTorch 2.1 have none and are little-endian
  const auto b = zip_->read(*o);
  const std::string s(reinterpret_cast<const char*>(b.data()), b.size());
  if (s == "little")
    big_endian_ = false;
  else if (s == "big")
    big_endian_ = true;
  else
    throw FormatError(file_.name(), o->name, o->data_offset,
                      "byteorder is " + detail::printable(s) + ", not 'little' or 'big'");
}

PARE_INLINE std::string TorchCheckpoint::dims_text(const std::vector<std::uint64_t>& s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

}  // namespace pare::io
