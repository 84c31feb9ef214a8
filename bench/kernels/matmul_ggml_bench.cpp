// SPDX-License-Identifier: Apache-2.0
// GGUF Q4_0 / Q8_0 weights run directly (kernels/matmul_ggml.hpp): GEMV cold (each call streams a
// different copy of W, cycling through > 1.1 GiB, as decode reads a model far larger than L3),
// GEMM for a prompt batch (n = 128 activation rows, W hot), and the single-core read-bandwidth
// probe that the cold GEMV is compared against.
//
//   build/bench/bench/pare_matmul_ggml_bench --benchmark_filter='gemv|membw'
//       --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
//
// Names: gemv/<q4_0|q8_0>/<rows>x<cols>/cold/<tier>/t<threads>,
// gemm/<q4_0|q8_0>/<rows>x<cols>/n<N>/<tier>/t<threads>, membw/read/cold/<isa>. Tiers:
// avx512 (with AVX512_VNNI where the CPU has it), avx2 (with AVX-VNNI where the CPU has it),
// avx2-novnni (vpmaddubsw, as on Zen 3). GB/s counts the GGUF bytes of W read per call; GOP/s
// counts 2 rows * cols * n operations per call.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "../common/main.hpp"
#include "../common/membw.hpp"
#include "pare/core/parallel.hpp"
#include "pare/kernels/matmul_ggml.hpp"
#include "pare/quant/ggml_blocks.hpp"
#include "pare/simd/dispatch.hpp"

namespace {

using pare::bench::cold_bytes;
using pare::bench::fill_normal;

template <class M>
M make_matrix(std::size_t rows, std::size_t cols) {
  std::vector<float> w(rows * cols);
  fill_normal(w.data(), w.size(), 1);
  return M::from_floats(w, rows, cols);
}

struct Setup {
  pare::simd::Tier tier;
  bool vnni;
  std::size_t threads;
};

template <class M>
void bm_gemv(benchmark::State& state, std::size_t rows, std::size_t cols, Setup s) {
  const pare::simd::TierLimit limit(s.tier);
  const pare::ParallelismScope scope({.threads = s.threads});
  if (pare::simd::active_tier() != s.tier) {
    state.SkipWithError("tier not available on this CPU");
    return;
  }
  const M w = make_matrix<M>(rows, cols);
  const std::size_t copies =
      std::max<std::size_t>(2, (cold_bytes + w.size_bytes() - 1) / w.size_bytes());
  std::vector<M> pool(copies, w);
  std::vector<float> x(cols), y(rows);
  fill_normal(x.data(), cols, 2);
  std::size_t k = 0;
  for (auto _ : state) {
    pare::kernels::gemv(pool[k], x.data(), y.data(), s.vnni);
    if (++k == copies) k = 0;
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const auto bytes = static_cast<double>(w.size_bytes());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
  state.counters["GB/s"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(pare::simd::tier_name(s.tier));
}

template <class M>
void bm_gemm(benchmark::State& state, std::size_t rows, std::size_t cols, std::size_t n, Setup s) {
  const pare::simd::TierLimit limit(s.tier);
  const pare::ParallelismScope scope({.threads = s.threads});
  if (pare::simd::active_tier() != s.tier) {
    state.SkipWithError("tier not available on this CPU");
    return;
  }
  const M w = make_matrix<M>(rows, cols);
  std::vector<float> x(n * cols), y(n * rows);
  fill_normal(x.data(), x.size(), 2);
  for (auto _ : state) {
    pare::kernels::gemm(w, x.data(), n, y.data(), s.vnni);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.counters["GOP/s"] = benchmark::Counter(2e-9 * static_cast<double>(rows * cols * n),
                                               benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(pare::simd::tier_name(s.tier));
}

void register_all() {
  using pare::simd::Tier;
  const struct {
    const char* name;
    Tier tier;
    bool vnni;
  } tiers[] = {{"avx512", Tier::avx512, true},
               {"avx2", Tier::avx2, true},
               {"avx2-novnni", Tier::avx2, false}};
  const std::size_t shapes[][2] = {{4096, 4096}, {11008, 4096}, {4096, 11008}};
  for (const auto& sh : shapes)
    for (const auto& t : tiers)
      for (std::size_t th : {1, 2}) {
        const std::size_t r = sh[0], c = sh[1];
        const Setup s{t.tier, t.vnni, th};
        const std::string tail = std::string("/") + t.name + "/t" + std::to_string(th);
        const std::string shape = std::to_string(r) + "x" + std::to_string(c);
        benchmark::RegisterBenchmark(
            ("gemv/q4_0/" + shape + "/cold" + tail).c_str(),
            [=](benchmark::State& st) { bm_gemv<pare::GgmlQ4_0Matrix>(st, r, c, s); })
            ->Unit(benchmark::kMicrosecond);
        benchmark::RegisterBenchmark(
            ("gemv/q8_0/" + shape + "/cold" + tail).c_str(),
            [=](benchmark::State& st) { bm_gemv<pare::GgmlQ8_0Matrix>(st, r, c, s); })
            ->Unit(benchmark::kMicrosecond);
        for (std::size_t n : {std::size_t{128}}) {
          const std::string nn = "/n" + std::to_string(n);
          benchmark::RegisterBenchmark(
              ("gemm/q4_0/" + shape + nn + tail).c_str(),
              [=](benchmark::State& st) { bm_gemm<pare::GgmlQ4_0Matrix>(st, r, c, n, s); })
              ->Unit(benchmark::kMillisecond);
          benchmark::RegisterBenchmark(
              ("gemm/q8_0/" + shape + nn + tail).c_str(),
              [=](benchmark::State& st) { bm_gemm<pare::GgmlQ8_0Matrix>(st, r, c, n, s); })
              ->Unit(benchmark::kMillisecond);
        }
      }
  pare::bench::register_read_bandwidth();
}

}  // namespace

int main(int argc, char** argv) {
  pare::bench::add_context("pare_matmul_ggml_kernel",
                           "GgmlMatmulRows: x to Q8_0, 4-block groups, vpdpbusd (VNNI) or "
                           "vpmaddubsw, 4 weight rows x 4 activation rows per tile");
  return pare::bench::run(argc, argv, register_all, "pare_matmul_ggml_arch");
}
