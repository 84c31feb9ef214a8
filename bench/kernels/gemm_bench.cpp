// SPDX-License-Identifier: Apache-2.0
// f32 GEMM C = A·B (square, 64³..1024³): pare vs Eigen vs OpenBLAS vs oneDNN, in GFLOP/s
// (2·M·N·K flops per call), plus pare's A·Bᵀ (gemm_nt, the Linear layout) and tuning variants of
// the blocked kernel. pare runs on 1 and on 2 threads (its pool), in the same run.
//
//   build/bench/bench/pare_gemm_bench --benchmark_filter='gemm/f32/512/'
//
// Names: gemm/f32/<n>/<impl> for peers and tuning variants (one thread), and
// gemm/f32/<n>/<pare|pare-nt>/t<threads>. Peers run single-threaded (OpenBLAS via
// openblas_set_num_threads, oneDNN via OMP_NUM_THREADS=1, which main() sets and re-executes
// itself for).
#include <benchmark/benchmark.h>

#include <unistd.h>

// Eigen's AVX-512 GEMM packet code trips GCC 12's false -Wmaybe-uninitialized (GCC bug 105593);
// the peer is measured, not linted.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <Eigen/Core>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "../common/main.hpp"
#include "../common/membw.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/gemm.hpp"
#include "pare/simd/arch.hpp"

#ifdef PARE_BENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef PARE_BENCH_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

namespace {

using pare::bench::fill_normal;

// C[n×n] = A[n×n] · B[n×n], all row-major and contiguous.
using GemmFn = std::function<void(const float* a, const float* b, float* c, std::size_t n)>;

pare::TensorView<const float, 2> square(const float* p, std::size_t n) { return {p, {n, n}}; }

void pare_gemm(const float* a, const float* b, float* c, std::size_t n) {
  pare::gemm(square(a, n), square(b, n), pare::TensorView<float, 2>(c, {n, n}));
}

// B read as the weight of a Linear layer ([N, K]); same flops, different packing.
void pare_gemm_nt(const float* a, const float* b, float* c, std::size_t n) {
  pare::gemm_nt(square(a, n), square(b, n), pare::TensorView<float, 2>(c, {n, n}));
}

template <class Kernel>
void pare_variant(const float* a, const float* b, float* c, std::size_t n) {
  using Arch = xsimd::default_arch;
  static pare::Tensor<float, 1> ws({Kernel::template workspace_size<Arch>()});
  const auto ld = static_cast<std::ptrdiff_t>(n);
  Kernel{}(Arch{}, n, n, n, 1.0f, {a, ld, 1}, {b, ld, 1}, 0.0f, c, ld, ws.data());
}

void eigen_gemm(const float* a, const float* b, float* c, std::size_t n) {
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const auto e = static_cast<Eigen::Index>(n);
  const Eigen::Map<const Mat> A(a, e, e), B(b, e, e);
  Eigen::Map<Mat> C(c, e, e);
  C.noalias() = A * B;
}

#ifdef PARE_BENCH_HAVE_OPENBLAS
void openblas_gemm(const float* a, const float* b, float* c, std::size_t n) {
  const auto e = static_cast<blasint>(n);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, e, e, e, 1.0f, a, e, b, e, 0.0f, c, e);
}
#endif

#ifdef PARE_BENCH_HAVE_DNNL
void dnnl_gemm(const float* a, const float* b, float* c, std::size_t n) {
  const auto e = static_cast<dnnl_dim_t>(n);
  dnnl_sgemm('N', 'N', e, e, e, 1.0f, a, e, b, e, 0.0f, c, e);
}
#endif

// threads 0: whatever the impl does (the peers and tuning variants: one thread).
void bm_gemm(benchmark::State& state, const GemmFn& fn, std::size_t n, std::size_t threads) {
  const pare::ParallelismScope scope({.threads = threads});
  pare::Tensor<float, 2> a({n, n}), b({n, n}), c({n, n});
  fill_normal(a.data(), n * n, 1);
  fill_normal(b.data(), n * n, 2);
  for (auto _ : state) {
    fn(a.data(), b.data(), c.data(), n);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  const double flops =
      2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void register_all() {
  struct Impl {
    std::string name;
    GemmFn fn;
    std::size_t threads = 0;
  };
  std::vector<Impl> impls;
  for (std::size_t t : {1, 2}) {
    impls.push_back({"pare/t" + std::to_string(t), pare_gemm, t});
    impls.push_back({"pare-nt/t" + std::to_string(t), pare_gemm_nt, t});
  }
  impls.push_back({"eigen", eigen_gemm});
#ifdef PARE_BENCH_HAVE_OPENBLAS
  impls.push_back({"openblas", openblas_gemm});
#endif
#ifdef PARE_BENCH_HAVE_DNNL
  impls.push_back({"onednn", dnnl_gemm});
#endif
  // Register tile (MR rows × NV batches) and cache blocking (KC, MC, NC) for re-tuning.
  using namespace pare::kernels;
  impls.push_back({"tune-6x2-k256-m96", pare_variant<GemmTuned<6, 2, 256, 96, 2048>>});
  impls.push_back({"tune-4x3-k256-m96", pare_variant<GemmTuned<4, 3, 256, 96, 2048>>});
  impls.push_back({"tune-8x2-k256-m96", pare_variant<GemmTuned<8, 2, 256, 96, 2048>>});
  impls.push_back({"tune-12x2-k256-m96", pare_variant<GemmTuned<12, 2, 256, 96, 2048>>});
  impls.push_back({"tune-6x2-k384-m192", pare_variant<GemmTuned<6, 2, 384, 192, 2048>>});
  impls.push_back({"tune-6x2-k128-m96", pare_variant<GemmTuned<6, 2, 128, 96, 2048>>});
  for (std::size_t n : {64, 128, 256, 512, 1024}) {
    for (const Impl& impl : impls) {
      const std::string name = "gemm/f32/" + std::to_string(n) + "/" + impl.name;
      auto* b = benchmark::RegisterBenchmark(
          name.c_str(),
          [fn = impl.fn, n, t = impl.threads](benchmark::State& st) { bm_gemm(st, fn, n, t); });
      b->Unit(benchmark::kMicrosecond);
      // Threaded runs are timed by the wall clock (the harness then appends "/real_time"): the
      // default CPU time is the calling thread's alone.
      if (impl.threads > 0) b->UseRealTime();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
#ifdef PARE_BENCH_HAVE_DNNL
  pare::bench::single_thread_openmp(argv);
#endif
#ifdef PARE_BENCH_HAVE_OPENBLAS
  openblas_set_num_threads(1);
  pare::bench::add_context("openblas", std::string(openblas_get_corename()) + ", 1 thread");
#endif
  pare::bench::add_context("pare_gemm_kernel", "GemmTuned<MR 6, NV 2, KC 256, MC 96, NC 2048>");
  return pare::bench::run(argc, argv, register_all, "pare_gemm_arch");
}
