// SPDX-License-Identifier: Apache-2.0
// The program tests/io/kill_loop.sh kills: it saves a .pare file of one uint32 tensor whose
// values follow from a seed stored in the metadata, so `verify` checks the content itself, not
// only the checksums.
//
//   kill_loop_saver save   <path> <MiB> <seed> [options]   one complete save
//   kill_loop_saver loop   <path> <MiB> [options]          saves until killed; "saved <seed>" each
//   kill_loop_saver verify <path>                          open with checksums, check the values
//   kill_loop_saver probe  <folder>                        exit 0 if the folder takes O_TMPFILE
//
// options: --named (take the named-temporary path, as without O_TMPFILE), --stale-after <s>
// (age after which a dead writer's temporary is removed).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "pare/io/atomic_write.hpp"
#include "pare/io/pare_file.hpp"

namespace {

// An arbitrary mix of position and seed: a file spliced from two saves, or with a stale block,
// fails the comparison even where its checksums would happen to pass.
std::uint32_t value(std::uint64_t seed, std::uint64_t i) {
  std::uint64_t x = (i + 1) * 0x9E3779B97F4A7C15u ^ seed * 0xBF58476D1CE4E5B9u;
  x ^= x >> 31;
  return static_cast<std::uint32_t>(x ^ (x >> 32));
}

void save(const std::string& path, std::uint64_t mib, std::uint64_t seed) {
  const std::uint64_t n = mib * (std::uint64_t{1} << 18);  // uint32 values per MiB
  pare::io::PareWriter w;
  w.set_metadata("seed", std::to_string(seed));
  w.add_generated("data", pare::DType::u32, {n}, [n, seed](const pare::io::PareWriter::Emit& emit) {
    std::vector<std::uint32_t> chunk(std::size_t{1} << 18);
    for (std::uint64_t at = 0; at < n; at += chunk.size()) {
      const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), n - at));
      for (std::size_t j = 0; j < k; ++j) chunk[j] = value(seed, at + j);
      emit(std::as_bytes(std::span<const std::uint32_t>(chunk.data(), k)));
    }
  });
  w.save(path);
}

int verify(const std::string& path) {
  const auto f = pare::io::PareFile::open(path, {.verify_checksums = true});
  const std::uint64_t seed = std::stoull(f.metadata().at("seed"));
  const auto v = f.view<std::uint32_t, 1>("data");
  for (std::size_t i = 0; i < v.extent(0); ++i) {
    if (v(i) != value(seed, i)) {
      std::fprintf(stderr, "%s: value %zu is %u, seed %llu gives %u\n", path.c_str(), i, v(i),
                   static_cast<unsigned long long>(seed), value(seed, i));
      return 1;
    }
  }
  std::printf("ok seed %llu, %zu values\n", static_cast<unsigned long long>(seed), v.extent(0));
  return 0;
}

int probe(const std::string& folder) {
#ifdef O_TMPFILE
  const int fd = ::open(folder.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return 0;
  }
#endif
  std::printf("%s does not take O_TMPFILE\n", folder.c_str());
  return 1;
}

int usage() {
  std::fputs(
      "usage: kill_loop_saver save <path> <MiB> <seed> [--named] [--stale-after s]\n"
      "       kill_loop_saver loop <path> <MiB> [--named] [--stale-after s]\n"
      "       kill_loop_saver verify <path>\n"
      "       kill_loop_saver probe <folder>\n",
      stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    auto& hooks = pare::io::detail::atomic_write_test_hooks();
    for (std::size_t i = 0; i < args.size();) {
      if (args[i] == "--named") {
        hooks.refuse_tmpfile = true;
        args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
      } else if (args[i] == "--stale-after" && i + 1 < args.size()) {
        hooks.stale_after_seconds = std::stoi(std::string(args[i + 1]));
        args.erase(args.begin() + static_cast<std::ptrdiff_t>(i),
                   args.begin() + static_cast<std::ptrdiff_t>(i + 2));
      } else {
        ++i;
      }
    }
    if (args.size() == 2 && args[0] == "verify") return verify(std::string(args[1]));
    if (args.size() == 2 && args[0] == "probe") return probe(std::string(args[1]));
    if (args.size() == 4 && args[0] == "save") {
      save(std::string(args[1]), std::stoull(std::string(args[2])),
           std::stoull(std::string(args[3])));
      return 0;
    }
    if (args.size() == 3 && args[0] == "loop") {
      // Seeds unique across the processes of one kill loop, so a file left from an earlier
      // process is told apart from one this process wrote.
      const std::uint64_t base = static_cast<std::uint64_t>(::getpid()) << 20;
      for (std::uint64_t k = 1;; ++k) {
        save(std::string(args[1]), std::stoull(std::string(args[2])), base + k);
        std::printf("saved %llu\n", static_cast<unsigned long long>(base + k));
        std::fflush(stdout);
      }
    }
    return usage();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kill_loop_saver: %s\n", e.what());
    return 1;
  }
}
