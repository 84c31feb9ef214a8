// SPDX-License-Identifier: Apache-2.0
// 4-bit weight-only GEMV y = W x (W packed Q4G16 / Q4G32, f32 x): hot (same W every call) and
// cold (each call streams a different copy of the packed W, cycling through > 1.1 GiB), the f32
// GEMV of the same shape as a reference line, and the single-core read-bandwidth probe.
//
//   build/h-int4/bench/pare_gemv_int4_bench --benchmark_filter=cold
//
// Names: gemv/<q4g16|q4g32|q4g128|f32>/<rows>x<cols>/<hot|cold>/<impl>;
// gemm/<fmt>/<shape>/<mode>/b<N> (GemmInt4Q8, N vectors per call); membw/read/cold/<isa>. Impls:
// pare (GemvInt4Q8 on the best arch, what pare::gemv runs), avx2 (GemvInt4Q8 forced to the AVX2
// path), f32-decode (GemvInt4), tune-r<N>[pf<K>k] (GemvInt4Q8Tuned: rows per block, software
// prefetch K KiB ahead in the code stream). Bytes (SetBytesProcessed, GB/s) count the packed codes
// and scales read per call.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "../common/main.hpp"
#include "../common/membw.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/gemv.hpp"
#include "pare/kernels/gemv_int4.hpp"
#include "pare/quant/int4_block.hpp"
#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

namespace {

using pare::bench::cold_bytes;
using pare::bench::fill_normal;

template <class Format>
pare::Int4Matrix<Format> make_matrix(std::size_t rows, std::size_t cols) {
  pare::Tensor<float, 2> w({rows, cols});
  fill_normal(w.data(), rows * cols, 1);
  // No scale search keeps setup fast; the kernel's speed does not depend on the codes.
  return pare::pack_int4_blocks<Format>(w.view(), pare::Int4PackOptions{.search_radius = 0});
}

template <class Format, class Kernel, class Arch = xsimd::default_arch>
void bm_int4(benchmark::State& state, std::size_t rows, std::size_t cols, bool cold) {
  const pare::Int4Matrix<Format> w = make_matrix<Format>(rows, cols);
  const std::size_t copies =
      cold ? std::max<std::size_t>(2, (cold_bytes + w.size_bytes() - 1) / w.size_bytes()) : 1;
  std::vector<pare::Int4Matrix<Format>> pool;
  pool.reserve(copies);
  for (std::size_t k = 0; k < copies; ++k) pool.push_back(w);
  pare::Tensor<float, 1> x({cols}), y({rows});
  fill_normal(x.data(), cols, 2);
  std::size_t k = 0;
  for (auto _ : state) {
    Kernel{}(Arch{}, pool[k], x.data(), y.data());
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
  if (cold) state.counters["copies"] = static_cast<double>(copies);
}

// What pare::gemv runs (kernels::gemv_int4_q8: run-time dispatch, rows over threads), the tier
// capped with simd::TierLimit; `vnni` false runs the tier without its VNNI (AVX2 as on Zen 3).
template <class Format>
void bm_dispatch(benchmark::State& state, std::size_t rows, std::size_t cols, bool cold,
                 pare::simd::Tier tier, bool vnni, std::size_t threads) {
  const pare::simd::TierLimit limit(tier);
  const pare::ParallelismScope scope({.threads = threads});
  if (pare::simd::active_tier() != tier) {
    state.SkipWithError("tier not available on this CPU");
    return;
  }
  const pare::Int4Matrix<Format> w = make_matrix<Format>(rows, cols);
  const std::size_t copies =
      cold ? std::max<std::size_t>(2, (cold_bytes + w.size_bytes() - 1) / w.size_bytes()) : 1;
  std::vector<pare::Int4Matrix<Format>> pool;
  pool.reserve(copies);
  for (std::size_t k = 0; k < copies; ++k) pool.push_back(w);
  pare::Tensor<float, 1> x({cols}), y({rows});
  fill_normal(x.data(), cols, 2);
  std::size_t k = 0;
  for (auto _ : state) {
    pare::kernels::gemv_int4_q8(pool[k], x.data(), y.data(), vnni);
    if (++k == copies) k = 0;
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const auto bytes = static_cast<double>(w.size_bytes());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
  state.counters["GB/s"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(pare::simd::tier_name(tier));
}

// Small-batch GEMM: `Batch` activation vectors per call; bytes count W once per call (the kernel
// streams W once per 8 vectors), items = weights x vectors (multiply-adds).
template <class Format, std::size_t Batch>
void bm_gemm(benchmark::State& state, std::size_t rows, std::size_t cols, bool cold) {
  const pare::Int4Matrix<Format> w = make_matrix<Format>(rows, cols);
  const std::size_t copies =
      cold ? std::max<std::size_t>(2, (cold_bytes + w.size_bytes() - 1) / w.size_bytes()) : 1;
  std::vector<pare::Int4Matrix<Format>> pool;
  pool.reserve(copies);
  for (std::size_t k = 0; k < copies; ++k) pool.push_back(w);
  pare::Tensor<float, 2> x({Batch, cols}), y({Batch, rows});
  fill_normal(x.data(), Batch * cols, 2);
  std::size_t k = 0;
  for (auto _ : state) {
    pare::kernels::GemmInt4Q8{}(xsimd::default_arch{}, pool[k], x.data(), Batch, cols, y.data(),
                                rows);
    if (++k == copies) k = 0;
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const auto bytes = static_cast<double>(w.size_bytes());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows * cols * Batch));
  state.counters["GB/s"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["us/vector"] =
      benchmark::Counter(static_cast<double>(Batch), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}

void bm_f32(benchmark::State& state, std::size_t rows, std::size_t cols, bool cold) {
  const std::size_t n = rows * cols;
  const std::size_t copies =
      cold ? std::max<std::size_t>(2, (cold_bytes + n * 4 - 1) / (n * 4)) : 1;
  const std::size_t stride = (n + 1023) / 1024 * 1024;
  pare::bench::Buffer buf = pare::bench::allocate(stride * copies);
  fill_normal(buf.get(), n, 1);
  for (std::size_t k = 1; k < copies; ++k)
    std::memcpy(buf.get() + k * stride, buf.get(), n * sizeof(float));
  pare::Tensor<float, 1> x({cols}), y({rows});
  fill_normal(x.data(), cols, 2);
  std::size_t k = 0;
  for (auto _ : state) {
    pare::kernels::Gemv{}(xsimd::default_arch{}, buf.get() + k * stride, rows, cols, cols, x.data(),
                          y.data());
    if (++k == copies) k = 0;
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const auto bytes = static_cast<double>(n * sizeof(float));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
  state.counters["GB/s"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void register_all() {
  using namespace pare::kernels;
  const std::size_t shapes[][2] = {{1024, 1024}, {4096, 4096}, {4096, 11008}, {11008, 4096}};
  for (bool cold : {false, true}) {
    for (const auto& s : shapes) {
      const std::string shape =
          std::to_string(s[0]) + "x" + std::to_string(s[1]) + (cold ? "/cold/" : "/hot/");
      const std::size_t r = s[0], c = s[1];
      const auto add = [&](const std::string& name, auto fn) {
        benchmark::RegisterBenchmark(name.c_str(), [fn, r, c, cold](benchmark::State& st) {
          fn(st, r, c, cold);
        })->Unit(benchmark::kMicrosecond);
      };
      using Avx2 = xsimd::fma3<xsimd::avx2>;
      add("gemv/q4g16/" + shape + "pare", bm_int4<pare::Q4G16, GemvInt4Q8>);
      add("gemv/q4g32/" + shape + "pare", bm_int4<pare::Q4G32, GemvInt4Q8>);
      add("gemv/q4g128/" + shape + "pare", bm_int4<pare::Q4G128, GemvInt4Q8>);
      add("gemv/q4g16/" + shape + "f32-decode", bm_int4<pare::Q4G16, GemvInt4>);
      add("gemv/q4g128/" + shape + "f32-decode", bm_int4<pare::Q4G128, GemvInt4>);
      if (Avx2::supported()) {
        add("gemv/q4g16/" + shape + "avx2", bm_int4<pare::Q4G16, GemvInt4Q8, Avx2>);
        add("gemv/q4g128/" + shape + "avx2", bm_int4<pare::Q4G128, GemvInt4Q8, Avx2>);
      }
      add("gemv/q4g16/" + shape + "tune-r4", bm_int4<pare::Q4G16, GemvInt4Q8Tuned<4>>);
      add("gemv/q4g16/" + shape + "tune-r8", bm_int4<pare::Q4G16, GemvInt4Q8Tuned<8>>);
      add("gemv/q4g16/" + shape + "tune-r8pf1k", bm_int4<pare::Q4G16, GemvInt4Q8Tuned<8, 1024>>);
      add("gemv/q4g16/" + shape + "tune-r8pf2k", bm_int4<pare::Q4G16, GemvInt4Q8Tuned<8, 2048>>);
      add("gemv/q4g16/" + shape + "tune-r8pf4k", bm_int4<pare::Q4G16, GemvInt4Q8Tuned<8, 4096>>);
      add("gemv/q4g128/" + shape + "tune-r8pf2k", bm_int4<pare::Q4G128, GemvInt4Q8Tuned<8, 2048>>);
      add("gemm/q4g16/" + shape + "b2", bm_gemm<pare::Q4G16, 2>);
      add("gemm/q4g16/" + shape + "b4", bm_gemm<pare::Q4G16, 4>);
      add("gemm/q4g16/" + shape + "b1", bm_gemm<pare::Q4G16, 1>);
      add("gemm/q4g16/" + shape + "b8", bm_gemm<pare::Q4G16, 8>);
      add("gemm/q4g128/" + shape + "b8", bm_gemm<pare::Q4G128, 8>);
      add("gemv/f32/" + shape + "pare", bm_f32);
      using pare::simd::Tier;
      const struct {
        const char* name;
        Tier tier;
        bool vnni;
      } tiers[] = {{"avx512", Tier::avx512, true},
                   {"avx2", Tier::avx2, true},
                   {"avx2-novnni", Tier::avx2, false}};
      for (const auto& t : tiers)
        for (std::size_t th : {1, 2}) {
          const std::string suffix = std::string("disp/") + t.name + "/t" + std::to_string(th);
          const Tier tier = t.tier;
          const bool vnni = t.vnni;
          add("gemv/q4g16/" + shape + suffix,
              [tier, vnni, th](benchmark::State& st, std::size_t rr, std::size_t cc, bool cl) {
                bm_dispatch<pare::Q4G16>(st, rr, cc, cl, tier, vnni, th);
              });
          add("gemv/q4g32/" + shape + suffix,
              [tier, vnni, th](benchmark::State& st, std::size_t rr, std::size_t cc, bool cl) {
                bm_dispatch<pare::Q4G32>(st, rr, cc, cl, tier, vnni, th);
              });
        }
    }
  }
  pare::bench::register_read_bandwidth();
}

}  // namespace

int main(int argc, char** argv) {
  pare::bench::add_context(
      "pare_gemv_int4_kernel",
      "GemvInt4Q8Tuned<8 rows, prefetch 1 KiB ahead>: x to int8 per group, vpermb (VBMI) "
      "codebook decode, vpdpbusd, scales per group in f32");
  return pare::bench::run(argc, argv, register_all, "pare_gemv_int4_arch");
}
