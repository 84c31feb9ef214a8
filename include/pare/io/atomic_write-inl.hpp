// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/atomic_write.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/random.h>
#endif

#include "pare/core/error.hpp"
#include "pare/io/atomic_write.hpp"
#include "pare/io/mapped_file.hpp"

namespace pare::io {

PARE_INLINE FileSink::FileSink(int fd, std::string target)
    : fd_(fd), target_(std::move(target)), buffer_(std::size_t{1} << 20) {}

PARE_INLINE void FileSink::write(std::span<const std::byte> bytes) {
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

PARE_INLINE void FileSink::fill(std::size_t n, std::byte b) {
  while (n > 0) {
    if (used_ == buffer_.size()) flush();
    const std::size_t k = std::min(n, buffer_.size() - used_);
    std::memset(buffer_.data() + used_, std::to_integer<int>(b), k);
    used_ += k;
    n -= k;
  }
}

PARE_INLINE void FileSink::flush() {
  write_all(buffer_.data(), used_);
  used_ = 0;
}

PARE_INLINE void FileSink::write_all(const std::byte* p, std::size_t n) {
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

namespace detail {

PARE_INLINE AtomicWriteTestHooks& atomic_write_test_hooks() noexcept {
  static AtomicWriteTestHooks hooks;
  return hooks;
}

/// `<path>.tmp-<pid>-<16 hex digits>`, in the target's folder (same file system, so the rename
/// is atomic). The pid keeps live processes apart and lets a later save tell a dead writer's
/// leftover (sweep_stale_temporaries); the digits keep calls of one process apart (a counter)
/// and make a clash with a dead process of the same pid unlikely (getrandom, or the clock).
/// A clash that still happens shows as EEXIST, and the caller draws another name.
PARE_INLINE std::string temp_path_for(const std::string& path) {
  static std::atomic<std::uint64_t> counter{0};
  std::uint64_t r = 0;
#if defined(__linux__)
  if (::getrandom(&r, sizeof r, GRND_NONBLOCK) != static_cast<::ssize_t>(sizeof r)) r = 0;
#endif
  if (r == 0) {
    ::timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    r = static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u +
        static_cast<std::uint64_t>(ts.tv_nsec);
  }
  // The odd multiplier spreads the count over all 64 bits (and is a bijection), so two names
  // drawn in the same clock tick still differ.
  r ^= (counter.fetch_add(1, std::memory_order_relaxed) + 1) * 0x9E3779B97F4A7C15u;
  char hex[17];
  for (int i = 0; i < 16; ++i) hex[i] = "0123456789abcdef"[(r >> (4 * (15 - i))) & 0xF];
  hex[16] = '\0';
  return path + ".tmp-" + std::to_string(::getpid()) + "-" + hex;
}

PARE_INLINE bool parse_temp_name(std::string_view entry, std::string_view target_name,
                                 std::int64_t& pid) noexcept {
  constexpr std::string_view tag = ".tmp-";
  if (target_name.empty() || !entry.starts_with(target_name)) return false;
  entry.remove_prefix(target_name.size());
  if (!entry.starts_with(tag)) return false;
  entry.remove_prefix(tag.size());
  std::size_t digits = 0;
  std::int64_t value = 0;
  while (digits < entry.size() && entry[digits] >= '0' && entry[digits] <= '9' && digits < 11) {
    value = value * 10 + (entry[digits] - '0');
    ++digits;
  }
  // A pid is positive and fits pid_t; 0 or a negative number would make kill() address a process
  // group, so the pattern refuses them outright.
  if (digits == 0 || entry[0] == '0' || value > INT_MAX) return false;
  entry.remove_prefix(digits);
  if (entry.size() != 17 || entry[0] != '-') return false;
  for (const char c : entry.substr(1))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  pid = value;
  return true;
}

PARE_INLINE std::size_t sweep_stale_temporaries(const std::filesystem::path& target) noexcept {
  try {
    const std::string name = target.filename().string();
    if (name.empty()) return 0;
    const std::filesystem::path parent = target.parent_path();
    const std::string dir = parent.empty() ? std::string(".") : parent.string();
    ::DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return 0;
    const int dfd = ::dirfd(d);
    const std::int64_t self = ::getpid();
    const int min_age = atomic_write_test_hooks().stale_after_seconds;
    ::timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    std::size_t removed = 0;
    while (const ::dirent* e = ::readdir(d)) {
      std::int64_t pid = 0;
      if (!parse_temp_name(e->d_name, name, pid) || pid == self) continue;
      // Neither test is enough alone; a file is removed only when both say the writer is gone.
      // - The pid: a live writer in this pid namespace always passes kill(pid, 0) (EPERM for
      //   another user's process also means "exists"). Pid reuse can only make a dead writer
      //   look alive, so it errs toward keeping the file; a later save removes it.
      // - The age: a pid means nothing outside the writer's pid namespace and host. A writer in
      //   another container, or on another NFS client (network file systems are where the
      //   named path runs), may be alive while its pid is free here. A writer changes its
      //   file's mtime with every MiB it flushes, so a file untouched for stale_after_seconds
      //   (10 s by default) is not being written. The threshold bounds what a crash loop can
      //   pile up (the saves killed in the last 10 s); the price is that such a foreign writer
      //   stalled longer than that (an fsync on slow network storage) loses its temporary, and
      //   its save fails with an error that says so, its target untouched.
      if (::kill(static_cast<::pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
      struct stat st{};
      if (::fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
        continue;
      if (now.tv_sec - st.st_mtim.tv_sec < min_age) continue;  // also keeps future mtimes
      if (::unlinkat(dfd, e->d_name, 0) == 0) ++removed;
    }
    ::closedir(d);
    return removed;
  } catch (...) {
    return 0;  // an allocation failure while sweeping must not fail the save
  }
}

PARE_INLINE void fsync_directory(const std::string& dir, const std::string& target) {
  FdGuard fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
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

PARE_INLINE std::string folder_of(const std::filesystem::path& path) {
  const std::filesystem::path parent = path.parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

PARE_INLINE AtomicFile::AtomicFile(const std::filesystem::path& path)
    : path_(path.string()), sink_(-1, path_) {
  // Sweeping on the O_TMPFILE path too: a kill between linkat and rename leaves a name, and so
  // does every killed save of an older pare or of a run on a file system without O_TMPFILE.
  sweep_stale_temporaries(path);
  const std::string dir = folder_of(path);
#ifdef O_TMPFILE
  if (!atomic_write_test_hooks().refuse_tmpfile) {
    fd_ = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0666);
    if (fd_ < 0) {
      const int err = errno;
      // These mean "no unnamed files here", not "no files here": EOPNOTSUPP from file systems
      // without the operation (older tmpfs, NFS, many FUSE), EISDIR from kernels before 3.11
      // (which read O_TMPFILE as O_DIRECTORY), EINVAL from some network file systems.
      if (err != EOPNOTSUPP && err != EISDIR && err != EINVAL)
        throw Error("cannot create a temporary file in " + dir + " to save " + path_ + ": " +
                    errno_text(err));
    } else {
      char proc[32];
      std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd_);
      // Without /proc the file could be named only through linkat(AT_EMPTY_PATH), which needs
      // CAP_DAC_READ_SEARCH; find that out now, before the content is written, not after.
      if (::access(proc, F_OK) != 0) {
        ::close(fd_);
        fd_ = -1;
      }
    }
  }
#endif
  if (fd_ < 0) {
    for (int attempt = 0;; ++attempt) {
      std::string tmp = temp_path_for(path_);
      fd_ = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ >= 0) {
        temp_ = std::move(tmp);
        break;
      }
      const int err = errno;
      if (err == EEXIST && attempt < 16) continue;
      throw Error("cannot create temporary file " + tmp + " to save " + path_ + ": " +
                  errno_text(err));
    }
  }
  sink_.fd_ = fd_;
  struct stat st{};
  if (::stat(path_.c_str(), &st) == 0 && S_ISREG(st.st_mode))
    (void)::fchmod(fd_, st.st_mode & 07777);
}

PARE_INLINE AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
}

PARE_INLINE void AtomicFile::commit() {
  sink_.flush();
  if (::fsync(fd_) != 0) {
    const int err = errno;
    throw Error("syncing the new content of " + path_ + ": " + errno_text(err));
  }
  if (temp_.empty()) {
    // rename, not linkat, puts the file in place: linkat cannot replace an existing name, so the
    // unnamed file gets a temporary name first. Only a kill between the two calls leaves it.
    char proc[32];
    std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd_);
    for (int attempt = 0;; ++attempt) {
      std::string tmp = temp_path_for(path_);
      int err = 0;
      if (::linkat(AT_FDCWD, proc, AT_FDCWD, tmp.c_str(), AT_SYMLINK_FOLLOW) != 0) {
        err = errno;
#ifdef AT_EMPTY_PATH
        // /proc went away since the constructor looked (a chroot); a privileged process can
        // still name the file directly.
        if (err == ENOENT) {
          if (::linkat(fd_, "", AT_FDCWD, tmp.c_str(), AT_EMPTY_PATH) == 0)
            err = 0;
          else if (errno == EEXIST)
            err = EEXIST;
        }
#endif
      }
      if (err == 0) {
        temp_ = std::move(tmp);
        break;
      }
      if (err == EEXIST && attempt < 16) continue;
      throw Error("cannot name the new content of " + path_ + " " + tmp + ": " + errno_text(err));
    }
  }
  if (::close(std::exchange(fd_, -1)) != 0) {
    const int err = errno;
    throw Error("closing " + temp_ + ": " + errno_text(err));
  }
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    throw Error("cannot rename " + temp_ + " to " + path_ + ": " + errno_text(err) +
                (err == ENOENT ? " (the temporary was removed while it was written: a save from "
                                 "another host or container sharing this folder may have taken "
                                 "it for a dead writer's leftover)"
                               : ""));
  }
  committed_ = true;
  fsync_directory(folder_of(path_), path_);
}

}  // namespace detail

PARE_INLINE void atomic_write(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  atomic_write(path, [&](FileSink& s) { s.write(bytes); });
}

}  // namespace pare::io
