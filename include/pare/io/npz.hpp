// SPDX-License-Identifier: Apache-2.0
// pare — numpy .npz archives (np.savez): a zip of .npy files, read zero-copy through a map.
//
//     auto z = pare::io::NpzFile::open("weights.npz");
//     for (const auto& n : z.names()) ...                  // "a", "b" (".npy" stripped, as numpy)
//     auto a = z.read<float, 2>("a");                      // Tensor<float, 2>
//
// Only stored entries can be read (np.savez); np.savez_compressed deflates its entries, and
// reading one throws UnsupportedError naming it (listing still works). Each entry's CRC-32 is
// verified when it is read.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> out;
    out.reserve(zip_.entries().size());
    for (const auto& e : zip_.entries()) out.push_back(strip(e.name));
    return out;
  }

  [[nodiscard]] bool contains(std::string_view name) const { return entry(name) != nullptr; }

  /// The array `name` (with or without ".npy"), zero-copy. Throws ArgumentError for an unknown
  /// name, UnsupportedError for a compressed entry, FormatError for a bad entry.
  [[nodiscard]] NpyArray array(std::string_view name) const {
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
  [[nodiscard]] const detail::ZipEntry* entry(std::string_view name) const {
    for (const auto& e : zip_.entries())
      if (e.name == name || strip(e.name) == name) return &e;
    return nullptr;
  }

  MappedFile file_;
  detail::ZipReader zip_;
};

}  // namespace pare::io
