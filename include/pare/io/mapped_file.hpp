// SPDX-License-Identifier: Apache-2.0
// pare — read-only memory maps of whole files, with shared ownership.
//
// A MappedFile is a cheap handle: copies share one mapping, which is unmapped when the last copy
// (or the last `keep_alive()` token held by a loaded tensor) goes away. Readers parse the bytes
// in place, so a tensor loaded from a mapped file can be a zero-copy view into the page cache.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"

namespace pare::io {

/// How the caller intends to touch the bytes; forwarded to madvise(2) as a hint.
enum class AccessHint { normal, sequential, random, will_need };

namespace detail {

[[nodiscard]] std::string errno_text(int err);

/// The mapping (or owned buffer) behind one or more MappedFile handles.
class Mapping {
 public:
  Mapping(void* addr, std::size_t size, std::string name)
      : addr_(addr), size_(size), name_(std::move(name)) {}
  Mapping(std::vector<std::byte> buffer, std::string name)
      : buffer_(std::move(buffer)), size_(buffer_.size()), name_(std::move(name)) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping();

  [[nodiscard]] std::span<const std::byte> bytes() const noexcept {
    if (addr_ != nullptr) return {static_cast<const std::byte*>(addr_), size_};
    return {buffer_.data(), buffer_.size()};
  }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// Whether the bytes are a memory map (not an owned buffer).
  [[nodiscard]] bool mapped() const noexcept { return addr_ != nullptr; }

 private:
  void* addr_ = nullptr;
  std::vector<std::byte> buffer_;
  std::size_t size_ = 0;
  std::string name_;
};

/// Closes a file descriptor on scope exit.
class FdGuard {
 public:
  explicit FdGuard(int fd) noexcept : fd_(fd) {}
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  ~FdGuard();
  [[nodiscard]] int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace detail

/// A whole file mapped read-only (MAP_PRIVATE). Views from `bytes()` stay valid while any copy of
/// this handle, or any token from `keep_alive()`, lives.
///
///     auto f = pare::io::MappedFile::open("model.safetensors");
///     std::span<const std::byte> all = f.bytes();
///
/// @pre The file is not truncated by another process while mapped (the kernel would deliver
///      SIGBUS on access to the vanished pages; no user-space reader can prevent that).
class MappedFile {
 public:
  MappedFile() = default;

  /// Maps `path`; an empty file gives an empty span. Throws pare::Error naming the path and the
  /// system's reason (errno text) when the file cannot be opened, is not a regular file, or
  /// cannot be mapped.
  [[nodiscard]] static MappedFile open(const std::filesystem::path& path,
                                       AccessHint hint = AccessHint::normal);

  /// Wraps bytes already in memory (tests, network buffers) behind the same interface; `name`
  /// is what error messages call the buffer.
  [[nodiscard]] static MappedFile from_buffer(std::vector<std::byte> bytes, std::string name);

  [[nodiscard]] std::span<const std::byte> bytes() const noexcept {
    return mapping_ ? mapping_->bytes() : std::span<const std::byte>{};
  }
  [[nodiscard]] std::size_t size() const noexcept { return bytes().size(); }
  [[nodiscard]] bool is_open() const noexcept { return mapping_ != nullptr; }
  /// The path (or buffer name) used in error messages.
  [[nodiscard]] const std::string& name() const noexcept {
    static const std::string none = "<no file>";
    return mapping_ ? mapping_->name() : none;
  }
  /// Drops the pages of bytes [offset, offset + length) from this process's memory
  /// (madvise(MADV_DONTNEED), widened to whole pages): a reader streaming through a file larger
  /// than memory calls it on what it has consumed, so its resident size stays at what it holds.
  /// The bytes stay readable (a later access reads them from the file again); ranges past the
  /// end are clipped; a no-op for from_buffer() handles. A hint: failures are ignored.
  void release(std::size_t offset, std::size_t length) const noexcept;
  /// Asks the kernel to start reading bytes [offset, offset + length) into the page cache
  /// (madvise(MADV_WILLNEED)) and returns at once: a streaming reader calls it on what it will
  /// read next, so the disk works while it computes. Does not add to the resident size;
  /// clipped to the file; a no-op for from_buffer() handles. A hint: failures are ignored.
  void prefetch(std::size_t offset, std::size_t length) const noexcept;
  /// A token that keeps the mapping alive; store it next to any view into `bytes()`.
  [[nodiscard]] std::shared_ptr<const void> keep_alive() const noexcept { return mapping_; }

 private:
  static std::string concat_error(const char* what, const std::string& name, int err);
  static int advice(AccessHint h) noexcept;

  std::shared_ptr<const detail::Mapping> mapping_;
};

}  // namespace pare::io

#ifndef PARE_COMPILED_LIB
#include "pare/io/mapped_file-inl.hpp"
#endif
