// SPDX-License-Identifier: Apache-2.0
// pare — PyTorch checkpoints (torch.save of a state_dict: the zip format of PyTorch >= 1.6 and the
// legacy format before it), read without Python and without running the pickle inside.
//
//     auto ck = pare::io::TorchCheckpoint::open("model.pt");
//     for (const auto& n : ck.names()) { const auto& i = ck.info(n); ... }  // state_dict order
//     auto w = ck.load<float, 2>("0.weight");          // Tensor<float, 2>, dtype and rank checked
//     auto b = ck.load_float<1>("0.bias");             // any real dtype converted to float
//
// The archive is `<name>/data.pkl` (a pickle describing the dict), `<name>/data/<key>` (one raw
// little-endian storage per key), `<name>/version`, and in newer files `<name>/byteorder`.
// data.pkl runs in a restricted pickle machine (detail/pickle.hpp) that knows only the opcodes
// and globals a state_dict needs; anything else — `os.system`, a custom class, a lambda — is a
// FormatError naming it, never executed. Every tensor is then checked against its storage:
// the storage entry exists and holds exactly numel x itemsize bytes, and storage_offset plus
// the furthest element the size and strides reach stays inside it (overflow-checked).
// Non-contiguous tensors (a saved transposed view) and tensors sharing a storage are gathered
// into contiguous pare tensors. Nested checkpoints ({"epoch": 3, "state_dict": {...}}) name
// their tensors by key path ("state_dict.0.weight"); non-tensor values are skipped.
//
// The legacy format (PyTorch < 1.6, or `_use_new_zipfile_serialization=False`) is one stream of
// pickles: the magic number 0x1950a86a20f9469cfc6c, the protocol version (1001), a sys_info
// dict, the object (storages as persistent ids, as above, with a sixth item for storage views),
// the list of storage keys; then, for each key in that order, the storage's element count as
// 8 little-endian bytes followed by its raw little-endian elements. The same restricted
// machine runs each pickle; every count and size is checked against the pickle and the file.
//
// Rejected with UnsupportedError: the older tar format (PyTorch < 0.4), TorchScript archives
// (torch.jit.save), compressed entries, complex and quantized storages. See
// docs/format-pytorch.md.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pare/core/dtype.hpp"
#include "pare/core/error.hpp"
#include "pare/core/shape.hpp"
#include "pare/core/tensor.hpp"
#include "pare/io/detail/little_endian.hpp"
#include "pare/io/detail/pickle.hpp"
#include "pare/io/detail/pickle_state_dict.hpp"
#include "pare/io/detail/zip.hpp"
#include "pare/io/mapped_file.hpp"

namespace pare::io {

/// An element type a torch storage can hold and pare reads without conversion.
template <class T>
concept TorchElement =
    ElementType<T> && dtype_traits<T>::lanes == 1 && sizeof(T) * 8 == dtype_traits<T>::bits &&
    !detail::torch_storage_name(dtype_traits<T>::dtype).empty();

/// One tensor of a checkpoint, as the pickle describes it (already checked against its storage).
struct TorchTensorInfo {
  DType dtype = DType::f32;
  std::vector<std::size_t> shape;    ///< empty for a 0-d tensor
  std::vector<std::size_t> strides;  ///< in elements, as torch stores them
  std::size_t storage_offset = 0;    ///< in elements
  std::string storage_key;  ///< zip: the entry `<archive>/data/<storage_key>`; legacy: the record
  std::size_t storage_numel = 0;  ///< elements in the whole storage
  std::string location;           ///< device it was saved from ("cpu", "cuda:0"); data is the same
  bool requires_grad = false;
  bool parameter = false;    ///< saved as an nn.Parameter
  std::uint64_t offset = 0;  ///< file offset of the pickle opcode that built it

  [[nodiscard]] std::size_t size() const noexcept {
    std::size_t n = 1;
    for (auto e : shape) n *= e;  // checked when the file was opened
    return n;
  }
  [[nodiscard]] std::size_t rank() const noexcept { return shape.size(); }
  /// True when the elements are dense and row-major (a view's offset may still be nonzero).
  [[nodiscard]] bool is_contiguous() const noexcept {
    std::size_t expect = 1;
    for (std::size_t d = shape.size(); d-- > 0;) {
      if (shape[d] != 1 && strides[d] != expect) return false;
      expect *= shape[d];
    }
    return true;
  }
};

class TorchCheckpoint {
 public:
  /// Maps and checks `path`. Throws FormatError for a malformed archive or pickle (naming the
  /// entry, the field and the byte offset), UnsupportedError for formats pare does not read.
  [[nodiscard]] static TorchCheckpoint open(const std::filesystem::path& path,
                                            const detail::PickleLimits& limits = {}) {
    return TorchCheckpoint(MappedFile::open(path), limits);
  }

  /// Checks a file already mapped (or held in memory with MappedFile::from_buffer).
  explicit TorchCheckpoint(MappedFile file, const detail::PickleLimits& limits = {});

  /// Tensor names in state_dict order.
  [[nodiscard]] const std::vector<std::string>& names() const noexcept { return names_; }
  [[nodiscard]] bool contains(std::string_view name) const {
    return index_.find(std::string(name)) != index_.end();
  }
  /// The folder every entry lives in (torch uses the file's stem, or "archive"); "" for a
  /// legacy file.
  [[nodiscard]] const std::string& archive_name() const noexcept { return prefix_; }
  /// The `version` record (3 for torch.save since PyTorch 1.6); a legacy file's protocol
  /// version (1001).
  [[nodiscard]] unsigned version() const noexcept { return version_; }
  /// True for the legacy format (PyTorch < 1.6 or `_use_new_zipfile_serialization=False`).
  [[nodiscard]] bool legacy() const noexcept { return !zip_.has_value(); }
  [[nodiscard]] bool big_endian() const noexcept { return big_endian_; }
  [[nodiscard]] const MappedFile& file() const noexcept { return file_; }

  /// dtype, shape, strides and storage of `name`; ArgumentError when there is no such tensor.
  [[nodiscard]] const TorchTensorInfo& info(std::string_view name) const {
    return infos_[find(name)];
  }

  /// A contiguous row-major copy of `name` (strided tensors are gathered).
  /// Throws FormatError when the dtype is not T (or a bool holds a byte other than 0 and 1, or
  /// the storage fails its CRC-32), ShapeError when the rank is not Rank (a 0-d tensor: use
  /// item()), UnsupportedError when the storage entry is compressed.
  ///
  ///     auto w = ck.load<pare::bf16, 2>("lm_head.weight");
  template <TorchElement T, std::size_t Rank>
  [[nodiscard]] Tensor<T, Rank> load(std::string_view name) const {
    const std::size_t k = find(name);
    const TorchTensorInfo& i = infos_[k];
    check_dtype<T>(name, i);
    PARE_CHECK(i.rank() == Rank, ShapeError, file_.name(), ": tensor '", name, "' has rank ",
               i.rank(), " (shape ", shape_text(i.shape), "), the caller asked for rank ", Rank,
               i.rank() == 0 ? "; read a 0-d tensor with item()" : "");
    Shape<Rank> ext{};
    std::copy(i.shape.begin(), i.shape.end(), ext.begin());
    Tensor<T, Rank> out(ext);
    gather(k, reinterpret_cast<std::byte*>(out.data()));
    check_bools<T>(name, i, std::span<const T>(out.data(), out.size()));
    return out;
  }

  /// The elements of `name` as contiguous row-major bytes in native byte order, whatever its
  /// dtype (what a converter to another format needs). FormatError as for load().
  [[nodiscard]] std::vector<std::byte> load_bytes(std::string_view name) const;

  /// The single element of a 0-d (or one-element) tensor.
  template <TorchElement T>
  [[nodiscard]] T item(std::string_view name) const {
    const std::size_t k = find(name);
    const TorchTensorInfo& i = infos_[k];
    check_dtype<T>(name, i);
    PARE_CHECK(i.size() == 1, ShapeError, file_.name(), ": item() needs one element, tensor '",
               name, "' has shape ", shape_text(i.shape));
    T v{};
    gather(k, reinterpret_cast<std::byte*>(&v));
    check_bools<T>(name, i, std::span<const T>(&v, 1));
    return v;
  }

  /// `name` converted to float, whatever its stored dtype (f64 and i64/i32 round to the nearest
  /// float; bool gives 0 and 1). Same shape checks as load().
  template <std::size_t Rank>
  [[nodiscard]] Tensor<float, Rank> load_float(std::string_view name) const {
    switch (info(name).dtype) {
      case DType::f32:
        return load<float, Rank>(name);
      case DType::f64:
        return to_float(load<double, Rank>(name));
      case DType::f16:
        return to_float(load<f16, Rank>(name));
      case DType::bf16:
        return to_float(load<bf16, Rank>(name));
      case DType::i64:
        return to_float(load<std::int64_t, Rank>(name));
      case DType::i32:
        return to_float(load<std::int32_t, Rank>(name));
      case DType::i16:
        return to_float(load<std::int16_t, Rank>(name));
      case DType::i8:
        return to_float(load<std::int8_t, Rank>(name));
      case DType::u8:
        return to_float(load<std::uint8_t, Rank>(name));
      case DType::boolean:
        return to_float(load<bool, Rank>(name));
      default:
        break;
    }
    throw UnsupportedError(file_.name() + ": tensor '" + std::string(name) +
                           "' has no float conversion");
  }

 private:
  // The archive's directory; nothing for a legacy stream.
  static std::optional<detail::ZipReader> open_zip(const MappedFile& f);

  [[nodiscard]] std::size_t find(std::string_view name) const;

  template <class T>
  void check_dtype(std::string_view name, const TorchTensorInfo& i) const {
    if (i.dtype != dtype_traits<T>::dtype)
      throw FormatError(
          file_.name(), std::string(name), i.offset,
          ::pare::detail::concat("tensor holds ", pare::name(i.dtype), " (torch.",
                                 detail::torch_storage_name(i.dtype), "), the caller asked for ",
                                 pare::name(dtype_traits<T>::dtype)));
  }
  template <class T>
  void check_bools(std::string_view name, const TorchTensorInfo& i, std::span<const T> v) const {
    // A bool object holding any byte but 0 or 1 is undefined behaviour; look at the bytes.
    if constexpr (std::is_same_v<T, bool>) {
      const auto* p = reinterpret_cast<const unsigned char*>(v.data());
      for (std::size_t k = 0; k < v.size(); ++k)
        if (p[k] > 1)
          throw FormatError(file_.name(), std::string(name), i.offset,
                            "bool element is neither 0 nor 1");
    }
  }
  template <class S, std::size_t Rank>
  static Tensor<float, Rank> to_float(const Tensor<S, Rank>& t) {
    Tensor<float, Rank> out(t.extents());
    for (std::size_t k = 0; k < t.size(); ++k) out.data()[k] = static_cast<float>(t.data()[k]);
    return out;
  }
  static std::string shape_text(const std::vector<std::size_t>& s);

  // Copies tensor k's elements in row-major order to `out` (size() * itemsize bytes), swapping
  // bytes when the file is big-endian.
  void gather(std::size_t k, std::byte* out) const;

  void parse(const detail::PickleLimits& limits);

  // Checks tensor `nt` against its storage (size, strides and offset stay inside it) and
  // records it; the caller has checked the storage's own size.
  void add_tensor(const detail::Pickle& p, const detail::NamedTensor& nt);
  // The legacy stream: parse() for a file that is not a zip archive.
  void parse_legacy(const detail::PickleLimits& limits);

  void read_version(const std::string& dir);

  void read_byteorder(const std::string& dir);

  static std::string dims_text(const std::vector<std::uint64_t>& s);

  MappedFile file_;
  std::optional<detail::ZipReader> zip_;
  std::string prefix_;
  unsigned version_ = 0;
  bool big_endian_ = false;
  std::vector<std::string> names_;
  std::vector<TorchTensorInfo> infos_;
  std::vector<std::size_t> entry_;                       ///< zip entry of each tensor's storage
  std::vector<std::span<const std::byte>> legacy_data_;  ///< legacy: each tensor's storage
  std::unordered_map<std::string, std::size_t> index_;
};

}  // namespace pare::io

#ifndef PARE_COMPILED_LIB
#include "pare/io/torch_checkpoint-inl.hpp"
#endif
