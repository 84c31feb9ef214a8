// SPDX-License-Identifier: Apache-2.0
// f32 GEMV y = W x: pare vs Eigen vs OpenBLAS vs oneDNN, hot (same W every call) and cold (each
// call streams a different copy of W from DRAM), plus a read-bandwidth probe for the roofline.
//
//   build/bench/bench/pare_gemv_bench --benchmark_filter=cold
//
// Names: gemv/f32/<rows>x<cols>/<hot|cold>/<impl> for peers and tuning variants (one thread),
// gemv/f32/<rows>x<cols>/<hot|cold>/pare/t<threads> for pare on 1 and 2 threads (its pool);
// membw/read/cold/<isa>.
// Peers run single-threaded (OpenBLAS via openblas_set_num_threads, oneDNN via OMP_NUM_THREADS=1,
// which main() sets and re-executes itself for, because libgomp reads it only at load time).
#include <benchmark/benchmark.h>

#include <unistd.h>
#include <Eigen/Core>
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "../common/main.hpp"
#include "../common/membw.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/gemv.hpp"
#include "pare/simd/arch.hpp"

#ifdef PARE_BENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef PARE_BENCH_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

namespace {

using pare::bench::allocate;
using pare::bench::Buffer;
using pare::bench::cold_bytes;
using pare::bench::fill_normal;

// Enough copies of one W that cycling through them evicts every cache: each call reads from DRAM.
// One pool lives at a time and is shared by every impl of the same shape, then freed.
class ColdPool {
 public:
  const float* copy(std::size_t k) const noexcept { return data_.get() + k * stride_; }
  std::size_t copies() const noexcept { return copies_; }

  static ColdPool& get(std::size_t rows, std::size_t cols) {
    ColdPool& pool = instance();
    if (pool.rows_ != rows || pool.cols_ != cols) {
      pool.data_.reset();
      pool.rows_ = rows;
      pool.cols_ = cols;
      const std::size_t floats = rows * cols;
      pool.stride_ = (floats + 1023) / 1024 * 1024;  // keep copies 4 KiB aligned
      pool.copies_ = std::max<std::size_t>(2, (cold_bytes + floats * 4 - 1) / (floats * 4));
      pool.data_ = allocate(pool.stride_ * pool.copies_);
      fill_normal(pool.data_.get(), floats, 1);
      for (std::size_t k = 1; k < pool.copies_; ++k)
        std::memcpy(pool.data_.get() + k * pool.stride_, pool.data_.get(), floats * sizeof(float));
    }
    return pool;
  }
  static void release() { instance() = ColdPool{}; }

 private:
  static ColdPool& instance() {
    static ColdPool pool;
    return pool;
  }

  Buffer data_;
  std::size_t rows_ = ~std::size_t{0}, cols_ = 0, stride_ = 0, copies_ = 0;
};

using GemvFn = std::function<void(const float* w, std::size_t rows, std::size_t cols,
                                  const float* x, float* y)>;

void pare_gemv(const float* w, std::size_t rows, std::size_t cols, const float* x, float* y) {
  pare::gemv(pare::TensorView<const float, 2>(w, {rows, cols}),
             pare::TensorView<const float, 1>(x, {cols}), pare::TensorView<float, 1>(y, {rows}));
}

template <class Kernel>
void pare_variant(const float* w, std::size_t rows, std::size_t cols, const float* x, float* y) {
  Kernel{}(xsimd::default_arch{}, w, rows, cols, cols, x, y);
}

void eigen_gemv(const float* w, std::size_t rows, std::size_t cols, const float* x, float* y) {
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const Mat> W(w, static_cast<Eigen::Index>(rows),
                                static_cast<Eigen::Index>(cols));
  const Eigen::Map<const Eigen::VectorXf> X(x, static_cast<Eigen::Index>(cols));
  Eigen::Map<Eigen::VectorXf> Y(y, static_cast<Eigen::Index>(rows));
  Y.noalias() = W * X;
}

#ifdef PARE_BENCH_HAVE_OPENBLAS
void openblas_gemv(const float* w, std::size_t rows, std::size_t cols, const float* x, float* y) {
  cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<blasint>(rows), static_cast<blasint>(cols),
              1.0f, w, static_cast<blasint>(cols), x, 1, 0.0f, y, 1);
}
#endif

#ifdef PARE_BENCH_HAVE_DNNL
void dnnl_gemv(const float* w, std::size_t rows, std::size_t cols, const float* x, float* y) {
  // Row-major C[M x 1] = A[M x K] B[K x 1].
  dnnl_sgemm('N', 'N', static_cast<dnnl_dim_t>(rows), 1, static_cast<dnnl_dim_t>(cols), 1.0f, w,
             static_cast<dnnl_dim_t>(cols), x, 1, 0.0f, y, 1);
}
#endif

// threads 0: whatever the impl does (the peers and tuning variants: one thread).
void bm_gemv(benchmark::State& state, const GemvFn& fn, std::size_t rows, std::size_t cols,
             bool cold, std::size_t threads) {
  const pare::ParallelismScope scope({.threads = threads});
  pare::Tensor<float, 1> x({cols}), y({rows});
  fill_normal(x.data(), cols, 2);
  Buffer hot;
  const ColdPool* pool = nullptr;
  if (cold) {
    pool = &ColdPool::get(rows, cols);
  } else {
    hot = allocate(rows * cols);
    fill_normal(hot.get(), rows * cols, 1);
  }
  std::size_t k = 0;
  for (auto _ : state) {
    const float* w = cold ? pool->copy(k) : hot.get();
    if (cold && ++k == pool->copies()) k = 0;
    fn(w, rows, cols, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const auto bytes = static_cast<double>(rows * cols * sizeof(float));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
  state.counters["GB/s"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  if (cold) state.counters["copies"] = static_cast<double>(pool->copies());
}

void register_all() {
  struct Impl {
    std::string name;
    GemvFn fn;
    std::size_t threads = 0;
  };
  std::vector<Impl> impls = {
      {"pare/t1", pare_gemv, 1}, {"pare/t2", pare_gemv, 2}, {"eigen", eigen_gemv}};
#ifdef PARE_BENCH_HAVE_OPENBLAS
  impls.push_back({"openblas", openblas_gemv});
#endif
#ifdef PARE_BENCH_HAVE_DNNL
  impls.push_back({"onednn", dnnl_gemv});
#endif
  // Kernel variants for re-tuning on a new CPU: rows per block, batches per row, prefetch distance.
  using namespace pare::kernels;
  const std::vector<Impl> variants = {
      {"tune-r1u4", pare_variant<GemvTuned<1, 4, 0>>},
      {"tune-r2u4", pare_variant<GemvTuned<2, 4, 0>>},
      {"tune-r4u1", pare_variant<GemvTuned<4, 1, 0>>},
      {"tune-r4u2", pare_variant<GemvTuned<4, 2, 0>>},
      {"tune-r4u4", pare_variant<GemvTuned<4, 4, 0>>},
      {"tune-r8u2", pare_variant<GemvTuned<8, 2, 0>>},
      {"tune-r8u1", pare_variant<GemvTuned<8, 1, 0>>},
      {"tune-r4u2pf512", pare_variant<GemvTuned<4, 2, 512>>},
      {"tune-r4u2pf2k", pare_variant<GemvTuned<4, 2, 2048>>},
      {"tune-r2u4pf1k", pare_variant<GemvTuned<2, 4, 1024>>},
      {"tune-r1u4pf1k", pare_variant<GemvTuned<1, 4, 1024>>},
  };
  const std::size_t shapes[][2] = {{1024, 1024}, {4096, 4096}, {4096, 11008}, {11008, 4096}};
  // Cold runs are grouped by shape so each pool is built once for all impls of that shape.
  for (bool cold : {false, true}) {
    for (const auto& s : shapes) {
      for (const std::vector<Impl>* list :
           {static_cast<const std::vector<Impl>*>(&impls), &variants}) {
        for (const Impl& impl : *list) {
          const std::string name = "gemv/f32/" + std::to_string(s[0]) + "x" + std::to_string(s[1]) +
                                   "/" + (cold ? "cold/" : "hot/") + impl.name;
          auto* b = benchmark::RegisterBenchmark(
              name.c_str(), [fn = impl.fn, r = s[0], c = s[1], cold, t = impl.threads](
                                benchmark::State& st) { bm_gemv(st, fn, r, c, cold, t); });
          b->Unit(benchmark::kMicrosecond);
          // Threaded runs are timed by the wall clock (the harness then appends "/real_time"):
          // the default CPU time is the calling thread's alone.
          if (impl.threads > 0) b->UseRealTime();
        }
      }
    }
  }
  pare::bench::register_read_bandwidth();
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
  pare::bench::add_context("pare_gemv_kernel",
                           "cols <= 4096: GemvTuned<1 row, 4 batches/row>; else GemvTuned<4 "
                           "rows, 2 batches/row>; no prefetch");
  const int status = pare::bench::run(argc, argv, register_all, "pare_gemv_arch");
  ColdPool::release();
  return status;
}
