// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/detail/hdf5_handle.hpp: compiled once into pare::hdf5_compiled (not
// pare::compiled, which must not need libhdf5), or included by the header (core/config.hpp).
#pragma once

#include <cstring>
#include <limits>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/float16.hpp"
#include "pare/io/detail/hdf5_handle.hpp"

namespace pare::io::detail {

PARE_INLINE std::recursive_mutex& hdf5_mutex() {
  static std::recursive_mutex m;
  return m;
}

PARE_INLINE Hdf5Session::Hdf5Session() : lock_(hdf5_mutex()) {
  if (H5Eget_auto2(H5E_DEFAULT, &old_func_, &old_data_) < 0) {
    old_func_ = nullptr;
    old_data_ = nullptr;
  }
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

PARE_INLINE Hdf5Session::~Hdf5Session() {
  H5Eclear2(H5E_DEFAULT);
  H5Eset_auto2(H5E_DEFAULT, old_func_, old_data_);
}

PARE_INLINE std::string hdf5_reason() {
  struct Walk {
    std::string first, last;
  } w;
  auto cb = [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
    auto* out = static_cast<Walk*>(data);
    const std::string d = (e && e->desc) ? e->desc : "";
    if (out->first.empty()) out->first = d;
    out->last = d;
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, cb, &w);
  H5Eclear2(H5E_DEFAULT);
  if (w.first.empty() && w.last.empty()) return "libhdf5 gave no reason";
  if (w.first == w.last || w.last.empty()) return "libhdf5: " + w.first;
  return "libhdf5: " + w.first + " (" + w.last + ")";
}

PARE_INLINE H5Id& H5Id::operator=(H5Id&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = std::exchange(o.id_, -1);
    close_ = o.close_;
  }
  return *this;
}

PARE_INLINE void H5Id::reset() noexcept {
  if (id_ >= 0 && close_ != nullptr) {
    Hdf5Session s;
    close_(id_);
  }
  id_ = -1;
}

PARE_INLINE void H5Context::fail(const std::string& field, std::uint64_t offset,
                                 const std::string& what) const {
  throw FormatError(file, field, offset, what);
}

PARE_INLINE H5Id H5Context::own(hid_t id, H5Id::Closer close, const std::string& field,
                                std::string_view what) const {
  if (id < 0) fail(field, 0, std::string(what) + ": " + hdf5_reason());
  return H5Id(id, close);
}

PARE_INLINE bool H5Context::exists(htri_t r, const std::string& field,
                                   std::string_view what) const {
  return check(r, field, what) > 0;
}

PARE_INLINE std::string h5_join(std::string_view parent, std::string_view name) {
  std::string out(parent);
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

PARE_INLINE std::optional<std::vector<std::string>> read_string_attribute(const H5Context& cx,
                                                                          hid_t obj,
                                                                          const std::string& path,
                                                                          const std::string& name) {
  const std::string field = path + "@" + name;
  if (!cx.exists(H5Aexists(obj, name.c_str()), field, "cannot look up the attribute"))
    return std::nullopt;
  const H5Id a =
      cx.own(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, field, "cannot open the attribute");
  const H5Id space =
      cx.own(H5Aget_space(a.get()), H5Sclose, field, "cannot read the attribute's dataspace");
  const H5S_class_t sc = H5Sget_simple_extent_type(space.get());
  std::size_t n = 0;
  if (sc == H5S_SCALAR) {
    n = 1;
  } else if (sc == H5S_SIMPLE) {
    const int rank = cx.check(H5Sget_simple_extent_ndims(space.get()), field,
                              "cannot read the attribute's rank");
    if (rank != 1)
      cx.fail(field, 0,
              "a list of names must be 1-d, this attribute has rank " + std::to_string(rank));
    hsize_t dim = 0;
    cx.check(H5Sget_simple_extent_dims(space.get(), &dim, nullptr), field,
             "cannot read the attribute's extent");
    if (dim > kMaxAttributeBytes) cx.fail(field, 0, "attribute has too many elements");
    n = static_cast<std::size_t>(dim);
  } else if (sc != H5S_NULL) {
    cx.fail(field, 0, "attribute has an invalid dataspace: " + hdf5_reason());
  }
  if (n == 0) return std::vector<std::string>{};

  const H5Id type =
      cx.own(H5Aget_type(a.get()), H5Tclose, field, "cannot read the attribute's datatype");
  if (H5Tget_class(type.get()) != H5T_STRING)
    cx.fail(field, 0, "expected an attribute of strings, this one holds numbers");
  std::vector<std::string> out;
  out.reserve(n);
  const htri_t vlen =
      cx.check(H5Tis_variable_str(type.get()), field, "cannot read the attribute's string kind");
  if (vlen > 0) {
    // h5py 3 writes Python bytes and lists of bytes (Keras's layer_names, weight_names,
    // keras_version) as variable-length strings; the text lives in libhdf5's global heap.
    const H5Id mem = cx.own(H5Tcopy(H5T_C_S1), H5Tclose, field, "cannot make a string type");
    cx.check(H5Tset_size(mem.get(), H5T_VARIABLE), field, "cannot make a string type");
    std::vector<char*> ptrs(n, nullptr);
    cx.check(H5Aread(a.get(), mem.get(), ptrs.data()), field, "cannot read the attribute");
    std::size_t total = 0;
    bool too_big = false;
    for (char* p : ptrs) {
      const std::size_t len = p ? std::strlen(p) : 0;
      total += len;
      if (total > kMaxAttributeBytes) {
        too_big = true;
        break;
      }
      out.emplace_back(p ? p : "", len);
    }
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
#else
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
#endif
    if (too_big) cx.fail(field, 0, "attribute strings exceed 64 MiB");
    return out;
  }
  const std::size_t size = H5Tget_size(type.get());
  if (size == 0) cx.fail(field, 0, "string type of size 0: " + hdf5_reason());
  if (n > kMaxAttributeBytes / size) cx.fail(field, 0, "attribute strings exceed 64 MiB");
  std::vector<char> buf(n * size);
  cx.check(H5Aread(a.get(), type.get(), buf.data()), field, "cannot read the attribute");
  const bool space_padded = H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD;
  for (std::size_t k = 0; k < n; ++k) {
    const char* p = buf.data() + k * size;
    std::size_t len = 0;
    while (len < size && p[len] != '\0') ++len;
    if (space_padded)
      while (len > 0 && p[len - 1] == ' ') --len;
    out.emplace_back(p, len);
  }
  return out;
}

PARE_INLINE std::optional<DType> h5_to_dtype(hid_t type) {
  const H5T_class_t c = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  if (c == H5T_INTEGER) {
    const H5T_sign_t sign = H5Tget_sign(type);
    if (sign == H5T_SGN_ERROR) return std::nullopt;
    const bool s = sign == H5T_SGN_2;
    if (H5Tget_precision(type) != size * 8 || H5Tget_offset(type) != 0) return std::nullopt;
    switch (size) {
      case 1:
        return s ? DType::i8 : DType::u8;
      case 2:
        return s ? DType::i16 : DType::u16;
      case 4:
        return s ? DType::i32 : DType::u32;
      case 8:
        return s ? DType::i64 : DType::u64;
      default:
        return std::nullopt;
    }
  }
  if (c == H5T_FLOAT) {
    std::size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
    if (H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0) return std::nullopt;
    if (H5Tget_precision(type) != size * 8 || H5Tget_offset(type) != 0) return std::nullopt;
    const std::size_t ebias = H5Tget_ebias(type);
    if (size == 2 && spos == 15 && epos == 10 && esize == 5 && mpos == 0 && msize == 10 &&
        ebias == 15)
      return DType::f16;
    if (size == 4 && spos == 31 && epos == 23 && esize == 8 && mpos == 0 && msize == 23 &&
        ebias == 127)
      return DType::f32;
    if (size == 8 && spos == 63 && epos == 52 && esize == 11 && mpos == 0 && msize == 52 &&
        ebias == 1023)
      return DType::f64;
  }
  return std::nullopt;
}

PARE_INLINE std::string_view h5_class_name(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return "integer";
    case H5T_FLOAT:
      return "float";
    case H5T_STRING:
      return "string";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_COMPOUND:
      return "compound (e.g. complex)";
    case H5T_REFERENCE:
      return "reference";
    case H5T_ENUM:
      return "enum (e.g. bool)";
    case H5T_VLEN:
      return "variable-length";
    case H5T_ARRAY:
      return "array";
    default:
      return "unknown";
  }
}

PARE_INLINE H5Id h5_memory_type(const H5Context& cx, DType d, const std::string& field) {
  auto copy = [&](hid_t t) {
    return cx.own(H5Tcopy(t), H5Tclose, field, "cannot make a memory datatype");
  };
  switch (d) {
    case DType::f32:
      return copy(H5T_NATIVE_FLOAT);
    case DType::f64:
      return copy(H5T_NATIVE_DOUBLE);
    case DType::f16: {
      // IEEE binary16 as h5py defines it: a float32 type narrowed to 16 bits.
      H5Id t = copy(H5T_IEEE_F32LE);
      cx.check(H5Tset_fields(t.get(), 15, 10, 5, 0, 10), field, "cannot make a float16 type");
      cx.check(H5Tset_size(t.get(), 2), field, "cannot make a float16 type");
      cx.check(H5Tset_ebias(t.get(), 15), field, "cannot make a float16 type");
      return t;
    }
    case DType::i8:
      return copy(H5T_NATIVE_INT8);
    case DType::u8:
      return copy(H5T_NATIVE_UINT8);
    case DType::i16:
      return copy(H5T_NATIVE_INT16);
    case DType::u16:
      return copy(H5T_NATIVE_UINT16);
    case DType::i32:
      return copy(H5T_NATIVE_INT32);
    case DType::u32:
      return copy(H5T_NATIVE_UINT32);
    case DType::i64:
      return copy(H5T_NATIVE_INT64);
    case DType::u64:
      return copy(H5T_NATIVE_UINT64);
    default:
      break;
  }
  throw UnsupportedError(cx.file + ": no HDF5 memory type for " + std::string(name(d)));
}

}  // namespace pare::io::detail
