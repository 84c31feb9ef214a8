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
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
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
#include "pare/io/detail/little_endian.hpp"
#include "pare/io/detail/npy_header.hpp"

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

/// Parses a .npy image in `bytes`. `owner` keeps `bytes` alive in the result; `file` names it
/// in errors and `base` is its offset inside that file (an entry of an .npz archive).
[[nodiscard]] NpyArray parse_npy(std::span<const std::byte> bytes,
                                 std::shared_ptr<const void> owner, std::string file,
                                 std::uint64_t base = 0);

/// Reads a .npy file through a memory map; the result keeps the map alive.
[[nodiscard]] NpyArray read_npy_array(const std::filesystem::path& path);

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
void write_npy(const std::filesystem::path& path, DType dtype,
               const std::vector<std::size_t>& shape, std::span<const std::byte> data,
               bool fortran_order = false, int major_version = 0);

/// Writes an NpyArray back (same dtype, shape and memory order).
void write_npy(const std::filesystem::path& path, const NpyArray& a, int major_version = 0);

}  // namespace pare::io

#ifndef PARE_COMPILED_LIB
#include "pare/io/npy-inl.hpp"
#endif
