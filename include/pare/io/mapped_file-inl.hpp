// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/mapped_file.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/io/mapped_file.hpp"

namespace pare::io::detail {

PARE_INLINE std::string errno_text(int err) { return std::strerror(err); }

PARE_INLINE Mapping::~Mapping() {
  if (addr_ != nullptr) ::munmap(addr_, size_);
}

PARE_INLINE FdGuard::~FdGuard() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace pare::io::detail

namespace pare::io {

PARE_INLINE MappedFile MappedFile::open(const std::filesystem::path& path, AccessHint hint) {
  const std::string name = path.string();
  detail::FdGuard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int err = errno;
    throw Error(concat_error("cannot open ", name, err));
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) {
    const int err = errno;
    throw Error(concat_error("cannot stat ", name, err));
  }
  if (!S_ISREG(st.st_mode)) throw Error(name + ": not a regular file, cannot map it");
  if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > SIZE_MAX)
    throw Error(name + ": file size does not fit in this process's address space");
  const auto size = static_cast<std::size_t>(st.st_size);
  MappedFile f;
  if (size == 0) {
    f.mapping_ = std::make_shared<detail::Mapping>(std::vector<std::byte>{}, name);
    return f;
  }
  void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (addr == MAP_FAILED) {
    const int err = errno;
    throw Error(concat_error("cannot mmap ", name, err));
  }
  try {
    f.mapping_ = std::make_shared<detail::Mapping>(addr, size, name);
  } catch (...) {
    ::munmap(addr, size);
    throw;
  }
  // A hint only: a kernel that ignores it (or refuses it) changes speed, never results.
  (void)::madvise(addr, size, advice(hint));
  return f;
}

PARE_INLINE MappedFile MappedFile::from_buffer(std::vector<std::byte> bytes, std::string name) {
  MappedFile f;
  f.mapping_ = std::make_shared<detail::Mapping>(std::move(bytes), std::move(name));
  return f;
}

namespace detail {
/// Bytes [offset, offset + length) of a map, clipped to it, with `lo` rounded down to its page:
/// what release() and prefetch() hand to madvise. `empty` when nothing of the map is left.
struct MappedRange {
  std::byte* base = nullptr;
  std::size_t lo = 0, end = 0, page = 4096, size = 0;
  bool empty = true;
};
[[nodiscard]] inline MappedRange mapped_range(std::span<const std::byte> all, std::size_t offset,
                                              std::size_t length) noexcept {
  MappedRange r;
  if (offset >= all.size() || length == 0) return r;
  const long ps = ::sysconf(_SC_PAGESIZE);
  r.page = ps > 0 ? static_cast<std::size_t>(ps) : 4096;
  r.end = offset + std::min(length, all.size() - offset);
  r.lo = offset - offset % r.page;
  r.size = all.size();
  r.base = const_cast<std::byte*>(all.data());
  r.empty = false;
  return r;
}
}  // namespace detail

PARE_INLINE void MappedFile::release(std::size_t offset, std::size_t length) const noexcept {
  if (!mapping_ || !mapping_->mapped()) return;
  const auto r = detail::mapped_range(mapping_->bytes(), offset, length);
  if (r.empty) return;
  // Pages only partly inside the range are dropped too: the map is read-only and private, so a
  // dropped page holds nothing that a later access cannot read back from the file.
  const std::size_t hi = std::min(r.size, r.end + (r.page - r.end % r.page) % r.page);
  (void)::madvise(r.base + r.lo, hi - r.lo, MADV_DONTNEED);
}

PARE_INLINE void MappedFile::prefetch(std::size_t offset, std::size_t length) const noexcept {
  if (!mapping_ || !mapping_->mapped()) return;
  const auto r = detail::mapped_range(mapping_->bytes(), offset, length);
  if (r.empty) return;
  (void)::madvise(r.base + r.lo, r.end - r.lo, MADV_WILLNEED);
}

PARE_INLINE std::string MappedFile::concat_error(const char* what, const std::string& name,
                                                 int err) {
  return std::string(what) + name + ": " + detail::errno_text(err);
}

PARE_INLINE int MappedFile::advice(AccessHint h) noexcept {
  switch (h) {
    case AccessHint::sequential:
      return MADV_SEQUENTIAL;
    case AccessHint::random:
      return MADV_RANDOM;
    case AccessHint::will_need:
      return MADV_WILLNEED;
    case AccessHint::normal:
      break;
  }
  return MADV_NORMAL;
}

}  // namespace pare::io
