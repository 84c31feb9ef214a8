// SPDX-License-Identifier: Apache-2.0
#include "pare/io/atomic_write.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <set>
#include <stdexcept>
#include <string>

#include "io/io_test_util.hpp"

using pare::io::FileSink;
namespace fs = std::filesystem;

namespace {

/// Sets the test switches for one scope and restores them after.
class Hooks {
 public:
  explicit Hooks(bool refuse_tmpfile, int stale_after_seconds = 10)
      : saved_(pare::io::detail::atomic_write_test_hooks()) {
    auto& h = pare::io::detail::atomic_write_test_hooks();
    h.refuse_tmpfile = refuse_tmpfile;
    h.stale_after_seconds = stale_after_seconds;
  }
  Hooks(const Hooks&) = delete;
  Hooks& operator=(const Hooks&) = delete;
  ~Hooks() { pare::io::detail::atomic_write_test_hooks() = saved_; }

 private:
  pare::io::detail::AtomicWriteTestHooks saved_;
};

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

// Asked of the kernel directly, so the test knows which path atomic_write must have taken.
bool folder_takes_tmpfile(const fs::path& dir) {
#ifdef O_TMPFILE
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  ::close(fd);
  return true;
#else
  return false;
#endif
}

/// A pid that was just in use and now names no process (a child that exited and was reaped).
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  REQUIRE(pid > 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  errno = 0;
  REQUIRE(::kill(pid, 0) == -1);
  REQUIRE(errno == ESRCH);
  return pid;
}

/// A child that sleeps until the scope ends: a live pid other than ours.
class LiveChild {
 public:
  LiveChild() : pid_(::fork()) {
    if (pid_ == 0) {
      ::pause();
      ::_exit(0);
    }
    REQUIRE(pid_ > 0);
  }
  LiveChild(const LiveChild&) = delete;
  LiveChild& operator=(const LiveChild&) = delete;
  ~LiveChild() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

 private:
  pid_t pid_;
};

/// Creates `p` (a file with some bytes) last written `age_seconds` ago.
void make_aged(const fs::path& p, int age_seconds) {
  pare_test::write_all(p, pare_test::bytes("left behind"));
  ::timespec times[2]{};
  ::clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= age_seconds;
  times[1] = times[0];
  REQUIRE(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

std::string temp_name(const std::string& target, long pid, const std::string& hex) {
  return target + ".tmp-" + std::to_string(pid) + "-" + hex;
}

}  // namespace

TEST_CASE("atomic_write creates and replaces files", "[io][atomic_write]") {
  const bool named = GENERATE(false, true);
  CAPTURE(named);
  const Hooks hooks(named);
  pare_test::TempDir dir;
  const auto p = dir / "out.bin";
  pare::io::atomic_write(p, pare_test::bytes("first"));
  REQUIRE(pare_test::read_all(p) == pare_test::bytes("first"));
  pare::io::atomic_write(p, [](FileSink& s) {
    s.write(std::string_view("sec"));
    s.fill(2, std::byte{'o'});
    REQUIRE(s.position() == 5);
  });
  REQUIRE(pare_test::read_all(p) == pare_test::bytes("secoo"));
  REQUIRE(dir.count() == 1);  // no temp file left behind
}

TEST_CASE("A failed save leaves the old file intact and no temp file", "[io][atomic_write]") {
  const bool named = GENERATE(false, true);
  CAPTURE(named);
  const Hooks hooks(named);
  pare_test::TempDir dir;
  const auto p = dir / "model.bin";
  pare::io::atomic_write(p, pare_test::bytes("precious"));
  const std::vector<std::byte> big(3u << 20, std::byte{7});  // larger than the sink's buffer
  REQUIRE_THROWS_WITH(pare::io::atomic_write(p,
                                             [&](FileSink& s) {
                                               s.write(big);  // reaches the temp file on disk
                                               s.write(std::string_view("partial"));
                                               throw std::runtime_error("writer failed midway");
                                             }),
                      "writer failed midway");
  REQUIRE(pare_test::read_all(p) == pare_test::bytes("precious"));
  REQUIRE(dir.count() == 1);
}

TEST_CASE("atomic_write reports an unwritable target and keeps its permissions",
          "[io][atomic_write]") {
  const bool named = GENERATE(false, true);
  CAPTURE(named);
  const Hooks hooks(named);
  pare_test::TempDir dir;
  REQUIRE_THROWS_WITH(
      pare::io::atomic_write(dir / "no" / "such" / "dir.bin", pare_test::bytes("x")),
      Catch::Contains("dir.bin"));
  const auto p = dir / "mode.bin";
  pare::io::atomic_write(p, pare_test::bytes("a"));
  REQUIRE(::chmod(p.c_str(), 0640) == 0);
  pare::io::atomic_write(p, pare_test::bytes("b"));
  struct stat st{};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0640);
  // Renaming onto a folder fails after the temp file is complete: the temp must still go.
  std::filesystem::create_directory(dir / "folder");
  pare_test::write_all(dir / "folder" / "inside", pare_test::bytes("keep"));
  REQUIRE_THROWS_AS(pare::io::atomic_write(dir / "folder", pare_test::bytes("x")), pare::Error);
  REQUIRE(dir.count() == 2);
  REQUIRE(pare_test::read_all(dir / "folder" / "inside") == pare_test::bytes("keep"));
}

TEST_CASE("The O_TMPFILE path gives the content no name until it is complete",
          "[io][atomic_write]") {
  pare_test::TempDir dir;
  if (!folder_takes_tmpfile(dir.path())) {
    WARN("the temp folder does not take O_TMPFILE; only the named path can be tested here");
    return;
  }
  const Hooks hooks(false);
  const auto p = dir / "model.bin";
  pare::io::atomic_write(p, pare_test::bytes("old"));
  const std::vector<std::byte> big(3u << 20, std::byte{9});  // past the buffer: on disk already
  std::set<std::string> during;
  pare::io::atomic_write(p, [&](FileSink& s) {
    s.write(big);
    s.flush();
    during = names_in(dir.path());
  });
  CHECK(during == std::set<std::string>{"model.bin"});
  REQUIRE(pare_test::read_all(p) == big);
  REQUIRE(names_in(dir.path()) == std::set<std::string>{"model.bin"});

  // The same callback on the named path does see its temporary, named by the pattern the sweep
  // recognizes, with this process's pid.
  const Hooks named(true);
  pare::io::atomic_write(p, [&](FileSink& s) {
    s.write(big);
    during = names_in(dir.path());
  });
  REQUIRE(during.size() == 2);
  during.erase("model.bin");
  std::int64_t pid = 0;
  REQUIRE(pare::io::detail::parse_temp_name(*during.begin(), "model.bin", pid));
  REQUIRE(pid == ::getpid());
  REQUIRE(names_in(dir.path()) == std::set<std::string>{"model.bin"});
}

TEST_CASE("Only pare's exact temporary-name pattern for the target is recognized",
          "[io][atomic_write]") {
  using pare::io::detail::parse_temp_name;
  std::int64_t pid = 0;
  REQUIRE(parse_temp_name("model.bin.tmp-4242-0123456789abcdef", "model.bin", pid));
  REQUIRE(pid == 4242);
  REQUIRE(parse_temp_name("m.tmp-2147483647-ffffffffffffffff", "m", pid));
  REQUIRE(pid == 2147483647);
  for (const char* other : {
           "model.bin",                                  // the target itself
           "model.bin.tmp-4242-0123456789abcde",         // 15 digits
           "model.bin.tmp-4242-0123456789abcdef0",       // 17 digits
           "model.bin.tmp-4242-0123456789ABCDEF",        // upper case: not written by pare
           "model.bin.tmp-4242-0123456789abcdeg",        // not hex
           "model.bin.tmp-4242-0123456789abcdef~",       // an editor's backup of one
           "model.bin.tmp--4242-0123456789abcdef",       // negative pid: a process group for kill()
           "model.bin.tmp-0-0123456789abcdef",           // pid 0: the caller's process group
           "model.bin.tmp-04242-0123456789abcdef",       // leading zero
           "model.bin.tmp-2147483648-0123456789abcdef",  // past pid_t
           "model.bin.tmp-99999999999-0123456789abcdef",
           "model.bin.tmp-4242",  // truncated
           "model.bin.tmp-",
           "model.bin.tmp-4242_0123456789abcdef",
           "model.bin.part-4242-0123456789abcdef",
           "model.bin2.tmp-4242-0123456789abcdef",  // another target
           "xmodel.bin.tmp-4242-0123456789abcdef",  // another target
           "odel.bin.tmp-4242-0123456789abcdef",
       }) {
    CAPTURE(other);
    CHECK_FALSE(parse_temp_name(other, "model.bin", pid));
  }
  CHECK_FALSE(parse_temp_name(".tmp-4242-0123456789abcdef", "", pid));  // no target name
}

TEST_CASE("A save removes dead writers' temporaries of its target and nothing else",
          "[io][atomic_write]") {
  // The named path is where the sweep matters most; the O_TMPFILE path sweeps the same way
  // (a kill between linkat and rename, or an older run, leaves a name there too).
  const bool named = GENERATE(true, false);
  CAPTURE(named);
  const Hooks hooks(named);
  pare_test::TempDir dir;
  const std::string target = "model.bin";
  const auto p = dir / target;
  pare::io::atomic_write(p, pare_test::bytes("old"));

  const pid_t dead = dead_pid();
  const LiveChild live;
  const std::string stale = temp_name(target, dead, "00000000000000aa");
  const std::string young = temp_name(target, dead, "00000000000000bb");
  const std::string of_live = temp_name(target, live.pid(), "00000000000000cc");
  const std::string unmatched = target + ".tmp-" + std::to_string(dead) + "-junk";
  const std::string other_target = temp_name("other.bin", dead, "00000000000000dd");
  const std::string link = temp_name(target, dead, "00000000000000ee");
  make_aged(dir / stale, 3600);
  make_aged(dir / young, 0);  // the writer may be alive in another pid namespace
  make_aged(dir / of_live, 3600);
  make_aged(dir / unmatched, 3600);
  make_aged(dir / other_target, 3600);
  make_aged(dir / "victim", 3600);
  REQUIRE(::symlink("victim", (dir / link).c_str()) == 0);  // only regular files go
  ::timespec old[2]{};
  ::clock_gettime(CLOCK_REALTIME, &old[0]);
  old[0].tv_sec -= 3600;
  old[1] = old[0];
  REQUIRE(::utimensat(AT_FDCWD, (dir / link).c_str(), old, AT_SYMLINK_NOFOLLOW) == 0);

  pare::io::atomic_write(p, pare_test::bytes("new"));
  REQUIRE(pare_test::read_all(p) == pare_test::bytes("new"));
  REQUIRE(names_in(dir.path()) ==
          std::set<std::string>{target, young, of_live, unmatched, other_target, "victim", link});
  REQUIRE(pare_test::read_all(dir / "victim") == pare_test::bytes("left behind"));

  // Once old enough, the young one goes too (the threshold is the only thing between them).
  const Hooks now(named, 0);
  REQUIRE(pare::io::detail::sweep_stale_temporaries(p) == 1);
  REQUIRE(names_in(dir.path()) ==
          std::set<std::string>{target, of_live, unmatched, other_target, "victim", link});
}

TEST_CASE("Temporary names differ from call to call", "[io][atomic_write]") {
  const Hooks hooks(true);
  pare_test::TempDir dir;
  const auto p = dir / "t.bin";
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    pare::io::atomic_write(p, [&](FileSink&) {
      for (auto& n : names_in(dir.path()))
        if (n != "t.bin") seen.insert(n);
    });
  }
  REQUIRE(seen.size() == 200);
}
