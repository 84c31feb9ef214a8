// SPDX-License-Identifier: Apache-2.0
// pare — libhdf5 plumbing for pare/io/hdf5.hpp: a scoped session (process-wide lock, the HDF5
// error stack kept from printing), an owning hid_t, checked calls that turn a failed libhdf5
// call into a pare::FormatError carrying libhdf5's own reason, string attributes, and the
// mapping between HDF5 datatypes and pare DTypes. Needs libhdf5 (link pare::hdf5).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hdf5.h>

#include "pare/core/dtype.hpp"
#include "pare/core/error.hpp"

namespace pare::io::detail {

/// One lock for every libhdf5 call pare makes: libhdf5 built without --enable-threadsafe (the
/// default of a source build) must not be entered from two threads at once.
std::recursive_mutex& hdf5_mutex();

/// Holds the lock and keeps libhdf5 from printing its error stack to stderr for as long as it
/// lives; the caller's own automatic error handler is put back afterwards.
class Hdf5Session {
 public:
  Hdf5Session();
  Hdf5Session(const Hdf5Session&) = delete;
  Hdf5Session& operator=(const Hdf5Session&) = delete;
  ~Hdf5Session();

 private:
  std::lock_guard<std::recursive_mutex> lock_;
  H5E_auto2_t old_func_ = nullptr;
  void* old_data_ = nullptr;
};

/// libhdf5's reason for the last failure: the outermost and the innermost message of the error
/// stack ("unable to open file (truncated file: eof = 1024, ...)"); the stack is then cleared.
std::string hdf5_reason();

/// An owning hid_t of any kind (file, group, dataset, attribute, datatype, dataspace, plist).
class H5Id {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Id() = default;
  H5Id(hid_t id, Closer close) noexcept : id_(id), close_(close) {}
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  H5Id(H5Id&& o) noexcept : id_(std::exchange(o.id_, -1)), close_(o.close_) {}
  H5Id& operator=(H5Id&& o) noexcept;
  ~H5Id() { reset(); }

  void reset() noexcept;
  [[nodiscard]] hid_t get() const noexcept { return id_; }
  [[nodiscard]] explicit operator bool() const noexcept { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

/// Where errors about one file are reported.
struct H5Context {
  std::string file;

  [[noreturn]] void fail(const std::string& field, std::uint64_t offset,
                         const std::string& what) const;
  /// `id` from a libhdf5 call that returns a handle; a negative one is a FormatError.
  H5Id own(hid_t id, H5Id::Closer close, const std::string& field, std::string_view what) const;
  /// A status or count from libhdf5; negative is a FormatError.
  template <class R>
  R check(R r, const std::string& field, std::string_view what) const {
    if (r < 0) fail(field, 0, std::string(what) + ": " + hdf5_reason());
    return r;
  }
  /// H5Lexists / H5Aexists style tri-state.
  bool exists(htri_t r, const std::string& field, std::string_view what) const;
};

/// `parent` + "/" + `name`, without doubling the root's slash.
std::string h5_join(std::string_view parent, std::string_view name);

/// The most bytes of string attribute pare reads (names of every layer of a big model are far
/// below this; Keras itself splits attributes above 64512 bytes).
inline constexpr std::size_t kMaxAttributeBytes = std::size_t{64} << 20;

/// A string attribute `name` of object `obj` as a list (a scalar gives one element; an empty
/// array of any type gives none, as Keras writes `weight_names = []` for a layer without
/// weights). nullopt when absent. FormatError when it is neither strings nor empty.
std::optional<std::vector<std::string>> read_string_attribute(const H5Context& cx, hid_t obj,
                                                              const std::string& path,
                                                              const std::string& name);

/// The pare DType of an HDF5 datatype that holds one: IEEE binary16/32/64 floats and 8- to
/// 64-bit integers, in either byte order. nullopt for anything else (complex compounds,
/// strings, enums, arrays, other float layouts).
std::optional<DType> h5_to_dtype(hid_t type);

/// A readable name for an HDF5 datatype class (for error messages).
std::string_view h5_class_name(hid_t type);

/// A memory datatype for elements of `d` in this machine's byte order (libhdf5 converts the
/// file's byte order to it while reading).
H5Id h5_memory_type(const H5Context& cx, DType d, const std::string& field);

}  // namespace pare::io::detail

#ifndef PARE_COMPILED_LIB
#include "pare/io/detail/hdf5_handle-inl.hpp"
#endif
