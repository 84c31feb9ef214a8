// SPDX-License-Identifier: Apache-2.0
// Shared by the GEMV benchmarks: page-aligned buffers, a cheap normal fill, the size of a "cold"
// working set, and the single-core read-bandwidth probe that cold results are compared against.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "pare/core/random.hpp"
#include "pare/simd/arch.hpp"

namespace pare::bench {

inline constexpr std::size_t cold_bytes =
    std::size_t{11} << 30 >> 3;  // 1.375 GiB > 1.1 GiB: far beyond any L3

struct AlignedFree {
  void operator()(float* p) const noexcept { ::operator delete(p, std::align_val_t{4096}); }
};
using Buffer = std::unique_ptr<float, AlignedFree>;

inline Buffer allocate(std::size_t floats) {
  return Buffer(
      static_cast<float*>(::operator new(floats * sizeof(float), std::align_val_t{4096})));
}

// Normal values; beyond the first 64 Ki the block repeats, which keeps filling 1 GiB cheap and
// changes nothing for a memory-bound kernel.
inline void fill_normal(float* p, std::size_t n, std::uint64_t seed) {
  constexpr std::size_t block = std::size_t{1} << 16;
  pare::Rng rng(seed);
  for (std::size_t i = 0; i < std::min(n, block); ++i) p[i] = rng.normal();
  for (std::size_t i = block; i < n; i += block)
    std::memcpy(p + i, p, std::min(block, n - i) * sizeof(float));
}

// Read bandwidth of one core: sum a buffer far larger than the caches, 8 independent accumulators.
inline void bm_read_bandwidth(benchmark::State& state) {
  using B = xsimd::batch<float, xsimd::default_arch>;
  const std::size_t n = cold_bytes / sizeof(float) / (8 * B::size) * (8 * B::size);
  Buffer buf = allocate(n);
  fill_normal(buf.get(), n, 3);
  const float* p = buf.get();
  for (auto _ : state) {
    B s[8] = {B(0.0f), B(0.0f), B(0.0f), B(0.0f), B(0.0f), B(0.0f), B(0.0f), B(0.0f)};
    for (std::size_t i = 0; i < n; i += 8 * B::size)
      for (std::size_t j = 0; j < 8; ++j) s[j] += B::load_aligned(p + i + j * B::size);
    float total = xsimd::hadd(((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])));
    benchmark::DoNotOptimize(total);
  }
  const auto bytes = static_cast<double>(n * sizeof(float));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
  state.counters["GB/s"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

/// Registers the probe as membw/read/cold/<isa>.
inline void register_read_bandwidth() {
  benchmark::RegisterBenchmark(
      (std::string("membw/read/cold/") + pare::simd::default_arch_name()).c_str(),
      bm_read_bandwidth)
      ->Unit(benchmark::kMillisecond);
}

}  // namespace pare::bench
