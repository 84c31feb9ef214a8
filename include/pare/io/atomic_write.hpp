// SPDX-License-Identifier: Apache-2.0
// pare — atomic file replacement: a failed or killed save never destroys the previous file, and
// a killed save leaves nothing behind.
//
// Where the file system offers unnamed files (Linux O_TMPFILE: ext4, xfs, btrfs, tmpfs, ...), the
// bytes go to an unnamed file in the target's folder; once complete and fsync'ed it is linked
// under a temporary name and renamed over the target, and the folder is fsync'ed so the rename
// survives a power cut. A process killed while writing leaves no directory entry: the kernel
// frees the blocks when the last descriptor goes. Elsewhere the bytes go to a named temporary
// `<path>.tmp-<pid>-<16 hex digits>`, and each save first removes the temporaries of the same
// target whose writer is gone (docs/reliability.md has the rules). Any failure — an exception
// from the writer callback, a full disk, a failed rename — removes the temporary and leaves the
// old target untouched.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pare/core/config.hpp"

namespace pare::io {

namespace detail {
class AtomicFile;
}

/// The sink a writer callback fills: buffered, and every OS error becomes pare::Error naming the
/// file. atomic_write creates it; it does not own the descriptor.
class FileSink {
 public:
  FileSink(int fd, std::string target);
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  /// Appends `bytes`.
  void write(std::span<const std::byte> bytes);
  void write(const void* data, std::size_t n) {
    write(std::span<const std::byte>(static_cast<const std::byte*>(data), n));
  }
  void write(std::string_view s) { write(s.data(), s.size()); }
  /// Appends `n` copies of `b` (padding).
  void fill(std::size_t n, std::byte b);
  /// Bytes written so far (buffered or not).
  [[nodiscard]] std::uint64_t position() const noexcept { return flushed_ + used_; }
  /// The target path (for messages).
  [[nodiscard]] const std::string& target() const noexcept { return target_; }

  /// Hands buffered bytes to the OS (atomic_write calls it before fsync).
  void flush();

 private:
  friend class detail::AtomicFile;  // opens the descriptor after the sink exists
  void write_all(const std::byte* p, std::size_t n);

  int fd_;
  std::string target_;
  std::vector<std::byte> buffer_;
  std::size_t used_ = 0;
  std::uint64_t flushed_ = 0;
};

namespace detail {

/// Test-only switches (tests/io/atomic_write_test.cpp and the kill-loop program). Plain fields,
/// not atomics: set them before saving, from one thread.
struct AtomicWriteTestHooks {
  /// Take the named-temporary path as if the file system refused O_TMPFILE.
  bool refuse_tmpfile = false;
  /// Minimum age (seconds since the last write) of a dead writer's temporary before a save
  /// removes it; see sweep_stale_temporaries.
  int stale_after_seconds = 10;
};
[[nodiscard]] AtomicWriteTestHooks& atomic_write_test_hooks() noexcept;

/// Whether `entry` (a file name, no folder) is one of the temporaries pare names for a target
/// whose file name is `target_name`: exactly `<target_name>.tmp-<pid>-<16 lowercase hex
/// digits>`, pid decimal without a leading zero. Sets `pid` when it is.
[[nodiscard]] bool parse_temp_name(std::string_view entry, std::string_view target_name,
                                   std::int64_t& pid) noexcept;

/// Removes the temporaries of `target` (parse_temp_name) left by dead writers: the pid in the
/// name no longer exists (kill(pid, 0) fails with ESRCH) *and* the file was last written at
/// least `atomic_write_test_hooks().stale_after_seconds` ago. Only regular files are removed.
/// Best effort: errors are ignored, never thrown. Returns how many files it removed.
std::size_t sweep_stale_temporaries(const std::filesystem::path& target) noexcept;

/// A file being written for `path`: unnamed (O_TMPFILE) where the file system supports it,
/// otherwise a named temporary. commit() puts it in place of `path`; destroying an uncommitted
/// one removes every trace of it.
class AtomicFile {
 public:
  explicit AtomicFile(const std::filesystem::path& path);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  [[nodiscard]] FileSink& sink() noexcept { return sink_; }
  /// Whether the content has no directory entry yet (the O_TMPFILE path).
  [[nodiscard]] bool unnamed() const noexcept { return temp_.empty(); }
  /// Flushes, fsyncs, names the file and renames it over the target, then fsyncs the folder.
  void commit();

 private:
  std::string path_;
  std::string temp_;  // the named temporary, empty while the file has no name
  int fd_ = -1;
  bool committed_ = false;
  FileSink sink_;
};

}  // namespace detail

/// Writes `path` atomically: `fill(sink)` writes the content; the old file (if any) is replaced
/// only after the new content is complete and on disk. If the target exists, the new file gets
/// its permission bits. On any failure the temporary is removed, the old file is left intact,
/// and the exception propagates; a process killed while saving leaves no file behind where the
/// file system supports O_TMPFILE, and its named temporary is removed by a later save otherwise.
///
///     pare::io::atomic_write("out.bin", [&](pare::io::FileSink& s) { s.write(bytes); });
template <class F>
  requires std::invocable<F&, FileSink&>
void atomic_write(const std::filesystem::path& path, F&& fill) {
  detail::AtomicFile file(path);
  fill(file.sink());
  file.commit();
}

/// Writes `bytes` to `path` atomically.
void atomic_write(const std::filesystem::path& path, std::span<const std::byte> bytes);

}  // namespace pare::io

#ifndef PARE_COMPILED_LIB
#include "pare/io/atomic_write-inl.hpp"
#endif
