// SPDX-License-Identifier: Apache-2.0
// pare — a strict reader of zip archives with stored (uncompressed) entries: .npz files written
// by np.savez and PyTorch checkpoints.
//
// Only the central directory is trusted for the list of entries; each entry's local header must
// agree with it (name, method, sizes, CRC when present). Every offset and size is checked
// against the file before use. Zip64 records and extra fields are understood (np.savez forces
// zip64 on every entry). Compressed entries are listed but reading one throws UnsupportedError
// naming it; entry data is verified against its CRC-32 when read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/io/detail/byte_reader.hpp"

namespace pare::io::detail {

/// One member of a zip archive, as the central directory describes it.
struct ZipEntry {
  std::string name;
  std::uint16_t method = 0;  ///< 0 stored, 8 deflate, ...
  std::uint16_t flags = 0;   ///< general purpose bit flags
  std::uint32_t crc32 = 0;   ///< CRC-32 of the uncompressed data
  std::uint64_t compressed_size = 0;
  std::uint64_t size = 0;           ///< uncompressed size
  std::uint64_t header_offset = 0;  ///< offset of the local file header
  std::uint64_t data_offset = 0;    ///< offset of the (compressed) data, from the local header
};

class ZipReader {
 public:
  static constexpr std::uint32_t eocd_signature = 0x06054b50u;
  static constexpr std::uint32_t zip64_locator_signature = 0x07064b50u;
  static constexpr std::uint32_t zip64_eocd_signature = 0x06064b50u;
  static constexpr std::uint32_t central_signature = 0x02014b50u;
  static constexpr std::uint32_t local_signature = 0x04034b50u;
  static constexpr std::uint16_t method_stored = 0;
  static constexpr std::uint16_t method_deflate = 8;

  /// Parses the directory of the archive in `bytes` (which must outlive the reader); `file`
  /// names it in errors. Throws FormatError for anything malformed, UnsupportedError for
  /// multi-disk archives and encrypted entries.
  ZipReader(std::span<const std::byte> bytes, std::string file) : r_(bytes, std::move(file)) {
    parse();
  }

  [[nodiscard]] const std::vector<ZipEntry>& entries() const noexcept { return entries_; }
  [[nodiscard]] const std::string& file() const noexcept { return r_.file(); }

  /// The entry called `name`, or nullptr.
  [[nodiscard]] const ZipEntry* find(std::string_view name) const noexcept {
    for (const auto& e : entries_)
      if (e.name == name) return &e;
    return nullptr;
  }

  /// The bytes of a stored entry, after checking its CRC-32. Compressed entries throw
  /// UnsupportedError naming the entry and its method.
  [[nodiscard]] std::span<const std::byte> read(const ZipEntry& e) const;

 private:
  static std::string hex(std::uint32_t v);
  template <class... P>
  static std::string concat(const P&... p) {
    return ::pare::detail::concat(p...);
  }

  void parse();

  ZipEntry read_central_record(std::uint64_t cd_end);

  /// The payload of extra field `id` in `extra` (which starts at file offset `at`), with its
  /// file offset; checks that the extra fields tile the area exactly.
  std::optional<std::pair<std::span<const std::byte>, std::uint64_t>> find_extra(
      std::span<const std::byte> extra, std::uint64_t at, std::uint16_t id) const;

  void read_local_header(ZipEntry& e, std::uint64_t cd_offset);

  void check_no_overlap() const;

  ByteReader r_;
  std::vector<ZipEntry> entries_;
};

}  // namespace pare::io::detail

#ifndef PARE_COMPILED_LIB
#include "pare/io/detail/zip-inl.hpp"
#endif
