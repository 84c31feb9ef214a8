// SPDX-License-Identifier: Apache-2.0
// CRC32C (SSE4.2 three-stream and portable slicing-by-8) and zip CRC-32, hot: the same buffer
// every iteration, so a 64 MiB buffer streams from DRAM/L3 and a 64 KiB one sits in L2.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "pare/io/checksum.hpp"

namespace {

std::vector<std::byte> random_bytes(std::size_t n) {
  std::vector<std::byte> v(n);
  std::mt19937_64 rng(1);
  for (auto& b : v) b = static_cast<std::byte>(rng());
  return v;
}

template <std::uint32_t (*Crc)(std::span<const std::byte>, std::uint32_t)>
void bm_crc(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  const auto buf = random_bytes(n);
  std::uint32_t c = 0;
  for (auto _ : st) {
    c = Crc(buf, c);
    benchmark::DoNotOptimize(c);
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * static_cast<std::int64_t>(n));
  st.SetLabel(pare::io::crc32c_is_hardware ? "sse4.2 available" : "no sse4.2");
}

std::uint32_t crc32c_fn(std::span<const std::byte> d, std::uint32_t c) {
  return pare::io::crc32c(d, c);
}
std::uint32_t crc32c_portable_fn(std::span<const std::byte> d, std::uint32_t c) {
  return pare::io::crc32c_portable(d, c);
}
std::uint32_t crc32_fn(std::span<const std::byte> d, std::uint32_t c) {
  return pare::io::crc32(d, c);
}

}  // namespace

BENCHMARK(bm_crc<crc32c_fn>)->Name("crc32c")->Arg(64 << 10)->Arg(64 << 20);
BENCHMARK(bm_crc<crc32c_portable_fn>)->Name("crc32c_portable")->Arg(64 << 10)->Arg(64 << 20);
BENCHMARK(bm_crc<crc32_fn>)->Name("crc32_zip")->Arg(64 << 10)->Arg(64 << 20);

BENCHMARK_MAIN();
