// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/detail/zip.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <unordered_set>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/io/checksum.hpp"
#include "pare/io/detail/zip.hpp"

namespace pare::io::detail {

PARE_INLINE std::span<const std::byte> ZipReader::read(const ZipEntry& e) const {
  if (e.method != method_stored)
    throw UnsupportedError(
        concat(r_.file(), ": zip entry '", e.name, "' is ",
               e.method == method_deflate ? "deflate-compressed"
                                          : concat("compressed (method ", e.method, ")"),
               "; pare reads only stored entries (np.savez, not np.savez_compressed)"));
  auto data = r_.bytes_at(e.data_offset, e.size, e.name);
  const std::uint32_t c = crc32(data);
  if (c != e.crc32)
    r_.fail_at(e.data_offset, e.name,
               concat("CRC-32 of the entry is ", hex(c), ", the directory says ", hex(e.crc32)));
  return data;
}

PARE_INLINE std::string ZipReader::hex(std::uint32_t v) {
  char s[11] = "0x";
  for (int i = 0; i < 8; ++i) s[2 + i] = "0123456789abcdef"[(v >> (4 * (7 - i))) & 0xF];
  s[10] = '\0';
  return s;
}

PARE_INLINE void ZipReader::parse() {
  const std::uint64_t size = r_.size();
  if (size < 22) r_.fail_at(0, "end of central directory", "file is too short to be a zip archive");
  // The EOCD record is 22 bytes plus a comment of at most 65535 bytes, so it starts in the last
  // 65557 bytes; the comment length must reach exactly to the end of the file.
  const std::uint64_t lowest = size > 22 + 65535 ? size - 22 - 65535 : 0;
  std::optional<std::uint64_t> eocd;
  for (std::uint64_t at = size - 22 + 1; at-- > lowest;) {
    const auto* p = r_.bytes().data() + at;
    if (load_le<std::uint32_t>(p) == eocd_signature &&
        at + 22 + load_le<std::uint16_t>(p + 20) == size) {
      eocd = at;
      break;
    }
  }
  if (!eocd)
    r_.fail_at(size - 22, "end of central directory",
               "no end-of-central-directory record (not a zip archive, or truncated)");
  r_.seek(*eocd + 4, "end of central directory");
  const std::uint16_t disk = r_.read_u16("disk number");
  const std::uint16_t cd_disk = r_.read_u16("central directory disk");
  std::uint64_t count_disk = r_.read_u16("entries on this disk");
  std::uint64_t count = r_.read_u16("entry count");
  std::uint64_t cd_size = r_.read_u32("central directory size");
  std::uint64_t cd_offset = r_.read_u32("central directory offset");
  std::uint64_t cd_end_limit = *eocd;

  const bool zip64 = count == 0xFFFF || count_disk == 0xFFFF || cd_size == 0xFFFFFFFFu ||
                     cd_offset == 0xFFFFFFFFu || disk == 0xFFFF || cd_disk == 0xFFFF;
  std::uint64_t disks = disk;
  std::uint64_t cd_disks = cd_disk;
  if (zip64) {
    if (*eocd < 20)
      r_.fail_at(*eocd, "zip64 locator", "zip64 values but no room for a zip64 locator");
    r_.seek(*eocd - 20, "zip64 locator");
    if (r_.read_u32("zip64 locator") != zip64_locator_signature)
      r_.fail_at(*eocd - 20, "zip64 locator",
                 "zip64 values but no zip64 end-of-central-directory locator");
    (void)r_.read_u32("zip64 locator disk");
    const std::uint64_t z_off = r_.read_u64("zip64 end of central directory offset");
    (void)r_.read_u32("zip64 disk count");
    if (z_off > *eocd - 20 || *eocd - 20 - z_off < 56)
      r_.fail_at(
          *eocd - 12, "zip64 end of central directory offset",
          concat("offset ", z_off, " leaves no room for the 56-byte record before the locator"));
    r_.seek(z_off, "zip64 end of central directory");
    if (r_.read_u32("zip64 end of central directory") != zip64_eocd_signature)
      r_.fail_at(z_off, "zip64 end of central directory", "bad signature");
    (void)r_.read_u64("zip64 record size");
    (void)r_.read_u16("version made by");
    (void)r_.read_u16("version needed");
    disks = r_.read_u32("disk number");
    cd_disks = r_.read_u32("central directory disk");
    count_disk = r_.read_u64("entries on this disk");
    count = r_.read_u64("entry count");
    cd_size = r_.read_u64("central directory size");
    cd_offset = r_.read_u64("central directory offset");
    cd_end_limit = z_off;
  }
  if (disks != 0 || cd_disks != 0 || count_disk != count)
    throw UnsupportedError(r_.file() + ": multi-disk (split) zip archives are not supported");
  const std::uint64_t cd_end =
      checked_add(cd_offset, cd_size, r_.file(), "central directory size", *eocd + 12);
  if (cd_end > cd_end_limit)
    r_.fail_at(*eocd + 16, "central directory offset",
               concat("central directory [", cd_offset, ", ", cd_end,
                      ") runs past its end record at ", cd_end_limit));
  // Each central record is at least 46 bytes: the count cannot exceed what the bytes hold,
  // which bounds the allocation below by the file size.
  if (count > cd_size / 46)
    r_.fail_at(*eocd + 10, "entry count",
               concat(count, " entries cannot fit in a ", cd_size, "-byte central directory"));
  entries_.reserve(static_cast<std::size_t>(count));
  r_.seek(cd_offset, "central directory");
  std::unordered_set<std::string> names;
  for (std::uint64_t i = 0; i < count; ++i) {
    ZipEntry e = read_central_record(cd_end);
    if (!names.insert(e.name).second)
      r_.fail_at(r_.offset(), "entry name", concat("duplicate entry '", e.name, "'"));
    entries_.push_back(std::move(e));
  }
  if (r_.offset() != cd_end)
    r_.fail_at(r_.offset(), "central directory",
               concat("entries end at ", r_.offset(), " but the directory size says ", cd_end));
  for (auto& e : entries_) read_local_header(e, cd_offset);
  check_no_overlap();
}

PARE_INLINE ZipEntry ZipReader::read_central_record(std::uint64_t cd_end) {
  const std::uint64_t at = r_.offset();
  if (cd_end - at < 46) r_.fail_at(at, "central directory entry", "truncated record");
  if (r_.read_u32("central directory entry") != central_signature)
    r_.fail_at(at, "central directory entry", "bad signature");
  ZipEntry e;
  (void)r_.read_u16("version made by");
  (void)r_.read_u16("version needed");
  e.flags = r_.read_u16("flags");
  e.method = r_.read_u16("compression method");
  (void)r_.read_u32("modification time");
  e.crc32 = r_.read_u32("crc-32");
  e.compressed_size = r_.read_u32("compressed size");
  e.size = r_.read_u32("uncompressed size");
  const std::uint16_t name_len = r_.read_u16("name length");
  const std::uint16_t extra_len = r_.read_u16("extra field length");
  const std::uint16_t comment_len = r_.read_u16("comment length");
  std::uint64_t disk = r_.read_u16("disk number start");
  (void)r_.read_u16("internal attributes");
  (void)r_.read_u32("external attributes");
  e.header_offset = r_.read_u32("local header offset");
  const std::uint64_t record_end = at + 46 + name_len + extra_len + comment_len;
  if (record_end > cd_end)
    r_.fail_at(at, "central directory entry", "record runs past the directory");
  e.name = r_.read_string(name_len, "entry name");
  if (e.name.empty()) r_.fail_at(at + 46, "entry name", "empty name");
  const std::uint64_t extra_at = r_.offset();
  auto extra = r_.read_bytes(extra_len, "extra field");
  r_.skip(comment_len, "entry comment");
  // Zip64 extended information: the 64-bit values appear in this order, and only for the
  // fields whose 32-bit slot holds the 0xFFFFFFFF (or 0xFFFF) marker.
  if (auto z = find_extra(extra, extra_at, 0x0001)) {
    ByteReader x(z->first, r_.file(), z->second);
    if (e.size == 0xFFFFFFFFu) e.size = x.read_u64("zip64 uncompressed size");
    if (e.compressed_size == 0xFFFFFFFFu) e.compressed_size = x.read_u64("zip64 compressed size");
    if (e.header_offset == 0xFFFFFFFFu) e.header_offset = x.read_u64("zip64 local header offset");
    if (disk == 0xFFFF) disk = x.read_u32("zip64 disk number");
  }
  if (disk != 0)
    throw UnsupportedError(r_.file() + ": multi-disk (split) zip archives are not supported");
  if (e.flags & 0x0001u)
    throw UnsupportedError(concat(r_.file(), ": zip entry '", e.name, "' is encrypted"));
  if (e.method == method_stored && e.compressed_size != e.size)
    r_.fail_at(at + 20, "compressed size",
               concat("stored entry '", e.name, "' has compressed size ", e.compressed_size,
                      " but size ", e.size));
  return e;
}

PARE_INLINE std::optional<std::pair<std::span<const std::byte>, std::uint64_t>>
ZipReader::find_extra(std::span<const std::byte> extra, std::uint64_t at, std::uint16_t id) const {
  std::optional<std::pair<std::span<const std::byte>, std::uint64_t>> found;
  ByteReader x(extra, r_.file(), at);
  while (!x.at_end()) {
    const std::uint16_t tag = x.read_u16("extra field id");
    const std::uint16_t len = x.read_u16("extra field size");
    const std::uint64_t payload_at = at + x.offset();
    auto payload = x.read_bytes(len, "extra field data");
    if (tag == id && !found) found.emplace(payload, payload_at);
  }
  return found;
}

PARE_INLINE void ZipReader::read_local_header(ZipEntry& e, std::uint64_t cd_offset) {
  const std::uint64_t at = e.header_offset;
  if (at > cd_offset || cd_offset - at < 30)
    r_.fail_at(
        at, e.name,
        concat("local header at ", at, " is not before the central directory at ", cd_offset));
  r_.seek(at, e.name);
  if (r_.read_u32("local header") != local_signature)
    r_.fail_at(at, e.name, "bad local header signature");
  (void)r_.read_u16("version needed");
  const std::uint16_t flags = r_.read_u16("flags");
  const std::uint16_t method = r_.read_u16("compression method");
  (void)r_.read_u32("modification time");
  const std::uint32_t crc = r_.read_u32("crc-32");
  std::uint64_t csize = r_.read_u32("compressed size");
  std::uint64_t usize = r_.read_u32("uncompressed size");
  const std::uint16_t name_len = r_.read_u16("name length");
  const std::uint16_t extra_len = r_.read_u16("extra field length");
  const std::string name = r_.read_string(name_len, "entry name");
  const std::uint64_t extra_at = r_.offset();
  auto extra = r_.read_bytes(extra_len, "extra field");
  if (name != e.name)
    r_.fail_at(at + 30, "entry name",
               concat("local header names '", name, "' but the directory names '", e.name, "'"));
  if (method != e.method)
    r_.fail_at(at + 8, e.name,
               concat("local header method ", method, " differs from the directory's ", e.method));
  if (!(flags & 0x0008u)) {  // without a data descriptor the local sizes and CRC are real
    if (usize == 0xFFFFFFFFu || csize == 0xFFFFFFFFu) {
      auto z = find_extra(extra, extra_at, 0x0001);
      if (!z) r_.fail_at(at + 18, e.name, "zip64 size markers without a zip64 extra field");
      ByteReader x(z->first, r_.file(), z->second);
      if (usize == 0xFFFFFFFFu) usize = x.read_u64("zip64 uncompressed size");
      if (csize == 0xFFFFFFFFu) csize = x.read_u64("zip64 compressed size");
    }
    if (crc != e.crc32 || csize != e.compressed_size || usize != e.size)
      r_.fail_at(at + 14, e.name, "local header CRC or sizes differ from the central directory");
  }
  e.data_offset = r_.offset();
  const std::uint64_t end =
      checked_add(e.data_offset, e.compressed_size, r_.file(), e.name, at + 18);
  if (end > cd_offset)
    r_.fail_at(e.data_offset, e.name,
               concat("entry data [", e.data_offset, ", ", end,
                      ") runs into the central directory at ", cd_offset));
}

PARE_INLINE void ZipReader::check_no_overlap() const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
  spans.reserve(entries_.size());
  for (const auto& e : entries_)
    spans.emplace_back(e.header_offset, e.data_offset + e.compressed_size);
  std::sort(spans.begin(), spans.end());
  for (std::size_t i = 1; i < spans.size(); ++i)
    if (spans[i].first < spans[i - 1].second)
      r_.fail_at(spans[i].first, "local header", "zip entries overlap");
}

}  // namespace pare::io::detail
