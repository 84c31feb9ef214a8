// SPDX-License-Identifier: Apache-2.0
// pare — which format a file is in, from its first bytes (never from its name).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "pare/core/error.hpp"
#include "pare/io/detail/zip.hpp"
#include "pare/io/mapped_file.hpp"

namespace pare::io {

enum class FileFormat { pare, safetensors, npy, npz, torch, gguf, hdf5, unknown };

[[nodiscard]] constexpr std::string_view name(FileFormat f) noexcept {
  switch (f) {
    case FileFormat::pare:
      return ".pare";
    case FileFormat::safetensors:
      return "safetensors";
    case FileFormat::npy:
      return ".npy";
    case FileFormat::npz:
      return ".npz";
    case FileFormat::torch:
      return "PyTorch checkpoint";
    case FileFormat::gguf:
      return "GGUF";
    case FileFormat::hdf5:
      return "HDF5";
    case FileFormat::unknown:
      break;
  }
  return "unknown";
}

/// The format of a file in memory. A zip archive is a PyTorch checkpoint when it holds a
/// `<archive>/data.pkl` entry, else an .npz; safetensors is recognized by a plausible 8-byte
/// header length followed by '{'.
[[nodiscard]] inline FileFormat detect_format(std::span<const std::byte> b,
                                              const std::string& name) {
  auto starts = [&](std::string_view magic) {
    return b.size() >= magic.size() && std::memcmp(b.data(), magic.data(), magic.size()) == 0;
  };
  if (starts("\x89PARE\r\n\x1a")) return FileFormat::pare;
  if (starts("GGUF")) return FileFormat::gguf;
  if (starts("\x93NUMPY")) return FileFormat::npy;
  if (starts("\x89HDF\r\n\x1a\n")) return FileFormat::hdf5;
  if (starts("PK\x03\x04") || starts("PK\x05\x06")) {
    const detail::ZipReader zip(b, name);
    for (const auto& e : zip.entries()) {
      const std::string_view n = e.name;
      if (n.size() >= 9 && n.substr(n.size() - 9) == "/data.pkl") return FileFormat::torch;
    }
    return FileFormat::npz;
  }
  if (b.size() >= 10) {
    std::uint64_t n = 0;
    std::memcpy(&n, b.data(), 8);  // little-endian hosts only (pare's io requires it)
    if (n >= 2 && n <= b.size() - 8 && static_cast<char>(b[8]) == '{')
      return FileFormat::safetensors;
  }
  return FileFormat::unknown;
}

/// The format of the file at `path` (mapped, not read whole).
[[nodiscard]] inline FileFormat detect_format(const std::filesystem::path& path) {
  const MappedFile f = MappedFile::open(path);
  return detect_format(f.bytes(), f.name());
}

}  // namespace pare::io
