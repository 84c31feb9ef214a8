// SPDX-License-Identifier: Apache-2.0
// Policy → kernel: what a user's format or observer costs on pare's kernels, in one binary.
//
// 4-bit, 4096x4096 GEMV y = W x, W hot in cache (same W every call), groups of 32:
//   builtin/q8      Codebook4Log<32> (Int4Matrix) on GemvInt4Q8: what pare::gemv runs for it
//   builtin/f32     the same matrix on GemvInt4 (f32 decode, the f32-activation peer)
//   lut4/nf4        NF4 on GemvLut4
//   generic/log4    a user's LogScale4 (scalar decode, tabulated) on GemvCodes4
//   generic/cubic4  a user's Cubic4 (SIMD decode, inlined) on GemvCodes4
//   generic/log4i8-q8  a user's LogScale4i8 (int8 levels) on GemvCodes4Q8 (x rounded to int8,
//                   as builtin/q8 does)
//   generic/int4[-q8]  Quantizer<Int<4>, Symmetric, PerGroup<32>> via pack_for_kernel, on
//                   GemvCodes4 (f32) and GemvCodes4Q8 (what pare::gemv runs)
// int8, 4096x4096 GEMV (x f32, quantized per call):
//   int8/Int8Linear           pare::Int8Linear::infer (one sample)
//   int8/user-observer        QuantizedLinear<Quantizer<Int<8>, Symmetric, PerChannel,
//                             ShrinkingObserver>>::infer: the same packed layout and kernel
//
//   build/release/bench/pare_gemv_codes4_bench --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include "../../tests/user_policies.hpp"
#include "../common/main.hpp"
#include "../common/membw.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/gemv_codes4.hpp"
#include "pare/kernels/gemv_int4.hpp"
#include "pare/kernels/gemv_lut4.hpp"
#include "pare/kernels/kernel_layout.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/linear_int8.hpp"
#include "pare/nn/quantized_linear.hpp"
#include "pare/quant/int4_block.hpp"
#include "pare/quant/nf4.hpp"
#include "pare/simd/dispatch.hpp"

namespace {

using pare::bench::fill_normal;
constexpr std::size_t n = 4096;

using pare::test::LogScale4;

using pare::test::Cubic4;

using pare::test::LogScale4i8;

using pare::test::ShrinkingObserver;

const pare::Tensor<float, 2>& weights() {
  static const pare::Tensor<float, 2> w = [] {
    pare::Tensor<float, 2> t({n, n});
    fill_normal(t.data(), n * n, 1);
    return t;
  }();
  return w;
}

template <class W, class Run>
void run(benchmark::State& state, const W& w, Run f) {
  pare::Tensor<float, 1> x({n}), y({n});
  fill_normal(x.data(), n, 2);
  for (auto _ : state) {
    f(w, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const auto bytes = static_cast<double>(w.size_bytes());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
  state.counters["bpw"] = 8.0 * bytes / static_cast<double>(n * n);
}

void bm_builtin_q8(benchmark::State& state) {
  const auto w =
      pare::pack_int4_blocks<pare::Codebook4Log<32>>(weights().view(), {.search_radius = 0});
  run(state, w, [](const auto& m, const float* x, float* y) {
    pare::kernels::GemvInt4Q8{}(xsimd::default_arch{}, m, x, y);
  });
}
void bm_builtin_f32(benchmark::State& state) {
  const auto w =
      pare::pack_int4_blocks<pare::Codebook4Log<32>>(weights().view(), {.search_radius = 0});
  run(state, w, [](const auto& m, const float* x, float* y) {
    pare::kernels::GemvInt4{}(xsimd::default_arch{}, m, x, y);
  });
}
void bm_nf4(benchmark::State& state) {
  const auto w = pare::pack_nf4(weights().view(), 32);
  run(state, w, [](const auto& m, const float* x, float* y) {
    pare::kernels::GemvLut4{}(xsimd::default_arch{}, m, x, y);
  });
}
// pare::gemv's NF4 path (kernels::gemv_lut4: run-time dispatch, rows over threads) with the tier
// capped and `threads` threads; wall-clock time.
void bm_nf4_tier(benchmark::State& state, pare::simd::Tier tier, std::size_t threads) {
  const pare::simd::TierLimit limit(tier);
  const pare::ParallelismScope scope({.threads = threads});
  if (pare::simd::active_tier() != tier) {
    state.SkipWithError("tier not available on this CPU");
    return;
  }
  const auto w = pare::pack_nf4(weights().view(), 32);
  run(state, w, [](const auto& m, const float* x, float* y) { pare::kernels::gemv_lut4(m, x, y); });
  state.SetLabel(pare::simd::tier_name(tier));
}
BENCHMARK_CAPTURE(bm_nf4_tier, avx512_t1, pare::simd::Tier::avx512, 1)
    ->Name("gemv4/4096x4096/lut4/nf4/avx512/t1")
    ->UseRealTime();
BENCHMARK_CAPTURE(bm_nf4_tier, avx512_t2, pare::simd::Tier::avx512, 2)
    ->Name("gemv4/4096x4096/lut4/nf4/avx512/t2")
    ->UseRealTime();
BENCHMARK_CAPTURE(bm_nf4_tier, avx2_t1, pare::simd::Tier::avx2, 1)
    ->Name("gemv4/4096x4096/lut4/nf4/avx2/t1")
    ->UseRealTime();
BENCHMARK_CAPTURE(bm_nf4_tier, avx2_t2, pare::simd::Tier::avx2, 2)
    ->Name("gemv4/4096x4096/lut4/nf4/avx2/t2")
    ->UseRealTime();

template <class F, class Kernel = pare::kernels::GemvCodes4>
void bm_generic(benchmark::State& state) {
  const auto w = pare::pack_codes4<F>(weights().view(), 32);
  run(state, w,
      [](const auto& m, const float* x, float* y) { Kernel{}(xsimd::default_arch{}, m, x, y); });
}
template <class Kernel>
void bm_generic_int4(benchmark::State& state) {
  using Q = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>>;
  const auto w = pare::pack_for_kernel(Q{}, weights().view());
  run(state, w,
      [](const auto& m, const float* x, float* y) { Kernel{}(xsimd::default_arch{}, m, x, y); });
}

template <class Layer>
void bm_layer(benchmark::State& state, const Layer& l) {
  pare::Tensor<float, 1> x({n}), y({n});
  fill_normal(x.data(), n, 2);
  for (auto _ : state) {
    l.infer(x.view(), y.view());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(n * n));
}
pare::Linear float_layer() {
  pare::Linear fc(n, n);
  fc.weight() = weights();
  return fc;
}
void bm_int8_linear(benchmark::State& state) { bm_layer(state, pare::Int8Linear(float_layer())); }
void bm_int8_user_observer(benchmark::State& state) {
  using Q = pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel, ShrinkingObserver>;
  bm_layer(state, pare::QuantizedLinear<Q>(float_layer()));
}

}  // namespace

BENCHMARK(bm_builtin_q8)->Name("gemv4/4096x4096/builtin/q8");
BENCHMARK(bm_builtin_f32)->Name("gemv4/4096x4096/builtin/f32");
BENCHMARK(bm_nf4)->Name("gemv4/4096x4096/lut4/nf4");
BENCHMARK(bm_generic<LogScale4>)->Name("gemv4/4096x4096/generic/log4");
BENCHMARK(bm_generic<Cubic4>)->Name("gemv4/4096x4096/generic/cubic4");
BENCHMARK(bm_generic<LogScale4i8, pare::kernels::GemvCodes4Q8>)
    ->Name("gemv4/4096x4096/generic/log4i8-q8");
BENCHMARK(bm_generic_int4<pare::kernels::GemvCodes4>)->Name("gemv4/4096x4096/generic/int4");
BENCHMARK(bm_generic_int4<pare::kernels::GemvCodes4Q8>)->Name("gemv4/4096x4096/generic/int4-q8");
BENCHMARK(bm_int8_linear)->Name("gemv8/4096x4096/Int8Linear");
BENCHMARK(bm_int8_user_observer)->Name("gemv8/4096x4096/user-observer");

int main(int argc, char** argv) {
  pare::bench::add_context("pare_gemv_codes4_kernel",
                           "GemvCodes4 (f32, decode tabulated in registers on AVX-512/AVX2) and "
                           "GemvCodes4Q8 (x to int8 per group, vpshufb levels, vpdpbusd)");
  return pare::bench::run(argc, argv);
}
