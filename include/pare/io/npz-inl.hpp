// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/npz.hpp: compiled once into pare::compiled, or included by the header
// (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/io/atomic_write.hpp"
#include "pare/io/checksum.hpp"
#include "pare/io/detail/npy_header.hpp"
#include "pare/io/npz.hpp"

namespace pare::io {

namespace detail {

inline constexpr std::uint64_t zip32_max = 0xFFFFFFFFu;  // also the "see zip64" sentinel

inline void put_le(std::vector<std::byte>& out, std::uint64_t v, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i)
    out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
}

}  // namespace detail

PARE_INLINE void write_npz(const std::filesystem::path& path, std::span<const NpzEntry> arrays,
                           bool always_zip64) {
  using detail::put_le;
  using detail::zip32_max;
  struct Member {
    std::string name;    // "<name>.npy"
    std::string header;  // the .npy header
    std::span<const std::byte> data;
    std::uint32_t crc = 0;
    std::uint64_t size = 0;    // header + data
    std::uint64_t offset = 0;  // of the local header
    bool utf8 = false;
  };
  std::vector<Member> members;
  members.reserve(arrays.size());
  std::unordered_set<std::string> seen;
  for (const NpzEntry& a : arrays) {
    PARE_CHECK(!a.name.empty(), ArgumentError, "write_npz: an array has an empty name");
    PARE_CHECK(a.name.find('\0') == std::string::npos, ArgumentError, "write_npz: array name '",
               a.name, "' holds a NUL byte");
    PARE_CHECK(seen.insert(a.name).second, ArgumentError, "write_npz: two arrays are named '",
               a.name, "'");
    Member m;
    m.name = a.name + ".npy";
    PARE_CHECK(m.name.size() <= 0xFFFF, ArgumentError, "write_npz: array name of ", a.name.size(),
               " bytes is too long for a zip archive");
    const auto descr = detail::npy_descr(a.dtype);
    if (!descr)
      throw UnsupportedError(::pare::detail::concat("write_npz: array '", a.name, "' is ",
                                                    pare::name(a.dtype),
                                                    ", which numpy has no dtype for"));
    std::size_t count = 1;
    for (auto e : a.shape) {
      PARE_CHECK(e == 0 || count <= std::numeric_limits<std::size_t>::max() / e, ShapeError,
                 "write_npz: the element count of array '", a.name, "' overflows size_t");
      count *= e;
    }
    const std::size_t width = detail::npy_itemsize(a.dtype);
    PARE_CHECK(
        count <= std::numeric_limits<std::size_t>::max() / width && count * width == a.data.size(),
        ShapeError, "write_npz: array '", a.name, "' of ", count, " ", pare::name(a.dtype),
        " elements needs ", count * width, " bytes, got ", a.data.size());
    m.header = detail::npy_header_bytes(*descr, a.shape, a.fortran_order);
    m.data = a.data;
    m.crc = crc32(a.data, crc32(std::as_bytes(std::span(m.header))));
    m.size = m.header.size() + a.data.size();
    for (char c : m.name) m.utf8 = m.utf8 || static_cast<unsigned char>(c) >= 0x80;
    members.push_back(std::move(m));
  }

  // Local headers and data; a member whose size reaches 4 GiB carries its sizes in a zip64
  // extra field. Times are 1980-01-01 00:00, the earliest DOS date, so output is reproducible.
  constexpr std::uint16_t dos_date = (0u << 9) | (1u << 5) | 1u;
  std::uint64_t offset = 0;
  std::vector<std::byte> head;
  atomic_write(path, [&](FileSink& s) {
    for (Member& m : members) {
      m.offset = offset;
      const bool z = always_zip64 || m.size >= zip32_max;
      head.clear();
      put_le(head, 0x04034b50u, 4);
      put_le(head, z ? 45 : 20, 2);         // version needed to extract
      put_le(head, m.utf8 ? 0x800 : 0, 2);  // flags: bit 11 = UTF-8 name
      put_le(head, 0, 2);                   // stored
      put_le(head, 0, 2);                   // time
      put_le(head, dos_date, 2);
      put_le(head, m.crc, 4);
      put_le(head, z ? zip32_max : m.size, 4);
      put_le(head, z ? zip32_max : m.size, 4);
      put_le(head, m.name.size(), 2);
      put_le(head, z ? 20 : 0, 2);
      head.insert(head.end(), reinterpret_cast<const std::byte*>(m.name.data()),
                  reinterpret_cast<const std::byte*>(m.name.data()) + m.name.size());
      if (z) {
        put_le(head, 0x0001, 2);
        put_le(head, 16, 2);
        put_le(head, m.size, 8);
        put_le(head, m.size, 8);
      }
      s.write(head);
      s.write(m.header);
      s.write(m.data);
      offset += head.size() + m.size;
    }

    // The central directory: zip64 values for exactly the fields that need them (all of them
    // with always_zip64), in the order the format fixes: size, compressed size, offset.
    const std::uint64_t cd_offset = offset;
    std::vector<std::byte> cd;
    for (const Member& m : members) {
      const bool big_size = always_zip64 || m.size >= zip32_max;
      const bool big_offset = always_zip64 || m.offset >= zip32_max;
      const std::size_t extra = (big_size ? 16 : 0) + (big_offset ? 8 : 0);
      put_le(cd, 0x02014b50u, 4);
      put_le(cd, extra ? 45 : 20, 2);  // version made by (MS-DOS attributes)
      put_le(cd, extra ? 45 : 20, 2);  // version needed
      put_le(cd, m.utf8 ? 0x800 : 0, 2);
      put_le(cd, 0, 2);
      put_le(cd, 0, 2);
      put_le(cd, dos_date, 2);
      put_le(cd, m.crc, 4);
      put_le(cd, big_size ? zip32_max : m.size, 4);
      put_le(cd, big_size ? zip32_max : m.size, 4);
      put_le(cd, m.name.size(), 2);
      put_le(cd, extra ? extra + 4 : 0, 2);
      put_le(cd, 0, 2);  // comment
      put_le(cd, 0, 2);  // disk
      put_le(cd, 0, 2);  // internal attributes
      put_le(cd, 0, 4);  // external attributes
      put_le(cd, big_offset ? zip32_max : m.offset, 4);
      cd.insert(cd.end(), reinterpret_cast<const std::byte*>(m.name.data()),
                reinterpret_cast<const std::byte*>(m.name.data()) + m.name.size());
      if (extra) {
        put_le(cd, 0x0001, 2);
        put_le(cd, extra, 2);
        if (big_size) {
          put_le(cd, m.size, 8);
          put_le(cd, m.size, 8);
        }
        if (big_offset) put_le(cd, m.offset, 8);
      }
    }
    const std::uint64_t cd_size = cd.size();
    const std::uint64_t count = members.size();
    const bool z =
        always_zip64 || count >= 0xFFFF || cd_size >= zip32_max || cd_offset >= zip32_max;
    if (z) {
      const std::uint64_t eocd64 = cd_offset + cd_size;
      put_le(cd, 0x06064b50u, 4);  // zip64 end of central directory record
      put_le(cd, 44, 8);           // size of the rest of the record
      put_le(cd, 45, 2);
      put_le(cd, 45, 2);
      put_le(cd, 0, 4);
      put_le(cd, 0, 4);
      put_le(cd, count, 8);
      put_le(cd, count, 8);
      put_le(cd, cd_size, 8);
      put_le(cd, cd_offset, 8);
      put_le(cd, 0x07064b50u, 4);  // its locator
      put_le(cd, 0, 4);
      put_le(cd, eocd64, 8);
      put_le(cd, 1, 4);
    }
    put_le(cd, 0x06054b50u, 4);
    put_le(cd, 0, 2);
    put_le(cd, 0, 2);
    put_le(cd, z ? 0xFFFF : count, 2);
    put_le(cd, z ? 0xFFFF : count, 2);
    put_le(cd, z ? zip32_max : cd_size, 4);
    put_le(cd, z ? zip32_max : cd_offset, 4);
    put_le(cd, 0, 2);
    s.write(cd);
  });
}

PARE_INLINE void write_npz(const std::filesystem::path& path,
                           std::initializer_list<NpzEntry> arrays, bool always_zip64) {
  write_npz(path, std::span<const NpzEntry>(arrays.begin(), arrays.size()), always_zip64);
}

PARE_INLINE std::vector<std::string> NpzFile::names() const {
  std::vector<std::string> out;
  out.reserve(zip_.entries().size());
  for (const auto& e : zip_.entries()) out.push_back(strip(e.name));
  return out;
}

PARE_INLINE NpyArray NpzFile::array(std::string_view name) const {
  const detail::ZipEntry* e = entry(name);
  if (e == nullptr) {
    std::string list;
    for (const auto& n : names()) list += (list.empty() ? "" : ", ") + n;
    throw ArgumentError(file_.name() + " has no array '" + std::string(name) +
                        "' (it has: " + list + ")");
  }
  const auto bytes = zip_.read(*e);
  return parse_npy(bytes, file_.keep_alive(), file_.name() + ":" + e->name, e->data_offset);
}

PARE_INLINE const detail::ZipEntry* NpzFile::entry(std::string_view name) const {
  for (const auto& e : zip_.entries())
    if (e.name == name || strip(e.name) == name) return &e;
  return nullptr;
}

}  // namespace pare::io
