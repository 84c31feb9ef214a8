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
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
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
#include "pare/io/detail/byte_reader.hpp"
#include "pare/io/detail/little_endian.hpp"
#include "pare/io/detail/pickle.hpp"
#include "pare/io/detail/pickle_state_dict.hpp"
#include "pare/io/detail/zip.hpp"
#include "pare/io/detect.hpp"
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
  explicit TorchCheckpoint(MappedFile file, const detail::PickleLimits& limits = {})
      : file_(std::move(file)), zip_(open_zip(file_)) {
    parse(limits);
  }

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
  [[nodiscard]] std::vector<std::byte> load_bytes(std::string_view name) const {
    const std::size_t k = find(name);
    const TorchTensorInfo& i = infos_[k];
    std::vector<std::byte> out(i.size() * (size_bits(i.dtype) / 8));
    gather(k, out.data());
    if (i.dtype == DType::boolean)
      for (std::byte b : out)
        if (b > std::byte{1})
          throw FormatError(file_.name(), std::string(name), i.offset,
                            "a bool tensor holds a byte other than 0 and 1");
    return out;
  }

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
  static std::optional<detail::ZipReader> open_zip(const MappedFile& f) {
    const auto b = f.bytes();
    auto starts = [&](std::initializer_list<unsigned> magic, std::size_t at = 0) {
      if (b.size() < at + magic.size()) return false;
      std::size_t i = at;
      for (unsigned m : magic)
        if (std::to_integer<unsigned>(b[i++]) != m) return false;
      return true;
    };
    if (looks_like_legacy_torch(b)) return std::nullopt;
    // Before the legacy pickle stream (PyTorch < 0.4), a tar archive.
    if (starts({'u', 's', 't', 'a', 'r'}, 257))
      throw UnsupportedError(f.name() +
                             ": tar-format PyTorch checkpoint (PyTorch < 0.4); re-save it with a "
                             "current PyTorch");
    return detail::ZipReader(b, f.name());
  }

  [[nodiscard]] std::size_t find(std::string_view name) const {
    auto it = index_.find(std::string(name));
    if (it == index_.end())
      throw ArgumentError(file_.name() + " has no tensor '" + std::string(name) + "'");
    return it->second;
  }

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
  static std::string shape_text(const std::vector<std::size_t>& s) {
    std::string out = "[";
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
  }

  // Copies tensor k's elements in row-major order to `out` (size() * itemsize bytes), swapping
  // bytes when the file is big-endian.
  void gather(std::size_t k, std::byte* out) const {
    const TorchTensorInfo& i = infos_[k];
    const std::size_t n = i.size();
    if (n == 0) return;
    const std::size_t w = size_bits(i.dtype) / 8;
    const std::span<const std::byte> data =
        zip_ ? zip_->read(zip_->entries()[entry_[k]])  // checks the CRC-32
             : legacy_data_[k];
    const std::byte* base = data.data() + i.storage_offset * w;
    if (i.is_contiguous()) {
      std::memcpy(out, base, n * w);
    } else {
      const std::size_t rank = i.rank();
      std::vector<std::size_t> idx(rank, 0);
      std::size_t off = 0;  // element offset of idx, kept incrementally
      for (std::size_t e = 0; e < n; ++e) {
        std::memcpy(out + e * w, base + off * w, w);
        for (std::size_t d = rank; d-- > 0;) {
          if (++idx[d] < i.shape[d]) {
            off += i.strides[d];
            break;
          }
          off -= (i.shape[d] - 1) * i.strides[d];
          idx[d] = 0;
        }
      }
    }
    if (big_endian_ && w > 1)
      for (std::size_t e = 0; e < n; ++e) std::reverse(out + e * w, out + (e + 1) * w);
  }

  void parse(const detail::PickleLimits& limits) {
    if (!zip_) {
      parse_legacy(limits);
      return;
    }
    const detail::ZipReader& zip = *zip_;
    const std::string& fname = file_.name();
    const auto& entries = zip.entries();
    if (entries.empty()) throw FormatError(fname, "zip directory", 0, "archive has no entries");
    // torch's reader takes the folder of the first entry as the archive name.
    const std::string& first = entries.front().name;
    const auto slash = first.find('/');
    if (slash == std::string::npos || slash == 0)
      throw FormatError(
          fname, first, entries.front().header_offset,
          "entry is not inside a folder; a torch.save archive keeps every entry in <name>/");
    prefix_ = first.substr(0, slash);
    const std::string dir = prefix_ + "/";
    if (zip.find(dir + "constants.pkl") != nullptr)
      throw UnsupportedError(
          fname +
          ": a TorchScript archive (torch.jit.save); pare reads torch.save checkpoints "
          "of state_dicts (save model.state_dict() instead)");
    const detail::ZipEntry* pkl = zip.find(dir + "data.pkl");
    if (pkl == nullptr) throw FormatError(fname, dir + "data.pkl", 0, "archive has no data.pkl");
    read_version(dir);
    read_byteorder(dir);

    const auto pickle_bytes = zip.read(*pkl);
    const detail::Pickle p =
        detail::run_pickle(pickle_bytes, fname + ":" + pkl->name, pkl->data_offset, limits);
    const auto named = detail::state_dict_tensors(p, limits);

    std::unordered_map<std::string, std::size_t> storage_entry;  // key -> entry index
    for (std::size_t e = 0; e < entries.size(); ++e)
      if (entries[e].name.size() > dir.size() + 5 && entries[e].name.starts_with(dir + "data/"))
        storage_entry.emplace(entries[e].name.substr(dir.size() + 5), e);

    names_.reserve(named.size());
    infos_.reserve(named.size());
    entry_.reserve(named.size());
    for (const auto& nt : named) {
      const detail::TorchTensorRecord& t = p.tensors[nt.tensor];
      const detail::TorchStorageRef& s = p.storages[t.storage];
      auto it = storage_entry.find(s.key);
      if (it == storage_entry.end())
        throw FormatError(p.file, nt.name, t.at,
                          "storage " + detail::printable(s.key) + " has no entry " +
                              detail::printable(dir + "data/" + s.key) + " in the archive");
      const detail::ZipEntry& e = entries[it->second];
      const std::uint64_t bytes =
          detail::checked_mul(s.key_numel, size_bits(s.dtype) / 8, p.file, nt.name, t.at);
      if (bytes != e.size)
        throw FormatError(p.file, nt.name, t.at,
                          ::pare::detail::concat("storage '", s.key, "' of ", s.key_numel, " ",
                                                 pare::name(s.dtype), " elements needs ", bytes,
                                                 " bytes, its entry holds ", e.size));
      add_tensor(p, nt);
      entry_.push_back(it->second);
    }
  }

  // Checks tensor `nt` against its storage (size, strides and offset stay inside it) and
  // records it; the caller has checked the storage's own size.
  void add_tensor(const detail::Pickle& p, const detail::NamedTensor& nt);
  // The legacy stream: parse() for a file that is not a zip archive.
  void parse_legacy(const detail::PickleLimits& limits);

  void read_version(const std::string& dir) {
    const detail::ZipEntry* v = zip_->find(dir + "version");
    if (v == nullptr) v = zip_->find(dir + ".data/version");
    if (v == nullptr)
      throw FormatError(file_.name(), dir + "version", 0, "archive has no version record");
    const auto b = zip_->read(*v);
    std::uint64_t n = 0;
    std::size_t digits = 0;
    for (; digits < b.size() && digits < 4; ++digits) {
      const auto c = std::to_integer<unsigned>(b[digits]);
      if (c < '0' || c > '9') break;
      n = n * 10 + (c - '0');
    }
    const bool newline_only =
        digits == b.size() || (digits + 1 == b.size() && b[digits] == std::byte{'\n'});
    if (digits == 0 || !newline_only)
      throw FormatError(file_.name(), v->name, v->data_offset,
                        "version record is not a decimal number");
    if (n < 1 || n > 10)
      throw UnsupportedError(::pare::detail::concat(file_.name(), ": archive format version ", n,
                                                    " (pare reads versions 1 to 10)"));
    version_ = static_cast<unsigned>(n);
  }

  void read_byteorder(const std::string& dir) {
    const detail::ZipEntry* o = zip_->find(dir + "byteorder");
    if (o == nullptr) return;  // files before PyTorch 2.1 have none and are little-endian
    const auto b = zip_->read(*o);
    const std::string s(reinterpret_cast<const char*>(b.data()), b.size());
    if (s == "little")
      big_endian_ = false;
    else if (s == "big")
      big_endian_ = true;
    else
      throw FormatError(file_.name(), o->name, o->data_offset,
                        "byteorder is " + detail::printable(s) + ", not 'little' or 'big'");
  }

  static std::string dims_text(const std::vector<std::uint64_t>& s) {
    std::string out = "(";
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + (s.size() == 1 ? ",)" : ")");
  }

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
