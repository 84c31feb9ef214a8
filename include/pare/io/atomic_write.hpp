// SPDX-License-Identifier: Apache-2.0
// pare — atomic file replacement: a failed save never destroys the previous file.
//
// The bytes go to `<path>.tmp-<pid>-<random>` in the target's folder (same filesystem, so the
// rename is atomic), the temp file is fsync'ed, renamed over the target, and the folder is
// fsync'ed so the rename itself survives a power cut. Any failure — an exception from the
// writer callback, a full disk, a failed rename — removes the temp file and leaves the old
// target untouched.
#pragma once

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pare/core/error.hpp"
#include "pare/io/mapped_file.hpp"

namespace pare::io {

/// The sink a writer callback fills: buffered, and every OS error becomes pare::Error naming the
/// file. atomic_write creates it; it does not own the descriptor.
class FileSink {
 public:
  FileSink(int fd, std::string target) : fd_(fd), target_(std::move(target)), buffer_(1u << 20) {}
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  /// Appends `bytes`.
  void write(std::span<const std::byte> bytes) {
    if (bytes.empty()) return;  // an empty span may carry a null pointer, which memcpy must not see
    if (bytes.size() >= buffer_.size()) {
      flush();
      write_all(bytes.data(), bytes.size());
      return;
    }
    if (bytes.size() > buffer_.size() - used_) flush();
    std::memcpy(buffer_.data() + used_, bytes.data(), bytes.size());
    used_ += bytes.size();
  }
  void write(const void* data, std::size_t n) {
    write(std::span<const std::byte>(static_cast<const std::byte*>(data), n));
  }
  void write(std::string_view s) { write(s.data(), s.size()); }
  /// Appends `n` copies of `b` (padding).
  void fill(std::size_t n, std::byte b) {
    while (n > 0) {
      if (used_ == buffer_.size()) flush();
      const std::size_t k = std::min(n, buffer_.size() - used_);
      std::memset(buffer_.data() + used_, std::to_integer<int>(b), k);
      used_ += k;
      n -= k;
    }
  }
  /// Bytes written so far (buffered or not).
  [[nodiscard]] std::uint64_t position() const noexcept { return flushed_ + used_; }
  /// The target path (for messages).
  [[nodiscard]] const std::string& target() const noexcept { return target_; }

  /// Hands buffered bytes to the OS (atomic_write calls it before fsync).
  void flush() {
    write_all(buffer_.data(), used_);
    used_ = 0;
  }

 private:
  void write_all(const std::byte* p, std::size_t n) {
    while (n > 0) {
      const ::ssize_t k = ::write(fd_, p, std::min<std::size_t>(n, std::size_t{1} << 30));
      if (k < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        throw Error("writing " + target_ + ": " + detail::errno_text(err));
      }
      p += k;
      n -= static_cast<std::size_t>(k);
      flushed_ += static_cast<std::uint64_t>(k);
    }
  }

  int fd_;
  std::string target_;
  std::vector<std::byte> buffer_;
  std::size_t used_ = 0;
  std::uint64_t flushed_ = 0;
};

namespace detail {

/// `<path>.tmp-<pid>-<random>`: unique per process and call, in the target's folder.
[[nodiscard]] inline std::filesystem::path temp_path_for(const std::filesystem::path& path) {
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   (static_cast<std::uint64_t>(::getpid()) << 32)};
  const std::uint64_t r = rng() ^ counter.fetch_add(1, std::memory_order_relaxed);
  char hex[17];
  for (int i = 0; i < 16; ++i) hex[i] = "0123456789abcdef"[(r >> (4 * (15 - i))) & 0xF];
  hex[16] = '\0';
  std::filesystem::path p = path;
  p += ".tmp-" + std::to_string(::getpid()) + "-" + hex;
  return p;
}

inline void fsync_directory(const std::filesystem::path& dir, const std::string& target) {
  const std::filesystem::path d = dir.empty() ? std::filesystem::path(".") : dir;
  FdGuard fd(::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int err = errno;
    throw Error("saved " + target + " but cannot open its folder to sync it: " + errno_text(err));
  }
  // Some filesystems cannot sync a directory (EINVAL); the rename is then as durable as they
  // make it, and reporting a failed save would be wrong.
  if (::fsync(fd.get()) != 0 && errno != EINVAL) {
    const int err = errno;
    throw Error("saved " + target + " but syncing its folder failed: " + errno_text(err));
  }
}

}  // namespace detail

/// Writes `path` atomically: `fill(sink)` writes the content; the old file (if any) is replaced
/// only after the new content is complete and on disk. If the target exists, the new file gets
/// its permission bits. On any failure the temp file is removed, the old file is left intact,
/// and the exception propagates.
///
///     pare::io::atomic_write("out.bin", [&](pare::io::FileSink& s) { s.write(bytes); });
template <class F>
  requires std::invocable<F&, FileSink&>
void atomic_write(const std::filesystem::path& path, F&& fill) {
  const std::string target = path.string();
  const std::filesystem::path tmp = detail::temp_path_for(path);
  detail::FdGuard fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  if (fd.get() < 0) {
    const int err = errno;
    throw Error("cannot create temporary file " + tmp.string() + " to save " + target + ": " +
                detail::errno_text(err));
  }
  bool renamed = false;
  try {
    struct stat st{};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode))
      (void)::fchmod(fd.get(), st.st_mode & 07777);
    FileSink sink(fd.get(), target);
    fill(sink);
    sink.flush();
    if (::fsync(fd.get()) != 0) {
      const int err = errno;
      throw Error("syncing " + tmp.string() + ": " + detail::errno_text(err));
    }
    if (::close(fd.release()) != 0) {
      const int err = errno;
      throw Error("closing " + tmp.string() + ": " + detail::errno_text(err));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      const int err = errno;
      throw Error("cannot rename " + tmp.string() + " to " + target + ": " +
                  detail::errno_text(err));
    }
    renamed = true;
    detail::fsync_directory(path.parent_path(), target);
  } catch (...) {
    if (!renamed) ::unlink(tmp.c_str());
    throw;
  }
}

/// Writes `bytes` to `path` atomically.
inline void atomic_write(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  atomic_write(path, [&](FileSink& s) { s.write(bytes); });
}

}  // namespace pare::io
