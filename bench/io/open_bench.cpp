// SPDX-License-Identifier: Apache-2.0
// Opening a ~1 GiB model (200 f32 tensors of 1024 x 1280) as .pare, safetensors and GGUF and taking
// a view of every tensor; and verifying every CRC32C of the .pare file: mapped, hot and cold.
//
// The three files are written once to $TMPDIR (or /tmp) as pare_open_bench.{pare,safetensors,gguf}
// and reused by later runs. `bytes_copied` counts bytes of heap blocks of 64 KiB or more allocated
// during an iteration (this file replaces operator new), so a reader that copied tensor data
// (5 MiB each) would show it; `heap_bytes` counts every allocation (headers, JSON, names).
// Cold runs drop the file from the page cache with posix_fadvise(POSIX_FADV_DONTNEED) before each
// iteration (works because the files are clean: atomic_write fsyncs them).
// The replaced operator new/delete below pair malloc with free; GCC sees free() inlined where
// it expects operator delete and warns, although the pairing is consistent.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "pare/io/gguf.hpp"
#include "pare/io/pare_file.hpp"
#include "pare/io/safetensors.hpp"

namespace {

std::atomic<std::uint64_t> g_heap_bytes{0};
std::atomic<std::uint64_t> g_large_bytes{0};
constexpr std::size_t large_block = std::size_t{64} << 10;

void count(std::size_t n) noexcept {
  g_heap_bytes.fetch_add(n, std::memory_order_relaxed);
  if (n >= large_block) g_large_bytes.fetch_add(n, std::memory_order_relaxed);
}

}  // namespace

void* operator new(std::size_t n) {
  count(n);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  count(n);
  const std::size_t al = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return ::operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

namespace fs = std::filesystem;

constexpr std::size_t n_tensors = 200;
constexpr std::size_t rows = 1024;
constexpr std::size_t cols = 1280;

fs::path bench_dir() {
  const char* t = std::getenv("TMPDIR");
  return fs::path(t != nullptr && *t != '\0' ? t : "/tmp");
}
fs::path file_of(const char* ext) { return bench_dir() / (std::string("pare_open_bench.") + ext); }
std::string tensor_name(std::size_t i) {
  return "layers." + std::to_string(i / 4) + ".w" + std::to_string(i % 4);
}

/// Writes the three files unless they exist (one 5 MiB tensor's data, stored under 200 names).
void make_files() {
  static const bool done = [] {
    const std::uint64_t tensor_bytes = rows * cols * sizeof(float);
    if (fs::exists(file_of("pare")) && fs::exists(file_of("safetensors")) &&
        fs::exists(file_of("gguf")) &&
        fs::file_size(file_of("safetensors")) > n_tensors * tensor_bytes)
      return true;
    pare::Tensor<float, 2> w({rows, cols});
    for (std::size_t i = 0; i < w.size(); ++i)
      w.data()[i] = static_cast<float>(i % 251) * 0.01f - 1.0f;
    pare::io::PareWriter pw;
    std::vector<pare::io::SafetensorsEntry> st;
    std::vector<pare::io::GgufWriteTensor> gg;
    for (std::size_t i = 0; i < n_tensors; ++i) {
      pw.add(tensor_name(i), w);
      st.push_back(pare::io::safetensors_entry(tensor_name(i), w));
      gg.push_back(pare::io::gguf_tensor(tensor_name(i), w));
    }
    pw.set_metadata("producer", "pare open_bench");
    pw.save(file_of("pare"));
    pare::io::write_safetensors(file_of("safetensors"), st);
    pare::io::write_gguf(file_of("gguf"), pare::io::GgufMetadata{}, gg);
    return true;
  }();
  (void)done;
}

void drop_cache(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

template <class Body>
void run_counted(benchmark::State& st, Body&& body) {
  std::uint64_t heap = 0;
  std::uint64_t large = 0;
  for (auto _ : st) {
    const std::uint64_t h0 = g_heap_bytes.load();
    const std::uint64_t l0 = g_large_bytes.load();
    body();
    heap += g_heap_bytes.load() - h0;
    large += g_large_bytes.load() - l0;
  }
  const auto it = static_cast<double>(st.iterations());
  st.counters["bytes_copied"] = static_cast<double>(large) / it;
  st.counters["heap_bytes"] = static_cast<double>(heap) / it;
  st.counters["tensors"] = static_cast<double>(n_tensors);
}

void bm_open_pare(benchmark::State& st) {
  make_files();
  run_counted(st, [] {
    const auto f = pare::io::PareFile::open(file_of("pare"));
    for (const auto& n : f.names()) benchmark::DoNotOptimize(f.view<float, 2>(n).data());
  });
}

void bm_open_safetensors(benchmark::State& st) {
  make_files();
  run_counted(st, [] {
    const auto f = pare::io::SafetensorsFile::open(file_of("safetensors"));
    for (const auto& n : f.names()) benchmark::DoNotOptimize(f.view<float, 2>(n).data());
  });
}

void bm_open_gguf(benchmark::State& st) {
  make_files();
  run_counted(st, [] {
    const auto f = pare::io::GgufFile::open(file_of("gguf"));
    // GGUF has no typed view; raw() is its zero-copy access (f32 data, 32-byte aligned).
    for (const auto& t : f.tensors()) {
      const auto raw = f.raw(t.name);
      benchmark::DoNotOptimize(
          pare::TensorView<const float, 2>(reinterpret_cast<const float*>(raw.data()),
                                           {t.shape[0], t.shape[1]})
              .data());
    }
  });
}

void bm_verify_pare(benchmark::State& st) {
  make_files();
  const bool cold = st.range(0) != 0;
  const auto size = static_cast<std::int64_t>(fs::file_size(file_of("pare")));
  for (auto _ : st) {
    if (cold) {
      st.PauseTiming();
      drop_cache(file_of("pare"));
      st.ResumeTiming();
    }
    const auto f = pare::io::PareFile::open(
        file_of("pare"), {.verify_checksums = true, .hint = pare::io::AccessHint::sequential});
    benchmark::DoNotOptimize(f.names().data());
  }
  st.SetBytesProcessed(st.iterations() * size);
  st.SetLabel(cold ? "cold: page cache dropped (fadvise DONTNEED)" : "hot: file in page cache");
}

/// verify_all() on a file opened once: pages already mapped, so this is the CRC32C rate alone.
void bm_verify_mapped(benchmark::State& st) {
  make_files();
  const auto f = pare::io::PareFile::open(file_of("pare"));
  f.verify_all();
  for (auto _ : st) f.verify_all();
  st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(fs::file_size(file_of("pare"))));
  st.SetLabel(pare::io::crc32c_is_hardware ? "sse4.2 crc32" : "portable slicing-by-8");
}

}  // namespace

BENCHMARK(bm_open_pare)->Name("open_view/pare")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(bm_open_safetensors)
    ->Name("open_view/safetensors")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_open_gguf)->Name("open_view/gguf")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(bm_verify_mapped)
    ->Name("verify_all/pare/mapped")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_verify_pare)
    ->Name("open_verify/pare/hot")
    ->Arg(0)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_verify_pare)
    ->Name("open_verify/pare/cold")
    ->Arg(1)
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
