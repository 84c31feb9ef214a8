// SPDX-License-Identifier: Apache-2.0
// 4-bit lookup-table GEMV y = W x (W a Lut4Matrix: NF4 levels, f32 group scales; f32 x): hot (same
// W every call) and cold (each call streams a different copy, cycling through > 1.1 GiB), beside
// the Q4G32 int4 block GEMV (pare::gemv's kernel) of the same shape and the read-bandwidth probe.
//
//   build/h-c/bench/pare_gemv_lut4_bench --benchmark_filter=4096x4096
//
// Names: gemv/<nf4g64|nf4g128|q4g32>/<rows>x<cols>/<hot|cold>/<impl>; bytes (GB/s) count the
// packed codes and scales read per call.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "../common/main.hpp"
#include "../common/membw.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/gemv_int4.hpp"
#include "pare/kernels/gemv_lut4.hpp"
#include "pare/quant/int4_block.hpp"
#include "pare/quant/nf4.hpp"
#include "pare/simd/arch.hpp"

namespace {

using pare::bench::cold_bytes;
using pare::bench::fill_normal;

pare::Tensor<float, 2> weights(std::size_t rows, std::size_t cols) {
  pare::Tensor<float, 2> w({rows, cols});
  fill_normal(w.data(), rows * cols, 1);
  return w;
}

template <class Matrix, class Run>
void run(benchmark::State& state, const Matrix& w, std::size_t rows, std::size_t cols, bool cold,
         Run kernel) {
  const std::size_t copies =
      cold ? std::max<std::size_t>(2, (cold_bytes + w.size_bytes() - 1) / w.size_bytes()) : 1;
  std::vector<Matrix> pool(copies, w);
  pare::Tensor<float, 1> x({cols}), y({rows});
  fill_normal(x.data(), cols, 2);
  std::size_t k = 0;
  for (auto _ : state) {
    kernel(pool[k], x.data(), y.data());
    if (++k == copies) k = 0;
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const auto bytes = static_cast<double>(w.size_bytes());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
  state.counters["GB/s"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bpw"] = w.bits_per_weight();
}

void bm_lut4(benchmark::State& state, std::size_t rows, std::size_t cols, bool cold,
             std::size_t group) {
  const auto w = pare::pack_nf4(weights(rows, cols).view(), group);
  run(state, w, rows, cols, cold, [](const pare::Lut4Matrix& m, const float* x, float* y) {
    pare::kernels::GemvLut4{}(xsimd::default_arch{}, m, x, y);
  });
}

void bm_q4g32(benchmark::State& state, std::size_t rows, std::size_t cols, bool cold) {
  const auto w = pare::pack_int4_blocks<pare::Q4G32>(weights(rows, cols).view(),
                                                     pare::Int4PackOptions{.search_radius = 0});
  run(state, w, rows, cols, cold,
      [](const pare::Int4Matrix<pare::Q4G32>& m, const float* x, float* y) {
        pare::kernels::GemvInt4Q8{}(xsimd::default_arch{}, m, x, y);
      });
}

void register_all() {
  const std::size_t shapes[][2] = {{1024, 1024}, {4096, 4096}, {4096, 11008}};
  for (bool cold : {false, true})
    for (const auto& s : shapes) {
      const std::size_t r = s[0], c = s[1];
      const std::string shape =
          std::to_string(r) + "x" + std::to_string(c) + (cold ? "/cold/" : "/hot/");
      for (std::size_t g : {64u, 128u})
        benchmark::RegisterBenchmark(
            ("gemv/nf4g" + std::to_string(g) + "/" + shape + "pare").c_str(),
            [=](benchmark::State& st) { bm_lut4(st, r, c, cold, g); })
            ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("gemv/q4g32/" + shape + "pare").c_str(),
                                   [=](benchmark::State& st) { bm_q4g32(st, r, c, cold); })
          ->Unit(benchmark::kMicrosecond);
    }
  pare::bench::register_read_bandwidth();
}

}  // namespace

int main(int argc, char** argv) {
  pare::bench::add_context("pare_gemv_lut4_kernel",
                           "GemvLut4: vpermps codebook lookup, f32 FMA, 4 rows per block");
  return pare::bench::run(argc, argv, register_all, "pare_gemv_lut4_arch");
}
