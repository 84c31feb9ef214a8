// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/detect.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

#include "pare/core/config.hpp"
#include "pare/io/detail/zip.hpp"
#include "pare/io/detect.hpp"
#include "pare/io/mapped_file.hpp"

namespace pare::io {

PARE_INLINE bool looks_like_onnx(std::span<const std::byte> b) noexcept {
  auto at = [&](std::size_t i) { return std::to_integer<unsigned>(b[i]); };
  if (b.size() < 2 || at(0) != 0x08) return false;
  std::size_t i = 1;
  unsigned version = at(i++);
  if (version & 0x80u) {  // a two-byte varint: versions up to 255
    if (i >= b.size() || at(i) > 1) return false;
    version = (version & 0x7Fu) | (at(i++) << 7);
  }
  if (version == 0) return false;
  if (i == b.size()) return true;
  const unsigned tag = at(i);
  const unsigned field = tag >> 3, wire = tag & 7u;
  switch (field) {
    case 2:
    case 3:
    case 4:
    case 6:
    case 7:
    case 8:
    case 14:
    case 20:
    case 25:
      return wire == 2;  // strings and messages
    case 5:
      return wire == 0;  // model_version
    default:
      return false;
  }
}

PARE_INLINE FileFormat detect_format(std::span<const std::byte> b, const std::string& name) {
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
  if (looks_like_legacy_torch(b)) return FileFormat::torch;
  if (looks_like_onnx(b)) return FileFormat::onnx;
  if (b.size() >= 10) {
    std::uint64_t n = 0;
    std::memcpy(&n, b.data(), 8);  // little-endian hosts only (pare's io requires it)
    if (n >= 2 && n <= b.size() - 8 && static_cast<char>(b[8]) == '{')
      return FileFormat::safetensors;
  }
  return FileFormat::unknown;
}

PARE_INLINE FileFormat detect_format(const std::filesystem::path& path) {
  const MappedFile f = MappedFile::open(path);
  return detect_format(f.bytes(), f.name());
}

}  // namespace pare::io
