// SPDX-License-Identifier: Apache-2.0
// pare — safetensors (Hugging Face): read through a memory map with zero-copy views, write
// atomically.
//
//     auto f = pare::io::SafetensorsFile::open("model.safetensors");
//     for (const auto& n : f.names()) { auto& i = f.info(n); ... }   // names in data order
//     auto w = f.view<float, 2>("layer.weight");    // TensorView<const float, 2> into the map
//     auto b = f.load<pare::bf16, 1>("layer.bias");  // an owning copy (any alignment)
//     pare::io::write_safetensors("out.safetensors", {pare::io::safetensors_entry("w", w)},
//                                 {{"format", "pt"}});
//
// Layout: u64 little-endian header length N, N bytes of JSON, then the data section. Reading
// checks: N <= 100'000'000 and N <= file size - 8; the header starts with '{' and follows the
// schema exactly (unknown keys, duplicate names, wrong types are FormatErrors); dtypes F64 F32
// F16 BF16 F8_E4M3 F8_E5M2 I64 I32 I16 I8 U64 U32 U16 U8 BOOL (others: FormatError naming it);
// element counts and byte sizes do not overflow; end - begin == count x itemsize; and the
// tensors tile the data section exactly — no overlap, no gap, no trailing bytes (as the
// reference implementation requires).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pare/core/dtype.hpp"
#include "pare/core/error.hpp"
#include "pare/core/shape.hpp"
#include "pare/core/tensor.hpp"
#include "pare/io/atomic_write.hpp"
#include "pare/io/detail/little_endian.hpp"
#include "pare/io/detail/safetensors_header.hpp"
#include "pare/io/mapped_file.hpp"

namespace pare::io {

/// An element type safetensors can hold and pare can view without conversion (whole bytes,
/// one element per object).
template <class T>
concept SafetensorsElement = ElementType<T> && dtype_traits<T>::lanes == 1 &&
                             detail::safetensors_dtype_name(dtype_traits<T>::dtype).has_value() &&
                             sizeof(T) * 8 == dtype_traits<T>::bits;

/// One tensor of a safetensors file.
struct SafetensorsInfo {
  DType dtype = DType::f32;
  std::vector<std::size_t> shape;    ///< empty for a scalar
  std::span<const std::byte> bytes;  ///< the tensor's data, inside the map
  std::uint64_t offset = 0;          ///< file offset of `bytes`

  [[nodiscard]] std::size_t size() const noexcept {
    std::size_t n = 1;
    for (auto e : shape) n *= e;  // checked when the header was parsed
    return n;
  }
};

class SafetensorsFile {
 public:
  /// Largest header the reference implementation accepts.
  static constexpr std::uint64_t max_header_size = 100'000'000;

  /// Maps and validates `path`; throws FormatError for anything malformed.
  [[nodiscard]] static SafetensorsFile open(const std::filesystem::path& path) {
    return SafetensorsFile(MappedFile::open(path));
  }

  /// Validates a file already mapped (or held in memory with MappedFile::from_buffer).
  explicit SafetensorsFile(MappedFile file) : file_(std::move(file)) { parse(); }

  /// Tensor names in the order of their data in the file.
  [[nodiscard]] const std::vector<std::string>& names() const noexcept { return names_; }
  [[nodiscard]] bool contains(std::string_view name) const {
    return index_.find(name) != index_.end();
  }
  [[nodiscard]] const std::map<std::string, std::string>& metadata() const noexcept {
    return metadata_;
  }
  [[nodiscard]] const MappedFile& file() const noexcept { return file_; }
  /// Keeps the map (and so every view) alive.
  [[nodiscard]] std::shared_ptr<const void> keep_alive() const noexcept {
    return file_.keep_alive();
  }

  /// dtype, shape and bytes of `name`; ArgumentError when there is no such tensor.
  [[nodiscard]] const SafetensorsInfo& info(std::string_view name) const;

  /// A zero-copy view of `name`, valid while this object (or `keep_alive()`) lives.
  /// Throws FormatError when the dtype is not T, or when the data is not aligned for T (files
  /// pare writes always are; a file that packs a u8 tensor before an f32 one may not be —
  /// use load() to copy), or a BOOL tensor holds a byte other than 0 and 1; ShapeError when the
  /// rank is not Rank.
  template <SafetensorsElement T, std::size_t Rank>
  [[nodiscard]] TensorView<const T, Rank> view(std::string_view name) const {
    const SafetensorsInfo& i = checked<T, Rank>(name);
    const Shape<Rank> ext = extents<Rank>(i);
    if (i.bytes.empty()) return TensorView<const T, Rank>(nullptr, ext);
    if (reinterpret_cast<std::uintptr_t>(i.bytes.data()) % alignof(T) != 0)
      throw FormatError(
          file_.name(), std::string(name), i.offset,
          ::pare::detail::concat("data is not aligned to ", alignof(T),
                                 " bytes, so it cannot be viewed in place; load() copies it"));
    return TensorView<const T, Rank>(reinterpret_cast<const T*>(i.bytes.data()), ext);
  }

  /// An owning copy of `name` (any alignment); same checks as view().
  template <SafetensorsElement T, std::size_t Rank>
  [[nodiscard]] Tensor<T, Rank> load(std::string_view name) const {
    const SafetensorsInfo& i = checked<T, Rank>(name);
    Tensor<T, Rank> out(extents<Rank>(i));
    if (!i.bytes.empty())
      std::memcpy(static_cast<void*>(out.data()), i.bytes.data(), i.bytes.size());
    return out;
  }

 private:
  template <class T, std::size_t Rank>
  const SafetensorsInfo& checked(std::string_view name) const {
    const SafetensorsInfo& i = info(name);
    if (i.dtype != dtype_traits<T>::dtype)
      throw FormatError(
          file_.name(), std::string(name), i.offset,
          ::pare::detail::concat("tensor holds ", *detail::safetensors_dtype_name(i.dtype),
                                 ", the caller asked for ", pare::name(dtype_traits<T>::dtype)));
    PARE_CHECK(i.shape.size() == Rank, ShapeError, file_.name(), ": tensor '", name, "' has rank ",
               i.shape.size(), ", the caller asked for rank ", Rank);
    if constexpr (std::is_same_v<T, bool>)
      for (std::size_t k = 0; k < i.bytes.size(); ++k)
        if (std::to_integer<unsigned>(i.bytes[k]) > 1)
          throw FormatError(file_.name(), std::string(name), i.offset + k,
                            "BOOL element is neither 0 nor 1");
    return i;
  }
  template <std::size_t Rank>
  static Shape<Rank> extents(const SafetensorsInfo& i) {
    Shape<Rank> ext{};
    std::copy(i.shape.begin(), i.shape.end(), ext.begin());
    return ext;
  }

  void parse();

  static std::string shape_text(const std::vector<std::uint64_t>& s);

  MappedFile file_;
  std::vector<std::string> names_;
  std::vector<SafetensorsInfo> infos_;
  std::map<std::string, std::size_t, std::less<>> index_;
  std::map<std::string, std::string> metadata_;
};

/// A tensor to write: name, dtype, shape and its bytes (native little-endian, row-major).
struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::f32;
  std::vector<std::size_t> shape;
  std::span<const std::byte> data;
};

/// An entry for a contiguous view (the view's data must outlive the write). ShapeError for a
/// strided view: copy it into a Tensor first.
template <class T, std::size_t Rank>
  requires SafetensorsElement<std::remove_cv_t<T>>
[[nodiscard]] SafetensorsEntry safetensors_entry(std::string name, TensorView<T, Rank> v) {
  PARE_CHECK(v.is_contiguous(), ShapeError, "safetensors_entry('", name,
             "'): the view is strided; copy it into a Tensor first");
  return {std::move(name), dtype_traits<std::remove_cv_t<T>>::dtype,
          std::vector<std::size_t>(v.extents().begin(), v.extents().end()),
          std::as_bytes(std::span<const std::remove_cv_t<T>>(v.data(), v.size()))};
}
template <class T, std::size_t Rank>
  requires SafetensorsElement<T>
[[nodiscard]] SafetensorsEntry safetensors_entry(std::string name, const Tensor<T, Rank>& t) {
  return safetensors_entry(std::move(name), t.view());
}

/// Writes a safetensors file atomically. Tensors are laid out as the reference writer does:
/// sorted by dtype (wider first, in the reference's Dtype order), then by name, so every tensor
/// is aligned to its element size; the JSON is compact, "__metadata__" first (omitted when
/// empty), padded with spaces to a multiple of 8 bytes. Throws ArgumentError for duplicate or
/// reserved names and names that are not valid UTF-8, UnsupportedError for DTypes safetensors
/// lacks, ShapeError when an entry's bytes do not match its shape.
void write_safetensors(const std::filesystem::path& path, std::span<const SafetensorsEntry> entries,
                       const std::map<std::string, std::string>& metadata = {});

void write_safetensors(const std::filesystem::path& path,
                       std::initializer_list<SafetensorsEntry> entries,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace pare::io

#ifndef PARE_COMPILED_LIB
#include "pare/io/safetensors-inl.hpp"
#endif
