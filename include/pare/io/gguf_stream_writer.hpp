// SPDX-License-Identifier: Apache-2.0
// pare — a GGUF v3 writer that takes each tensor's data in order, in pieces, so a file larger
// than memory can be written while its tensors are produced one at a time.
//
//     pare::io::GgufStreamWriter w("out.gguf", metadata,
//                                  {{"a.weight", {4096, 4096}, pare::io::GgmlType::q8_0},
//                                   {"a.norm", {4096}, pare::io::GgmlType::f32}});
//     for (each row block of a.weight) w.write_floats(rows);   // quantized as it arrives
//     w.write_floats(norm);
//     w.finish();   // checks every tensor got exactly its bytes, then renames into place
//
// The layout is write_gguf's (which is built on this writer): header, metadata in the given
// order, tensor infos, zero padding to the alignment, each tensor's data padded to the
// alignment. The file is written through atomic_write's temporary: nothing appears at the path
// before finish(), and a writer destroyed unfinished (an exception, an early return) removes
// its temporary and leaves an existing file at the path untouched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "pare/io/detail/gguf_metadata.hpp"
#include "pare/io/detail/gguf_types.hpp"

namespace pare::io {

namespace detail {
class AtomicFile;
}

/// Name, shape (row-major, 1 to 4 dimensions) and ggml type of one tensor to write.
struct GgufTensorSpec {
  std::string name;
  std::vector<std::size_t> shape;
  GgmlType type = GgmlType::f32;
};

class GgufStreamWriter {
 public:
  /// Checks the metadata and the tensor list, creates the temporary next to `path` and writes
  /// the header and tensor infos. ArgumentError for empty metadata keys, arrays nested deeper
  /// than GgufCodec::max_depth, a `general.alignment` that is not a u32 power of two, empty,
  /// duplicate or over-long (>= 64 bytes, llama.cpp's limit) tensor names, a rank outside
  /// 1..4, a type that is not a ggml type, a row length that is not a multiple of the block
  /// size, or sizes that overflow; pare::Error when the file cannot be created.
  GgufStreamWriter(const std::filesystem::path& path, const GgufMetadata& metadata,
                   std::vector<GgufTensorSpec> tensors);
  GgufStreamWriter(const GgufStreamWriter&) = delete;
  GgufStreamWriter& operator=(const GgufStreamWriter&) = delete;
  /// An unfinished writer removes its temporary.
  ~GgufStreamWriter();

  /// Appends packed bytes (ggml blocks of its type) to the current tensor; a piece may end
  /// anywhere, and a piece that completes a tensor must not run into the next one.
  /// ArgumentError when `bytes` is longer than what the current tensor still needs (or every
  /// tensor is complete); the file is then left unfinished.
  void write(std::span<const std::byte> bytes);

  /// Converts `values` to the current tensor's type (f32, f16, q8_0 or q4_0, as write_gguf
  /// does) and appends them. The current tensor must be at a block boundary and `values` a
  /// whole number of blocks; ArgumentError otherwise, for non-finite values to quantize, or
  /// for more values than the tensor still needs; UnsupportedError for another type.
  void write_floats(std::span<const float> values);

  /// Checks that every tensor received exactly its bytes (ArgumentError naming the first that
  /// did not), flushes, fsyncs and renames the file into place. Once only.
  void finish();

  /// The tensors as given, in file order.
  [[nodiscard]] const std::vector<GgufTensorSpec>& tensors() const noexcept { return specs_; }
  /// Packed bytes tensor `k` takes (without padding).
  [[nodiscard]] std::uint64_t tensor_bytes(std::size_t k) const { return sizes_.at(k); }
  /// Index of the tensor the next bytes belong to; tensors().size() once all are complete.
  [[nodiscard]] std::size_t current() const noexcept { return current_; }
  /// Bytes of the current tensor still expected.
  [[nodiscard]] std::uint64_t remaining() const noexcept;
  /// Bytes of the whole file (header, data, padding) and how many are written so far.
  [[nodiscard]] std::uint64_t file_size() const noexcept { return file_size_; }
  [[nodiscard]] std::uint64_t bytes_written() const noexcept;

 private:
  void advance();

  std::string path_;
  std::vector<GgufTensorSpec> specs_;
  std::vector<std::uint64_t> sizes_;
  std::uint64_t alignment_ = 32;
  std::uint64_t file_size_ = 0;
  std::size_t current_ = 0;
  std::uint64_t done_ = 0;  // bytes of the current tensor written
  bool finished_ = false;
  bool broken_ = false;  // a write threw part-way
  std::unique_ptr<detail::AtomicFile> file_;
};

}  // namespace pare::io

#ifndef PARE_COMPILED_LIB
#include "pare/io/gguf_stream_writer-inl.hpp"
#endif
