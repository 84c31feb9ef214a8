// SPDX-License-Identifier: Apache-2.0
// int8 GEMM and GEMV: pare (every path this CPU runs) vs oneDNN's matmul and gemmlowp, on
// OMP_NUM_THREADS threads (1 unless set; pare's thread count follows it), plus the
// read-bandwidth probe for the GEMV roofline.
//
//   build/bench/bench/pare_gemm_int8_bench --benchmark_filter='gemm/'
//   build/bench/bench/pare_gemm_int8_bench --benchmark_filter='gemv/.*/cold|membw'
//   ONEDNN_MAX_CPU_ISA=AVX2 ...          oneDNN on the AVX2 tier (pare's avx2 and avx-vnni paths
//                                        are the AVX2 tier; PARE_ISA=avx2 caps the automatic one)
//
// Shapes: the square 256³ and 1024³, and Linear layers (M tokens x N outputs x K inputs) of a
// BERT-base block (128 x 3072 x 768, 128 x 768 x 3072) and a small-batch 4096² projection.
// Names: gemm/u8s8<s32|f32>/<M>x<N>x<K>/<impl>[/<path>] (GOP/s counter: 2 M N K per call);
//        gemv/u8s8s32/<N>x<K>/<hot|cold>/<impl>[/<path>] (GB/s of weights, N K bytes per call);
//        membw/read/cold/<isa>.
// Weights are prepared ahead of time for every impl (pare: pack_int8_weights; oneDNN: reorder to
// the format its primitive asks for; gemmlowp takes them as they are). oneDNN runs with
// OMP_NUM_THREADS=1 (main() sets it and re-executes itself), gemmlowp with max_num_threads 1.
#include <benchmark/benchmark.h>

#include <unistd.h>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../common/main.hpp"
#include "../common/membw.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/random.hpp"
#include "pare/kernels/gemm_int8.hpp"
#include "pare/kernels/gemv_int8.hpp"
#include "pare/simd/arch.hpp"

#ifdef PARE_BENCH_HAVE_GEMMLOWP
#include <gemmlowp/public/gemmlowp.h>
#endif
#ifdef PARE_BENCH_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace {

using pare::bench::cold_bytes;

template <class T>
std::vector<T> random_bytes(std::size_t n, std::uint64_t seed, int lo, int hi) {
  pare::Rng rng(seed);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(lo + static_cast<int>(rng.below(hi - lo + 1)));
  return v;
}

void set_gops(benchmark::State& state, double ops) {
  state.counters["GOP/s"] =
      benchmark::Counter(ops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void set_gbs(benchmark::State& state, double bytes) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
  state.counters["GB/s"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// ---------------------------------------------------------------------------- pare
struct Shape {
  std::size_t m, n, k;
  [[nodiscard]] std::string name() const {
    return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
  }
  [[nodiscard]] double ops() const { return 2.0 * static_cast<double>(m * n * k); }
};

void bm_pare_gemm(benchmark::State& state, Shape s, pare::Int8Path path, bool f32) {
  const auto a = random_bytes<std::uint8_t>(s.m * s.k, 1, 0, 255);
  const auto b = random_bytes<std::int8_t>(s.n * s.k, 2, -127, 127);
  std::vector<float> scales(s.n, 0.01f), bias(s.n, 0.5f), a_scales(s.m, 0.02f);
  std::vector<std::int32_t> a_zeros(s.m, 128);
  const pare::PackedInt8Weights p(b.data(), s.n, s.k, s.k, scales.data());
  std::vector<std::int32_t> c(s.m * s.n);
  std::vector<float> y(s.m * s.n);
  for (auto _ : state) {
    if (f32)
      pare::gemm_u8s8_f32(a.data(), s.m, s.k, a_scales.data(), a_zeros.data(), p, bias.data(),
                          y.data(), s.n, path);
    else
      pare::gemm_u8s8s32(a.data(), s.m, s.k, p, c.data(), s.n, path);
    benchmark::DoNotOptimize(c.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_gops(state, s.ops());
  state.SetLabel(std::to_string(pare::num_threads()) + " thread(s)");
}

// Weight copies for cold runs: enough that cycling through them evicts every cache.
std::size_t copies_for(std::size_t bytes, bool cold) {
  return cold ? std::max<std::size_t>(2, (cold_bytes + bytes - 1) / bytes) : 1;
}

void bm_pare_gemv(benchmark::State& state, std::size_t n, std::size_t k, bool cold,
                  pare::Int8Path path) {
  const auto a = random_bytes<std::uint8_t>(k, 1, 0, 255);
  const auto b = random_bytes<std::int8_t>(n * k, 2, -127, 127);
  const std::size_t copies = copies_for(n * k, cold);
  std::vector<pare::PackedInt8Weights> pool;
  pool.reserve(copies);
  pool.emplace_back(b.data(), n, k, k);
  for (std::size_t i = 1; i < copies; ++i) pool.push_back(pool.front());
  std::vector<std::int32_t> c(n);
  std::size_t i = 0;
  for (auto _ : state) {
    pare::gemv_u8s8s32(a.data(), pool[i], c.data(), path);
    if (++i == copies) i = 0;
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_gbs(state, static_cast<double>(n * k));
  if (cold) state.counters["copies"] = static_cast<double>(copies);
}

// ---------------------------------------------------------------------------- oneDNN
#ifdef PARE_BENCH_HAVE_DNNL
struct DnnlMatmul {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  dnnl::matmul prim;
  dnnl::matmul::primitive_desc pd;
  std::vector<dnnl::memory> weights;  // reordered copies

  DnnlMatmul(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* b_nk,
             std::size_t copies) {
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    const auto M = static_cast<dnnl::memory::dim>(m), N = static_cast<dnnl::memory::dim>(n),
               K = static_cast<dnnl::memory::dim>(k);
    const dnnl::memory::desc a_md({M, K}, dt::u8, tag::ab), b_any({K, N}, dt::s8, tag::any),
        c_md({M, N}, dt::s32, tag::ab);
    pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md, b_any, c_md), eng);
    prim = dnnl::matmul(pd);
    // B [N, K] row-major is B^T [K, N] with strides (1, K): tag ba.
    dnnl::memory src({{K, N}, dt::s8, tag::ba}, eng, const_cast<std::int8_t*>(b_nk));
    for (std::size_t i = 0; i < copies; ++i) {
      weights.emplace_back(pd.weights_desc(), eng);
      dnnl::reorder(src, weights.back()).execute(strm, src, weights.back());
    }
    strm.wait();
  }
  void run(const std::uint8_t* a, std::size_t i, std::int32_t* c) {
    dnnl::memory am(pd.src_desc(), eng, const_cast<std::uint8_t*>(a));
    dnnl::memory cm(pd.dst_desc(), eng, c);
    prim.execute(strm, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, weights[i]}, {DNNL_ARG_DST, cm}});
    strm.wait();
  }
};

void bm_dnnl_gemm(benchmark::State& state, Shape s) {
  const auto a = random_bytes<std::uint8_t>(s.m * s.k, 1, 0, 255);
  const auto b = random_bytes<std::int8_t>(s.n * s.k, 2, -127, 127);
  DnnlMatmul mm(s.m, s.n, s.k, b.data(), 1);
  std::vector<std::int32_t> c(s.m * s.n);
  for (auto _ : state) {
    mm.run(a.data(), 0, c.data());
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_gops(state, s.ops());
  state.SetLabel(mm.pd.impl_info_str());
}

void bm_dnnl_gemv(benchmark::State& state, std::size_t n, std::size_t k, bool cold) {
  const auto a = random_bytes<std::uint8_t>(k, 1, 0, 255);
  const auto b = random_bytes<std::int8_t>(n * k, 2, -127, 127);
  const std::size_t copies = copies_for(n * k, cold);
  DnnlMatmul mm(1, n, k, b.data(), copies);
  std::vector<std::int32_t> c(n);
  std::size_t i = 0;
  for (auto _ : state) {
    mm.run(a.data(), i, c.data());
    if (++i == copies) i = 0;
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_gbs(state, static_cast<double>(n * k));
  state.SetLabel(mm.pd.impl_info_str());
}
#endif

// ---------------------------------------------------------------------------- gemmlowp
#ifdef PARE_BENCH_HAVE_GEMMLOWP
// gemmlowp multiplies u8 by u8 with offsets: the s8 weights are stored as u8 = w + 128 with
// rhs_offset -128, the activations with offset 0, so the s32 result equals the u8 x s8 product.
void bm_gemmlowp_gemm(benchmark::State& state, std::size_t s) {
  const auto a = random_bytes<std::uint8_t>(s * s, 1, 0, 255);
  const auto b = random_bytes<std::uint8_t>(s * s, 2, 1, 255);
  gemmlowp::GemmContext ctx;
  ctx.set_max_num_threads(1);
  const int n = static_cast<int>(s);
  std::vector<std::int32_t> c(s * s);
  const gemmlowp::MatrixMap<const std::uint8_t, gemmlowp::MapOrder::RowMajor> lhs(a.data(), n, n);
  const gemmlowp::MatrixMap<const std::uint8_t, gemmlowp::MapOrder::ColMajor> rhs(b.data(), n, n);
  gemmlowp::MatrixMap<std::int32_t, gemmlowp::MapOrder::RowMajor> res(c.data(), n, n);
  const std::tuple<> pipeline;
  for (auto _ : state) {
    gemmlowp::GemmWithOutputPipeline<std::uint8_t, std::int32_t,
                                     gemmlowp::DefaultL8R8BitDepthParams>(&ctx, lhs, rhs, &res, 0,
                                                                          -128, pipeline);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_gops(state, 2.0 * static_cast<double>(s * s * s));
}
#endif

void register_all() {
  const std::vector<pare::Int8Path> paths = pare::available_int8_paths();
  const Shape gemm_shapes[] = {
      {256, 256, 256}, {1024, 1024, 1024}, {128, 3072, 768}, {128, 768, 3072}, {16, 4096, 4096}};
  for (const Shape s : gemm_shapes) {
    const std::string shape = s.name();
    for (pare::Int8Path path : paths) {
      if (path == pare::Int8Path::scalar && s.m * s.n * s.k > (1u << 24)) continue;  // seconds
      for (bool f32 : {false, true})
        benchmark::RegisterBenchmark(("gemm/u8s8" + std::string(f32 ? "f32/" : "s32/") + shape +
                                      "/pare/" + pare::to_string(path))
                                         .c_str(),
                                     [=](benchmark::State& st) { bm_pare_gemm(st, s, path, f32); })
            ->Unit(benchmark::kMillisecond);
    }
#ifdef PARE_BENCH_HAVE_DNNL
    benchmark::RegisterBenchmark(("gemm/u8s8s32/" + shape + "/onednn").c_str(),
                                 [=](benchmark::State& st) { bm_dnnl_gemm(st, s); })
        ->Unit(benchmark::kMillisecond);
#endif
#ifdef PARE_BENCH_HAVE_GEMMLOWP
    if (s.m == s.n && s.n == s.k)
      benchmark::RegisterBenchmark(("gemm/u8s8s32/" + shape + "/gemmlowp").c_str(),
                                   [=](benchmark::State& st) { bm_gemmlowp_gemm(st, s.m); })
          ->Unit(benchmark::kMillisecond);
#endif
  }
  const std::size_t gemv_shapes[][2] = {{4096, 4096}, {4096, 11008}, {11008, 4096}};
  for (bool cold : {false, true}) {
    for (const auto& sh : gemv_shapes) {
      const std::size_t n = sh[0], k = sh[1];
      const std::string base = "gemv/u8s8s32/" + std::to_string(n) + "x" + std::to_string(k) +
                               (cold ? "/cold/" : "/hot/");
      for (pare::Int8Path path : paths) {
        if (path == pare::Int8Path::scalar) continue;
        benchmark::RegisterBenchmark(
            (base + "pare/" + pare::to_string(path)).c_str(),
            [=](benchmark::State& st) { bm_pare_gemv(st, n, k, cold, path); })
            ->Unit(benchmark::kMicrosecond);
      }
#ifdef PARE_BENCH_HAVE_DNNL
      benchmark::RegisterBenchmark((base + "onednn").c_str(), [=](benchmark::State& st) {
        bm_dnnl_gemv(st, n, k, cold);
      })->Unit(benchmark::kMicrosecond);
#endif
    }
  }
  pare::bench::register_read_bandwidth();
}

}  // namespace

int main(int argc, char** argv) {
#ifdef PARE_BENCH_HAVE_DNNL
  pare::bench::single_thread_openmp(argv);
#endif
  // pare runs on as many threads as oneDNN's OpenMP pool.
  if (const char* omp = std::getenv("OMP_NUM_THREADS"))
    pare::set_num_threads(static_cast<std::size_t>(std::max(1, std::atoi(omp))));
  pare::bench::add_context("pare_int8_best_path", pare::to_string(pare::best_int8_path()));
  return pare::bench::run(argc, argv, register_all);
}
