// SPDX-License-Identifier: Apache-2.0
// pare — numpy .npz archives (np.savez): a zip of .npy files, read zero-copy through a map, and
// written uncompressed.
//
//     auto z = pare::io::NpzFile::open("weights.npz");
//     for (const auto& n : z.names()) ...                  // "a", "b" (".npy" stripped, as numpy)
//     auto a = z.read<float, 2>("a");                      // Tensor<float, 2>
//
//     pare::io::write_npz("out.npz", {pare::io::npz_entry("w", w), pare::io::npz_entry("b", b)});
//
// Only stored entries can be read (np.savez); np.savez_compressed deflates its entries, and
// reading one throws UnsupportedError naming it (listing still works). Each entry's CRC-32 is
// verified when it is read. write_npz writes what np.savez writes: one stored member
// "<name>.npy" per array, each a .npy image (npy.hpp), so np.load and NpzFile read it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/dtype.hpp"

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/io/detail/zip.hpp"
#include "pare/io/mapped_file.hpp"
#include "pare/io/npy.hpp"

namespace pare::io {

class NpzFile {
 public:
  /// Maps and indexes `path`; throws FormatError for a malformed archive.
  [[nodiscard]] static NpzFile open(const std::filesystem::path& path) {
    return NpzFile(MappedFile::open(path));
  }

  /// Indexes an archive already mapped (or held in memory with MappedFile::from_buffer).
  explicit NpzFile(MappedFile file) : file_(std::move(file)), zip_(file_.bytes(), file_.name()) {}

  /// Array names in archive order, with the ".npy" suffix removed (as numpy's NpzFile.files).
  [[nodiscard]] std::vector<std::string> names() const;

  [[nodiscard]] bool contains(std::string_view name) const { return entry(name) != nullptr; }

  /// The array `name` (with or without ".npy"), zero-copy. Throws ArgumentError for an unknown
  /// name, UnsupportedError for a compressed entry, FormatError for a bad entry.
  [[nodiscard]] NpyArray array(std::string_view name) const;

  /// The array `name` as a row-major Tensor<T, Rank> (checks dtype and rank).
  template <NpyElement T, std::size_t Rank>
  [[nodiscard]] Tensor<T, Rank> read(std::string_view name) const {
    return array(name).template to_tensor<T, Rank>();
  }

  [[nodiscard]] const MappedFile& file() const noexcept { return file_; }

 private:
  static std::string strip(const std::string& n) {
    return n.size() > 4 && n.ends_with(".npy") ? n.substr(0, n.size() - 4) : n;
  }
  [[nodiscard]] const detail::ZipEntry* entry(std::string_view name) const;

  MappedFile file_;
  detail::ZipReader zip_;
};

/// One array for write_npz: elements in native byte order, row-major (column-major when
/// `fortran_order`). `data` is not copied: it must stay valid until write_npz returns.
struct NpzEntry {
  std::string name;  ///< the member is "<name>.npy", as np.savez names it
  DType dtype = DType::f32;
  std::vector<std::size_t> shape;  ///< empty for a 0-d array
  std::span<const std::byte> data;
  bool fortran_order = false;
};

/// An entry for a contiguous tensor (which must outlive the write).
template <NpyElement T, std::size_t Rank>
[[nodiscard]] NpzEntry npz_entry(std::string name, const Tensor<T, Rank>& t) {
  return {std::move(name), dtype_traits<T>::dtype,
          std::vector<std::size_t>(t.extents().begin(), t.extents().end()), std::as_bytes(t.span()),
          false};
}

/// Writes `arrays` as an uncompressed .npz (a zip of stored "<name>.npy" members, np.savez's
/// format), atomically, in the given order. Each member is the .npy image write_npy writes.
/// Zip64 extra fields and end records are written when a member or an offset reaches 4 GiB,
/// or for every member with `always_zip64` (np.savez does that; both read the same).
/// Throws ArgumentError for an empty, repeated or over-long name or one holding a NUL byte,
/// UnsupportedError for a dtype numpy lacks (bf16, fp8, packed int4), ShapeError when an
/// array's data does not match its shape and dtype.
///
///     pare::io::write_npz("out.npz", {pare::io::npz_entry("x", x), pare::io::npz_entry("y", y)});
void write_npz(const std::filesystem::path& path, std::span<const NpzEntry> arrays,
               bool always_zip64 = false);

void write_npz(const std::filesystem::path& path, std::initializer_list<NpzEntry> arrays,
               bool always_zip64 = false);

}  // namespace pare::io

#ifndef PARE_COMPILED_LIB
#include "pare/io/npz-inl.hpp"
#endif
