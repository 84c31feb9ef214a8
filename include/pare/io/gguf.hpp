// SPDX-License-Identifier: Apache-2.0
// pare — GGUF (llama.cpp's model format, versions 2 and 3): read through a memory map, decode
// ggml's quantized blocks to float, write F32 / F16 / Q8_0 / Q4_0 atomically.
//
//     auto f = pare::io::GgufFile::open("model.gguf");
//     auto arch = f.metadata().get<std::string>("general.architecture");
//     for (const auto& t : f.tensors()) { ... t.name, t.type, t.shape ... }
//     pare::Tensor<float, 2> w = f.dequantize("blk.0.attn_q.weight");  // [rows, row length]
//     auto b = f.dequantize<1>("blk.0.attn_norm.weight");               // original shape
//     std::span<const std::byte> q4 = f.raw("blk.0.ffn_up.weight");     // packed blocks, no copy
//
//     pare::io::write_gguf("out.gguf", {{"general.architecture", "llama"}},
//                          {pare::io::gguf_tensor("w", w.view(), pare::io::GgmlType::q8_0)});
//
// Shapes: ggml lists dimensions innermost first (ne[0] is contiguous); pare's shapes are
// row-major, outermost first, so `shape` is ne reversed. Quantized blocks run along ne[0], the
// last pare dimension, which dequantize() keeps as the column count of its [rows, cols] result.
//
// Reading checks (docs/format-gguf.md): magic; version 2 or 3 (1, big-endian files and newer
// versions are UnsupportedError); counts of keys and tensors against the bytes left before
// anything is allocated; every string length against the bytes left; value types; bools are 0
// or 1; arrays nest at most 8 deep; no empty or duplicate keys; general.alignment is a u32
// power of two; tensor names unique, at most 4 dims, element counts and byte sizes without
// overflow, ggml type known (removed or unknown ids are FormatErrors; real types pare cannot
// decode parse fine and only dequantize() refuses them), row length a multiple of the block
// size, offsets aligned, data inside the file, tensors not overlapping.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/shape.hpp"
#include "pare/core/tensor.hpp"
#include "pare/io/detail/byte_reader.hpp"
#include "pare/io/detail/gguf_metadata.hpp"
#include "pare/io/detail/gguf_quants.hpp"
#include "pare/io/detail/gguf_types.hpp"
#include "pare/io/detail/little_endian.hpp"
#include "pare/io/mapped_file.hpp"

namespace pare::io {

/// One tensor of a GGUF file.
struct GgufTensorInfo {
  std::string name;
  GgmlType type = GgmlType::f32;
  std::vector<std::size_t> shape;  ///< row-major (ggml's ne reversed); empty for n_dims = 0
  std::uint64_t offset = 0;        ///< as stored: relative to the data section
  std::uint64_t file_offset = 0;   ///< absolute offset of the data in the file
  std::uint64_t byte_size = 0;     ///< bytes of packed data
  std::uint64_t element_count = 0;
  std::uint64_t info_offset = 0;  ///< where the tensor info starts in the file

  /// Elements per row: the innermost dimension (ggml's ne[0]); 1 for a 0-dim tensor.
  [[nodiscard]] std::size_t row_length() const noexcept { return shape.empty() ? 1 : shape.back(); }
  [[nodiscard]] std::size_t rows() const noexcept {
    const std::size_t c = row_length();
    return c == 0 ? 0 : static_cast<std::size_t>(element_count / c);
  }
};

class GgufFile {
 public:
  /// Default `general.alignment`.
  static constexpr std::uint32_t default_alignment = 32;
  static constexpr std::uint32_t max_dims = 4;

  /// Maps and validates `path`; FormatError for anything malformed, UnsupportedError for a
  /// well-formed file pare does not read (GGUF v1, big-endian, newer versions).
  [[nodiscard]] static GgufFile open(const std::filesystem::path& path) {
    return GgufFile(MappedFile::open(path, AccessHint::random));
  }
  /// Validates a file already mapped (or held in memory with MappedFile::from_buffer).
  explicit GgufFile(MappedFile file) : file_(std::move(file)) { parse(); }

  [[nodiscard]] std::uint32_t version() const noexcept { return version_; }
  [[nodiscard]] std::uint32_t alignment() const noexcept { return alignment_; }
  /// File offset of the data section.
  [[nodiscard]] std::uint64_t data_offset() const noexcept { return data_offset_; }
  [[nodiscard]] const GgufMetadata& metadata() const noexcept { return metadata_; }
  /// Tensors in the order of their infos in the file.
  [[nodiscard]] const std::vector<GgufTensorInfo>& tensors() const noexcept { return tensors_; }
  [[nodiscard]] bool contains(std::string_view name) const {
    return index_.find(name) != index_.end();
  }
  [[nodiscard]] const MappedFile& file() const noexcept { return file_; }
  /// Keeps the map (and so every span from raw()) alive.
  [[nodiscard]] std::shared_ptr<const void> keep_alive() const noexcept {
    return file_.keep_alive();
  }

  /// Info of `name`; ArgumentError when there is no such tensor.
  [[nodiscard]] const GgufTensorInfo& info(std::string_view name) const;

  /// The packed bytes of `name` (ggml blocks of its type, rows of ne[0] elements one after
  /// another), inside the map: valid while this object or keep_alive() lives.
  [[nodiscard]] std::span<const std::byte> raw(std::string_view name) const;

  /// `name` decoded to float as a matrix [rows, row_length] (all outer dimensions folded into
  /// rows; info(name).shape has the original). Bit-exact with ggml's dequantize_row_<type>.
  /// UnsupportedError for types pare does not decode (IQ*, TQ*, MXFP4, NVFP4, Q1_0, Q2_0).
  [[nodiscard]] Tensor<float, 2> dequantize(std::string_view name) const;

  /// `name` decoded to float in its original shape; ShapeError when its rank is not Rank (a
  /// 0-dim tensor reads as Rank 1, shape [1]).
  template <std::size_t Rank>
  [[nodiscard]] Tensor<float, Rank> dequantize(std::string_view name) const {
    const GgufTensorInfo& i = info(name);
    Shape<Rank> ext{};
    if (i.shape.empty() && Rank == 1) {
      ext[0] = 1;
    } else {
      PARE_CHECK(i.shape.size() == Rank, ShapeError, file_.name(), ": tensor '", name,
                 "' has rank ", i.shape.size(), ", the caller asked for rank ", Rank);
      std::copy(i.shape.begin(), i.shape.end(), ext.begin());
    }
    Tensor<float, Rank> out(ext);
    decode(i, out.span());
    return out;
  }

 private:
  void decode(const GgufTensorInfo& i, std::span<float> out) const;

  void parse();

  GgufTensorInfo read_info(detail::ByteReader& r, std::uint64_t k);

  [[nodiscard]] std::uint64_t align_up(std::uint64_t x, const std::string& fname) const;

  MappedFile file_;
  std::uint32_t version_ = 0;
  std::uint32_t alignment_ = default_alignment;
  std::uint64_t data_offset_ = 0;
  GgufMetadata metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, std::size_t, std::less<>> index_;
};

/// A tensor to write: either float `values` that write_gguf converts to `type` (f32, f16,
/// q8_0, q4_0), or already-packed `packed` bytes of any ggml type, written verbatim.
struct GgufWriteTensor {
  std::string name;
  std::vector<std::size_t> shape;  ///< row-major, 1 to 4 dimensions
  GgmlType type = GgmlType::f32;
  std::span<const float> values;
  std::span<const std::byte> packed;
};

/// An entry that stores a contiguous float view as `type` (the view must outlive the write).
template <std::size_t Rank>
[[nodiscard]] GgufWriteTensor gguf_tensor(std::string name, TensorView<const float, Rank> v,
                                          GgmlType type = GgmlType::f32) {
  PARE_CHECK(v.is_contiguous(), ShapeError, "gguf_tensor('", name,
             "'): the view is strided; copy it first");
  return {std::move(name),
          std::vector<std::size_t>(v.extents().begin(), v.extents().end()),
          type,
          std::span<const float>(v.data(), v.size()),
          {}};
}
template <std::size_t Rank>
[[nodiscard]] GgufWriteTensor gguf_tensor(std::string name, TensorView<float, Rank> v,
                                          GgmlType type = GgmlType::f32) {
  return gguf_tensor(std::move(name), TensorView<const float, Rank>(v), type);
}
template <std::size_t Rank>
[[nodiscard]] GgufWriteTensor gguf_tensor(std::string name, const Tensor<float, Rank>& t,
                                          GgmlType type = GgmlType::f32) {
  return gguf_tensor(std::move(name), t.view(), type);
}

/// Writes a GGUF v3 file atomically, laid out as llama.cpp's gguf_write_to_file does: header,
/// metadata in the given order, tensor infos, zero padding to the alignment, then each tensor's
/// data padded to the alignment. The alignment is `general.alignment` if set (a u32 power of
/// two), else 32. Float values are stored as f32, f16 (round to nearest even), or quantized to
/// q8_0 / q4_0 exactly as ggml's reference quantizers do; `packed` data of any ggml type is
/// written as given. Shapes are written with all their dimensions (ggml drops trailing ones).
/// ArgumentError for empty, duplicate or over-long (>= 64 bytes, llama.cpp's limit) names,
/// a rank outside 1..4, a row length that is not a multiple of the block size, data that does
/// not match the shape, non-finite values to quantize, a bad alignment; UnsupportedError for
/// float values to a type pare does not encode.
void write_gguf(const std::filesystem::path& path, const GgufMetadata& metadata,
                std::span<const GgufWriteTensor> tensors);

void write_gguf(const std::filesystem::path& path, const GgufMetadata& metadata,
                std::initializer_list<GgufWriteTensor> tensors);

}  // namespace pare::io

#ifndef PARE_COMPILED_LIB
#include "pare/io/gguf-inl.hpp"
#endif
