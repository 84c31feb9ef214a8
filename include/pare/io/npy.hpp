// SPDX-License-Identifier: Apache-2.0
// pare — numpy .npy files: read versions 1.0, 2.0 and 3.0, write 1.0 (2.0 when the header needs
// it).
//
//     auto w = pare::io::read_npy<float, 2>("w.npy");          // Tensor<float, 2>, row-major
//     pare::io::write_npy("w2.npy", w);                          // atomic, numpy-identical bytes
//     auto any = pare::io::read_npy_array("x.npy");             // type-erased, zero-copy (mmap)
//
// Accepted dtypes: <f2 <f4 <f8 |i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8 |b1, and the same with '>'
// (big-endian data is byte-swapped into native order on read). Fortran-order arrays are kept
// as stored in NpyArray (`fortran_order` tells) and transposed into row-major by `to_tensor`.
// Structured, complex, string, object and datetime dtypes throw UnsupportedError. The data must
// be exactly shape-product x itemsize bytes: a short file and trailing bytes are FormatErrors,
// and both are checked before anything is allocated.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pare/core/dtype.hpp"
#include "pare/core/error.hpp"
#include "pare/core/shape.hpp"
#include "pare/core/tensor.hpp"
#include "pare/io/atomic_write.hpp"
#include "pare/io/detail/byte_reader.hpp"
#include "pare/io/detail/little_endian.hpp"
#include "pare/io/detail/npy_header.hpp"
#include "pare/io/mapped_file.hpp"

namespace pare::io {

/// An element type .npy can hold and pare can read without conversion: one element per object,
/// whole bytes (excludes the packed int4/int2 types).
template <class T>
concept NpyElement =
    ElementType<T> && dtype_traits<T>::lanes == 1 &&
    detail::npy_descr(dtype_traits<T>::dtype).has_value() && sizeof(T) * 8 == dtype_traits<T>::bits;

/// A .npy array as stored: element type, shape, memory order and the little-endian data bytes.
/// `data` points into the mapped file (or into a byte-swapped copy) that `owner` keeps alive, so
/// copies of an NpyArray are cheap and stay valid after the file handle is gone.
struct NpyArray {
  DType dtype = DType::f32;
  std::vector<std::size_t> shape;     ///< empty for a 0-d array (one element)
  bool fortran_order = false;         ///< data is column-major (as numpy wrote it)
  std::span<const std::byte> data;    ///< exactly size() * itemsize() bytes, native byte order
  std::shared_ptr<const void> owner;  ///< keeps `data` alive
  std::string file;                   ///< for messages
  std::uint64_t header_offset = 0;    ///< where the header dict starts in `file`
  std::uint64_t data_offset = 0;      ///< where the data starts in `file`

  [[nodiscard]] std::size_t size() const noexcept {
    std::size_t n = 1;
    for (auto e : shape) n *= e;  // checked when the header was parsed
    return n;
  }
  [[nodiscard]] std::size_t itemsize() const noexcept { return detail::npy_itemsize(dtype); }
  [[nodiscard]] std::size_t rank() const noexcept { return shape.size(); }

  /// A row-major copy as Tensor<T, Rank>. Throws FormatError when the file's dtype is not T
  /// (or a bool array holds a byte other than 0 and 1) and ShapeError when the rank differs.
  template <NpyElement T, std::size_t Rank>
  [[nodiscard]] Tensor<T, Rank> to_tensor() const {
    check_type<T>();
    PARE_CHECK(shape.size() == Rank, ShapeError, file, ": holds a rank-", shape.size(),
               " array of shape ", shape_text(), ", asked for rank ", Rank);
    Shape<Rank> ext{};
    std::copy(shape.begin(), shape.end(), ext.begin());
    check_bools<T>();
    Tensor<T, Rank> out(ext);
    if (out.empty()) return out;
    if (!fortran_order || Rank == 1) {
      std::memcpy(static_cast<void*>(out.data()), data.data(), data.size());
      return out;
    }
    // Column-major data is the row-major layout of the reversed shape; gather it through a
    // view with column-major strides.
    Shape<Rank> rev{};
    std::reverse_copy(ext.begin(), ext.end(), rev.begin());
    Tensor<T, Rank> stored(rev);
    std::memcpy(static_cast<void*>(stored.data()), data.data(), data.size());
    Strides<Rank> st{};
    std::ptrdiff_t acc = 1;
    for (std::size_t d = 0; d < Rank; ++d) {
      st[d] = acc;
      acc *= static_cast<std::ptrdiff_t>(ext[d]);
    }
    return Tensor<T, Rank>(TensorView<const T, Rank>(stored.data(), ext, st));
  }

  /// The single element of a 0-d (or one-element) array.
  template <NpyElement T>
  [[nodiscard]] T item() const {
    check_type<T>();
    PARE_CHECK(size() == 1, ShapeError, file, ": item() needs one element, the array has shape ",
               shape_text());
    check_bools<T>();
    T v;
    std::memcpy(static_cast<void*>(&v), data.data(), sizeof(T));
    return v;
  }

  /// The shape as numpy prints it: "(2, 3)", "(5,)", "()".
  [[nodiscard]] std::string shape_text() const { return detail::npy_shape_text(shape); }

 private:
  template <class T>
  void check_type() const {
    if (dtype_traits<T>::dtype != dtype)
      throw FormatError(
          file, "descr", header_offset,
          ::pare::detail::concat("the array holds ", name(dtype), ", the caller asked for ",
                                 name(dtype_traits<T>::dtype)));
  }
  template <class T>
  void check_bools() const {
    // A bool object holding any byte but 0 or 1 is undefined behaviour; reject such files.
    if constexpr (std::is_same_v<T, bool>)
      for (std::size_t i = 0; i < data.size(); ++i)
        if (std::to_integer<unsigned>(data[i]) > 1)
          throw FormatError(file, "data", data_offset + i, "bool element is neither 0 nor 1");
  }
};

namespace detail {

inline void byte_swap_elements(std::byte* p, std::size_t n, std::size_t width) noexcept {
  for (std::size_t i = 0; i < n; ++i, p += width) std::reverse(p, p + width);
}

}  // namespace detail

/// Parses a .npy image in `bytes`. `owner` keeps `bytes` alive in the result; `file` names it
/// in errors and `base` is its offset inside that file (an entry of an .npz archive).
[[nodiscard]] inline NpyArray parse_npy(std::span<const std::byte> bytes,
                                        std::shared_ptr<const void> owner, std::string file,
                                        std::uint64_t base = 0) {
  detail::ByteReader r(bytes, file, base);
  static constexpr unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (r.size() < 6 || std::memcmp(r.bytes().data(), magic, 6) != 0)
    r.fail_at(0, "magic", "not a .npy file (expected \\x93NUMPY)");
  r.skip(6, "magic");
  const unsigned major = r.read_u8("version");
  const unsigned minor = r.read_u8("version");
  if (minor != 0 || major < 1 || major > 3)
    r.fail_at(6, "version",
              ::pare::detail::concat("unknown .npy version ", major, ".", minor,
                                     " (pare reads 1.0, 2.0 and 3.0)"));
  const std::uint64_t hlen = major == 1 ? r.read_u16("header length") : r.read_u32("header length");
  const std::uint64_t header_at = r.offset();
  if (hlen > r.remaining())
    r.fail_at(8, "header length",
              ::pare::detail::concat("header of ", hlen, " bytes does not fit in the ",
                                     r.remaining(), " bytes left"));
  const std::string text = r.read_string(hlen, "header");
  detail::NpyHeader h = detail::NpyHeaderParser(text, file, base + header_at).parse();

  NpyArray a;
  a.dtype = h.dtype;
  a.fortran_order = h.fortran_order;
  a.file = file;
  a.header_offset = base + header_at;
  a.data_offset = base + r.offset();
  std::uint64_t count = 1;
  for (std::size_t e : h.shape)
    count = detail::checked_mul(count, e, file, "shape", base + header_at);
  const std::uint64_t nbytes =
      detail::checked_mul(count, detail::npy_itemsize(h.dtype), file, "shape", base + header_at);
  if (nbytes > r.remaining())
    r.fail("data", ::pare::detail::concat("shape ", detail::npy_shape_text(h.shape), " of ",
                                          h.descr, " needs ", nbytes, " bytes, the file has ",
                                          r.remaining(), " (truncated)"));
  if (nbytes < r.remaining())
    r.fail_at(
        r.offset() + nbytes, "data",
        ::pare::detail::concat(r.remaining() - nbytes, " bytes after the end of the array data"));
  a.shape = std::move(h.shape);
  const auto raw = r.read_bytes(nbytes, "data");
  if (h.big_endian) {
    auto copy = std::make_shared<std::vector<std::byte>>(raw.begin(), raw.end());
    detail::byte_swap_elements(copy->data(), static_cast<std::size_t>(count),
                               detail::npy_itemsize(h.dtype));
    a.data = *copy;
    a.owner = std::move(copy);
  } else {
    a.data = raw;
    a.owner = std::move(owner);
  }
  return a;
}

/// Reads a .npy file through a memory map; the result keeps the map alive.
[[nodiscard]] inline NpyArray read_npy_array(const std::filesystem::path& path) {
  const MappedFile f = MappedFile::open(path, AccessHint::sequential);
  return parse_npy(f.bytes(), f.keep_alive(), f.name());
}

/// Reads a .npy file as a row-major Tensor<T, Rank>, checking dtype (FormatError) and rank
/// (ShapeError). A 0-d file has rank 0: read it with `read_npy_array(path).item<T>()`.
template <NpyElement T, std::size_t Rank>
[[nodiscard]] Tensor<T, Rank> read_npy(const std::filesystem::path& path) {
  return read_npy_array(path).template to_tensor<T, Rank>();
}

namespace detail {

template <class T, std::size_t Rank>
void write_elements(FileSink& s, const TensorView<T, Rank>& v) {
  if (v.empty()) return;
  if (v.is_contiguous()) {
    s.write(v.data(), v.size() * sizeof(T));
    return;
  }
  Shape<Rank> idx{};
  for (std::size_t n = 0, total = v.size(); n < total; ++n) {
    std::ptrdiff_t off = 0;
    for (std::size_t d = 0; d < Rank; ++d) off += static_cast<std::ptrdiff_t>(idx[d]) * v.stride(d);
    s.write(v.data() + off, sizeof(T));
    for (std::size_t d = Rank; d-- > 0;) {
      if (++idx[d] < v.extent(d)) break;
      idx[d] = 0;
    }
  }
}

}  // namespace detail

/// Writes `v` (any strides; written in row-major order) as .npy, atomically. The bytes are what
/// `numpy.save` writes for the same array. `major_version` 0 picks 1.0 unless the header is too
/// large for it; 1, 2 or 3 force that version. Types numpy lacks (bf16, fp8) do not compile.
///
///     pare::io::write_npy("w.npy", w.view());
template <class T, std::size_t Rank>
  requires NpyElement<std::remove_cv_t<T>>
void write_npy(const std::filesystem::path& path, TensorView<T, Rank> v, int major_version = 0) {
  using V = std::remove_cv_t<T>;
  const std::vector<std::size_t> shape(v.extents().begin(), v.extents().end());
  const std::string header = detail::npy_header_bytes(*detail::npy_descr(dtype_traits<V>::dtype),
                                                      shape, false, major_version);
  atomic_write(path, [&](FileSink& s) {
    s.write(header);
    detail::write_elements(s, TensorView<const V, Rank>(v));
  });
}

template <class T, std::size_t Rank>
  requires NpyElement<T>
void write_npy(const std::filesystem::path& path, const Tensor<T, Rank>& t, int major_version = 0) {
  write_npy(path, t.view(), major_version);
}

/// Writes a type-erased array: `data` holds the elements in native byte order, row-major unless
/// `fortran_order`. Throws UnsupportedError for DTypes numpy lacks and ShapeError when the data
/// size does not match the shape.
inline void write_npy(const std::filesystem::path& path, DType dtype,
                      const std::vector<std::size_t>& shape, std::span<const std::byte> data,
                      bool fortran_order = false, int major_version = 0) {
  const auto descr = detail::npy_descr(dtype);
  if (!descr)
    throw UnsupportedError(::pare::detail::concat("numpy has no dtype for ", name(dtype)));
  std::size_t count = 1;
  for (auto e : shape) {
    PARE_CHECK(e == 0 || count <= std::numeric_limits<std::size_t>::max() / e, ShapeError,
               "element count of the shape overflows size_t");
    count *= e;
  }
  PARE_CHECK(count <= std::numeric_limits<std::size_t>::max() / detail::npy_itemsize(dtype) &&
                 count * detail::npy_itemsize(dtype) == data.size(),
             ShapeError, "write_npy: ", count, " elements of ", name(dtype), " need ",
             count * detail::npy_itemsize(dtype), " bytes, got ", data.size());
  const std::string header = detail::npy_header_bytes(*descr, shape, fortran_order, major_version);
  atomic_write(path, [&](FileSink& s) {
    s.write(header);
    s.write(data);
  });
}

/// Writes an NpyArray back (same dtype, shape and memory order).
inline void write_npy(const std::filesystem::path& path, const NpyArray& a, int major_version = 0) {
  write_npy(path, a.dtype, a.shape, a.data, a.fortran_order, major_version);
}

}  // namespace pare::io
