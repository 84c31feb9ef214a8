// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/npy.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/io/detail/byte_reader.hpp"
#include "pare/io/mapped_file.hpp"
#include "pare/io/npy.hpp"

namespace pare::io::detail {

inline void byte_swap_elements(std::byte* p, std::size_t n, std::size_t width) noexcept {
  for (std::size_t i = 0; i < n; ++i, p += width) std::reverse(p, p + width);
}

}  // namespace pare::io::detail

namespace pare::io {

PARE_INLINE NpyArray parse_npy(std::span<const std::byte> bytes, std::shared_ptr<const void> owner,
                               std::string file, std::uint64_t base) {
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

PARE_INLINE NpyArray read_npy_array(const std::filesystem::path& path) {
  const MappedFile f = MappedFile::open(path, AccessHint::sequential);
  return parse_npy(f.bytes(), f.keep_alive(), f.name());
}

PARE_INLINE void write_npy(const std::filesystem::path& path, DType dtype,
                           const std::vector<std::size_t>& shape, std::span<const std::byte> data,
                           bool fortran_order, int major_version) {
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

PARE_INLINE void write_npy(const std::filesystem::path& path, const NpyArray& a,
                           int major_version) {
  write_npy(path, a.dtype, a.shape, a.data, a.fortran_order, major_version);
}

}  // namespace pare::io
