// SPDX-License-Identifier: Apache-2.0
// pare — which format a file is in, from its first bytes (never from its name).
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "pare/core/error.hpp"

namespace pare::io {

enum class FileFormat { pare, safetensors, npy, npz, torch, gguf, hdf5, onnx, unknown };

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
    case FileFormat::onnx:
      return "ONNX";
    case FileFormat::unknown:
      break;
  }
  return "unknown";
}

/// True when `b` starts like an ONNX ModelProto: field 1 (ir_version) as a varint (tag 0x08)
/// holding 1..255, followed by the end of the bytes or the tag of another ModelProto field with
/// its proper wire type. Protobuf has no magic number; this rejects other formats' headers
/// (a safetensors length, a text file) while every exporter writes ir_version first.
[[nodiscard]] bool looks_like_onnx(std::span<const std::byte> b) noexcept;

/// True when `b` starts like a legacy torch.save stream (PyTorch before 1.6, or
/// `_use_new_zipfile_serialization=False`): a pickle (PROTO 2 to 5, then a FRAME header with
/// protocol 4 and 5) holding only LONG1 of the magic number 0x1950a86a20f9469cfc6c, then STOP.
[[nodiscard]] constexpr bool looks_like_legacy_torch(std::span<const std::byte> b) noexcept {
  constexpr unsigned char magic[] = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                     0x20, 0x6a, 0xa8, 0x50, 0x19, '.'};
  auto at = [&](std::size_t i) { return std::to_integer<unsigned>(b[i]); };
  if (b.size() < 2 || at(0) != 0x80 || at(1) < 2 || at(1) > 5) return false;
  std::size_t i = 2;
  if (b.size() > i && at(i) == 0x95) i += 9;  // FRAME: opcode and 8-byte length
  if (b.size() < i + sizeof magic) return false;
  for (unsigned char m : magic)
    if (at(i++) != m) return false;
  return true;
}

/// The format of a file in memory. A zip archive is a PyTorch checkpoint when it holds a
/// `<archive>/data.pkl` entry, else an .npz; a legacy (pre-zip) torch.save stream is recognized
/// by its pickled magic number; safetensors by a plausible 8-byte header length followed by '{'.
[[nodiscard]] FileFormat detect_format(std::span<const std::byte> b, const std::string& name);

/// The format of the file at `path` (mapped, not read whole).
[[nodiscard]] FileFormat detect_format(const std::filesystem::path& path);

}  // namespace pare::io

#ifndef PARE_COMPILED_LIB
#include "pare/io/detect-inl.hpp"
#endif
