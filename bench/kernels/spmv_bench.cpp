// SPDX-License-Identifier: Apache-2.0
// Sparse x dense vector (and the dense GEMVs it competes with): pare's CSR / int8 CSR / BSR /
// packed N:M kernels vs pare's dense f32 GEMV, Eigen's dense GEMV and Eigen's row-major
// SparseMatrix product, hot (same matrix every call) and cold (each call streams a different copy
// from DRAM), plus the single-core read-bandwidth probe.
//
//   build/h-e/bench/pare_spmv_bench --benchmark_filter=cold
//
// Names: <kernel>/<format>/<sparsity>/<rows>x<cols>/<hot|cold>/<impl>, e.g.
// spmv/csr-u16/s90/4096x4096/cold/pare. Sparsity "s90" = 90 % of the weights pruned, uniformly at
// random (for BSR: 90 % of the blocks; for N:M: N of every M kept). GB/s counts the bytes of the
// matrix as stored (values, indices, row pointers, scales); GFLOP/s counts 2 flops per kept weight.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <Eigen/SparseCore>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../common/main.hpp"
#include "../common/membw.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/gemv.hpp"
#include "pare/kernels/gemv_int8.hpp"
#include "pare/kernels/spmv.hpp"
#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"
#include "pare/sparse/detail/widen.hpp"

namespace {

using pare::bench::cold_bytes;
using pare::bench::fill_normal;
constexpr std::size_t R = 4096, C = 4096;

// One pool of copies of one matrix lives at a time, shared by the runs of the same entry, then
// replaced by the next entry's pool (cold entries of one format are registered together).
struct PoolSlot {
  std::string key;
  std::shared_ptr<void> copies;
  std::size_t count = 0;
};
PoolSlot& slot() {
  static PoolSlot s;
  return s;
}

// `copies` copies of make(): 1 for hot, enough to exceed cold_bytes for cold.
template <class T>
const std::vector<T>& pool(const std::string& key, bool cold, const std::function<T()>& make,
                           const std::function<std::size_t(const T&)>& bytes) {
  PoolSlot& s = slot();
  const std::string k = key + (cold ? "/cold" : "/hot");
  if (s.key != k) {
    s.copies.reset();
    auto v = std::make_shared<std::vector<T>>();
    v->push_back(make());
    const std::size_t each = std::max<std::size_t>(1, bytes(v->front()));
    const std::size_t n = cold ? std::max<std::size_t>(2, (cold_bytes + each - 1) / each) : 1;
    v->reserve(n);
    for (std::size_t i = 1; i < n; ++i) v->push_back(v->front());
    s.key = k;
    s.count = n;
    s.copies = v;
  }
  return *static_cast<const std::vector<T>*>(s.copies.get());
}

pare::Tensor<float, 2> weights(std::size_t rows, std::size_t cols) {
  pare::Tensor<float, 2> w({rows, cols});
  fill_normal(w.data(), w.size(), 1);
  return w;
}

// 1 = keep; `pruned` of the weights removed uniformly at random, or whole RxC blocks.
pare::Tensor<std::uint8_t, 2> random_mask(std::size_t rows, std::size_t cols, double pruned,
                                          std::size_t br = 1, std::size_t bc = 1) {
  pare::Tensor<std::uint8_t, 2> m({rows, cols});
  pare::Rng rng(7);
  for (std::size_t r0 = 0; r0 < rows; r0 += br)
    for (std::size_t c0 = 0; c0 < cols; c0 += bc) {
      const std::uint8_t keep = rng.uniform() >= pruned;
      for (std::size_t r = r0; r < std::min(rows, r0 + br); ++r)
        for (std::size_t c = c0; c < std::min(cols, c0 + bc); ++c) m(r, c) = keep;
    }
  return m;
}

// N of every M kept, at random positions.
pare::Tensor<std::uint8_t, 2> nm_mask(std::size_t rows, std::size_t cols, std::size_t n,
                                      std::size_t g) {
  pare::Tensor<std::uint8_t, 2> m({rows, cols});
  pare::Rng rng(8);
  std::vector<std::size_t> pos(g);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c0 = 0; c0 < cols; c0 += g) {
      for (std::size_t i = 0; i < g; ++i) pos[i] = i;
      for (std::size_t i = g; i > 1; --i) std::swap(pos[i - 1], pos[rng.below(i)]);
      for (std::size_t i = 0; i < n; ++i) m(r, c0 + pos[i]) = 1;
    }
  return m;
}

// Runs `call(copy)` on copy k, cycling through the pool; sets bytes/s and the counters.
template <class T, class Call>
void run(benchmark::State& state, const std::vector<T>& copies, double bytes, double flops,
         Call call) {
  std::size_t k = 0;
  for (auto _ : state) {
    call(copies[k]);
    if (++k == copies.size()) k = 0;
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
  state.counters["GB/s"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["MB"] = bytes * 1e-6;
  state.counters["copies"] = static_cast<double>(copies.size());
}

struct Xy {
  pare::Tensor<float, 1> x, y;
  Xy(std::size_t rows, std::size_t cols) : x({cols}), y({rows}) { fill_normal(x.data(), cols, 2); }
};

// A pare sparse format: pare::spmv (or the kernel for one Arch) on copies of
// Format::from_dense(w, mask).
template <class Format, class Arch = void>
void bm_pare_sparse(benchmark::State& state, const std::string& key, bool cold,
                    const std::function<pare::Tensor<std::uint8_t, 2>()>& mask, std::size_t rows,
                    std::size_t cols) {
  std::size_t nkept = 0;
  const auto& copies = pool<Format>(
      key, cold,
      [&] {
        const auto m = mask();
        const auto w = weights(rows, cols);
        return Format::from_dense(w.view(), m.view());
      },
      [](const Format& f) { return f.size_bytes(); });
  nkept = static_cast<std::size_t>(copies.front().density() * double(rows * cols) + 0.5);
  Xy v(rows, cols);
  run(state, copies, double(copies.front().size_bytes()), 2.0 * double(nkept),
      [&](const Format& a) {
        if constexpr (std::is_void_v<Arch>)
          pare::spmv(a, v.x.view(), v.y.view());
        else
          pare::kernels::Spmv{}(Arch{}, a, v.x.data(), v.y.data());
        benchmark::DoNotOptimize(v.y.data());
      });
  state.counters["density"] = copies.front().density();
}

using EigenCsr = Eigen::SparseMatrix<float, Eigen::RowMajor, int>;

void bm_eigen_sparse(benchmark::State& state, const std::string& key, bool cold, double pruned) {
  const auto& copies = pool<EigenCsr>(
      key, cold,
      [&] {
        const auto m = random_mask(R, C, pruned);
        const auto w = weights(R, C);
        std::vector<Eigen::Triplet<float, int>> t;
        for (std::size_t r = 0; r < R; ++r)
          for (std::size_t c = 0; c < C; ++c)
            if (m(r, c)) t.emplace_back(int(r), int(c), w(r, c));
        EigenCsr a{static_cast<Eigen::Index>(R), static_cast<Eigen::Index>(C)};
        a.setFromTriplets(t.begin(), t.end());
        a.makeCompressed();
        return a;
      },
      [](const EigenCsr& a) {
        return std::size_t(a.nonZeros()) * (sizeof(float) + sizeof(int)) + (R + 1) * sizeof(int);
      });
  const auto& a0 = copies.front();
  const double bytes =
      double(a0.nonZeros()) * (sizeof(float) + sizeof(int)) + double(R + 1) * sizeof(int);
  Xy v(R, C);
  const Eigen::Map<const Eigen::VectorXf> x(v.x.data(), Eigen::Index(C));
  Eigen::Map<Eigen::VectorXf> y(v.y.data(), Eigen::Index(R));
  run(state, copies, bytes, 2.0 * double(a0.nonZeros()), [&](const EigenCsr& a) {
    y.noalias() = a * x;
    benchmark::DoNotOptimize(v.y.data());
  });
  state.counters["density"] = double(a0.nonZeros()) / double(R * C);
}

// Dense f32 GEMV (pare or Eigen) on a rows x cols matrix.
struct DenseF32 {
  pare::Tensor<float, 2> w;
};

void bm_dense(benchmark::State& state, const std::string& key, bool cold, bool eigen,
              std::size_t rows, std::size_t cols) {
  const auto& copies = pool<DenseF32>(
      key, cold, [&] { return DenseF32{weights(rows, cols)}; },
      [](const DenseF32& d) { return d.w.size_bytes(); });
  Xy v(rows, cols);
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  run(state, copies, double(rows * cols * 4), 2.0 * double(rows * cols), [&](const DenseF32& d) {
    if (eigen) {
      const Eigen::Map<const Mat> W(d.w.data(), Eigen::Index(rows), Eigen::Index(cols));
      const Eigen::Map<const Eigen::VectorXf> X(v.x.data(), Eigen::Index(cols));
      Eigen::Map<Eigen::VectorXf> Y(v.y.data(), Eigen::Index(rows));
      Y.noalias() = W * X;
    } else {
      pare::gemv(d.w.view(), v.x.view(), v.y.view());
    }
    benchmark::DoNotOptimize(v.y.data());
  });
}

// The int8 dense baseline with the same arithmetic as CsrInt8 (int8 weights, one scale per row,
// f32 activations): 4 batches of widened int8 per step, one row at a time.
struct DenseInt8 {
  pare::Tensor<std::int8_t, 2> q;
  pare::Tensor<float, 1> scale;
};

DenseInt8 quantize_rows(const pare::Tensor<float, 2>& w) {
  DenseInt8 d{pare::Tensor<std::int8_t, 2>(w.extents()), pare::Tensor<float, 1>({w.extent(0)})};
  for (std::size_t r = 0; r < w.extent(0); ++r) {
    float m = 0;
    for (std::size_t c = 0; c < w.extent(1); ++c) m = std::max(m, std::abs(w(r, c)));
    d.scale(r) = m / 127;
    for (std::size_t c = 0; c < w.extent(1); ++c)
      d.q(r, c) = static_cast<std::int8_t>(std::nearbyint(w(r, c) * (m > 0 ? 127 / m : 0)));
  }
  return d;
}

void int8_gemv(const DenseInt8& d, const float* x, float* y) {
  using A = xsimd::default_arch;
  using B = xsimd::batch<float, A>;
  constexpr std::size_t w = B::size;
  const std::size_t rows = d.q.extent(0), cols = d.q.extent(1);
  for (std::size_t r = 0; r < rows; ++r) {
    const std::int8_t* q = d.q.data() + r * cols;
    B a0(0.0f), a1(0.0f), a2(0.0f), a3(0.0f);
    std::size_t c = 0;
    for (; c + 4 * w <= cols; c += 4 * w) {
      a0 = xsimd::fma(pare::detail::load_int8_as_float<A>(q + c), B::load_unaligned(x + c), a0);
      a1 = xsimd::fma(pare::detail::load_int8_as_float<A>(q + c + w), B::load_unaligned(x + c + w),
                      a1);
      a2 = xsimd::fma(pare::detail::load_int8_as_float<A>(q + c + 2 * w),
                      B::load_unaligned(x + c + 2 * w), a2);
      a3 = xsimd::fma(pare::detail::load_int8_as_float<A>(q + c + 3 * w),
                      B::load_unaligned(x + c + 3 * w), a3);
    }
    float s = xsimd::hadd((a0 + a1) + (a2 + a3));
    for (; c < cols; ++c) s += float(q[c]) * x[c];
    y[r] = s * d.scale(r);
  }
}

void bm_dense_int8(benchmark::State& state, const std::string& key, bool cold) {
  const auto& copies = pool<DenseInt8>(
      key, cold, [&] { return quantize_rows(weights(R, C)); },
      [](const DenseInt8& d) { return d.q.size_bytes() + d.scale.size_bytes(); });
  Xy v(R, C);
  run(state, copies, double(R * C + R * 4), 2.0 * double(R * C), [&](const DenseInt8& d) {
    int8_gemv(d, v.x.data(), v.y.data());
    benchmark::DoNotOptimize(v.y.data());
  });
}

// Helper B's VNNI int8 GEMV (u8 activations x s8 weights -> s32): a different contract (the
// activations are quantized too), listed as the fastest int8 dense kernel pare has.
void bm_dense_vnni(benchmark::State& state, const std::string& key, bool cold) {
  const auto& copies = pool<pare::PackedInt8Weights>(
      key, cold,
      [&] {
        const auto d = quantize_rows(weights(R, C));
        return pare::PackedInt8Weights(d.q.data(), R, C, C, d.scale.data());
      },
      [](const pare::PackedInt8Weights&) { return R * C; });
  std::vector<std::uint8_t> a(C, 3);
  std::vector<std::int32_t> out(R);
  run(state, copies, double(R * C), 2.0 * double(R * C), [&](const pare::PackedInt8Weights& b) {
    pare::gemv_u8s8s32(a.data(), b, out.data());
    benchmark::DoNotOptimize(out.data());
  });
}

void reg(const std::string& name, std::function<void(benchmark::State&)> f) {
  benchmark::RegisterBenchmark(name.c_str(), [f = std::move(f)](benchmark::State& st) {
    f(st);
  })->Unit(benchmark::kMicrosecond);
}

// A benchmark run with the tier capped (simd::TierLimit) and `threads` threads, timed by the
// wall clock (worker threads' time is not in the main thread's CPU time). Named
// <name>/<avx512|avx2>/t<threads>, the tier also in the label.
void reg_tiered(const std::string& name, std::function<void(benchmark::State&)> f) {
  using pare::simd::Tier;
  for (auto [tier_name, tier] : {std::pair{"avx512", Tier::avx512}, std::pair{"avx2", Tier::avx2}})
    for (std::size_t threads : {1, 2}) {
      const Tier t = tier;
      benchmark::RegisterBenchmark(
          (name + "/" + tier_name + "/t" + std::to_string(threads)).c_str(),
          [f, t, threads](benchmark::State& st) {
            const pare::simd::TierLimit limit(t);
            const pare::ParallelismScope scope({.threads = threads});
            if (pare::simd::active_tier() != t) {
              st.SkipWithError("tier not available on this CPU");
              return;
            }
            f(st);
            st.SetLabel(pare::simd::tier_name(t));
          })
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
    }
}

std::string shape(std::size_t r, std::size_t c) {
  return std::to_string(r) + "x" + std::to_string(c);
}

void register_all() {
  const std::string sq = shape(R, C);
  for (bool cold : {false, true}) {
    const std::string hc = cold ? "/cold/" : "/hot/";
    // Dense f32 baselines, and the 50 % structured (channel) pruned layer: half the rows.
    reg("gemv/f32/dense/" + sq + hc + "pare",
        [=](auto& st) { bm_dense(st, "dense" + sq, cold, false, R, C); });
    reg("gemv/f32/dense/" + sq + hc + "eigen",
        [=](auto& st) { bm_dense(st, "dense" + sq, cold, true, R, C); });
    reg("gemv/f32/channel50/" + shape(R / 2, C) + hc + "pare",
        [=](auto& st) { bm_dense(st, "dense-half", cold, false, R / 2, C); });
    // The targets on every tier and thread count (the dense line's tier only if gemv dispatches).
    reg_tiered("gemv/f32/dense/" + sq + hc + "pare",
               [=](auto& st) { bm_dense(st, "dense" + sq, cold, false, R, C); });
    reg_tiered("spmv/csr-u16/s90/" + sq + hc + "pare", [=](auto& st) {
      bm_pare_sparse<pare::Csr<std::uint16_t>>(
          st, "csr16/s90/" + sq + hc, cold, [] { return random_mask(R, C, 0.9); }, R, C);
    });
    reg_tiered("spmv/nm2:4/s50/" + sq + hc + "pare", [=](auto& st) {
      bm_pare_sparse<pare::PackedNM<2, 4>>(
          st, "nm24", cold, [] { return nm_mask(R, C, 2, 4); }, R, C);
    });
    // Unstructured CSR vs Eigen's SparseMatrix (RowMajor, int indices).
    for (int s : {50, 90, 95}) {
      const double p = s / 100.0;
      const std::string sp = "/s" + std::to_string(s) + "/" + sq + hc;
      const auto mask = [p] { return random_mask(R, C, p); };
      reg("spmv/csr-u16" + sp + "pare", [=](auto& st) {
        bm_pare_sparse<pare::Csr<std::uint16_t>>(st, "csr16" + sp, cold, mask, R, C);
      });
      reg("spmv/csr-u32" + sp + "pare", [=](auto& st) {
        bm_pare_sparse<pare::Csr<std::uint32_t>>(st, "csr32" + sp, cold, mask, R, C);
      });
      reg("spmv/bitmap" + sp + "pare",
          [=](auto& st) { bm_pare_sparse<pare::Bitmap>(st, "bitmap" + sp, cold, mask, R, C); });
      if (s == 90) {
        reg("spmv/csr-u16" + sp + "tune-avx2", [=](auto& st) {
          bm_pare_sparse<pare::Csr<std::uint16_t>, xsimd::fma3<xsimd::avx2>>(st, "csr16" + sp, cold,
                                                                             mask, R, C);
        });
        reg("spmv/csr-u16" + sp + "tune-sse2", [=](auto& st) {
          bm_pare_sparse<pare::Csr<std::uint16_t>, xsimd::sse2>(st, "csr16" + sp, cold, mask, R, C);
        });
      }
      reg("spmv/eigen-csr" + sp + "eigen",
          [=](auto& st) { bm_eigen_sparse(st, "eigen" + sp, cold, p); });
    }
    // Packed N:M.
    reg("spmv/nm2:4/s50/" + sq + hc + "pare", [=](auto& st) {
      bm_pare_sparse<pare::PackedNM<2, 4>>(
          st, "nm24", cold, [] { return nm_mask(R, C, 2, 4); }, R, C);
    });
    reg("spmv/nm4:8/s50/" + sq + hc + "pare", [=](auto& st) {
      bm_pare_sparse<pare::PackedNM<4, 8>>(
          st, "nm48", cold, [] { return nm_mask(R, C, 4, 8); }, R, C);
    });
    reg("spmv/nm1:4/s75/" + sq + hc + "pare", [=](auto& st) {
      bm_pare_sparse<pare::PackedNM<1, 4>>(
          st, "nm14", cold, [] { return nm_mask(R, C, 1, 4); }, R, C);
    });
    reg("spmv/nm2:8/s75/" + sq + hc + "pare", [=](auto& st) {
      bm_pare_sparse<pare::PackedNM<2, 8>>(
          st, "nm28", cold, [] { return nm_mask(R, C, 2, 8); }, R, C);
    });
    // Block sparse, 90 % of the blocks pruned, blocks the shape of the format's blocks.
    reg("spmv/bsr1x16/s90/" + sq + hc + "pare", [=](auto& st) {
      bm_pare_sparse<pare::Bsr<1, 16>>(
          st, "bsr1x16", cold, [] { return random_mask(R, C, 0.9, 1, 16); }, R, C);
    });
    reg("spmv/bsr4x16/s90/" + sq + hc + "pare", [=](auto& st) {
      bm_pare_sparse<pare::Bsr<4, 16>>(
          st, "bsr4x16", cold, [] { return random_mask(R, C, 0.9, 4, 16); }, R, C);
    });
    reg("spmv/bsr16x1/s90/" + sq + hc + "pare", [=](auto& st) {
      bm_pare_sparse<pare::Bsr<16, 1>>(
          st, "bsr16x1", cold, [] { return random_mask(R, C, 0.9, 16, 1); }, R, C);
    });
    // int8: dense baselines and int8-valued CSR.
    reg("gemv/int8w/dense/" + sq + hc + "pare-bench",
        [=](auto& st) { bm_dense_int8(st, "int8dense", cold); });
    reg("gemv/u8s8/dense/" + sq + hc + "pare-vnni",
        [=](auto& st) { bm_dense_vnni(st, "vnni", cold); });
    reg("spmv/nm1:4-int8/s75/" + sq + hc + "pare", [=](auto& st) {
      bm_pare_sparse<pare::PackedNM<1, 4, std::int8_t>>(
          st, "nm14i8", cold, [] { return nm_mask(R, C, 1, 4); }, R, C);
    });
    reg("spmv/nm2:8-int8/s75/" + sq + hc + "pare", [=](auto& st) {
      bm_pare_sparse<pare::PackedNM<2, 8, std::int8_t>>(
          st, "nm28i8", cold, [] { return nm_mask(R, C, 2, 8); }, R, C);
    });
    reg("spmv/nm1:8-int8/s88/" + sq + hc + "pare", [=](auto& st) {
      bm_pare_sparse<pare::PackedNM<1, 8, std::int8_t>>(
          st, "nm18i8", cold, [] { return nm_mask(R, C, 1, 8); }, R, C);
    });
    for (int s : {50, 75, 90}) {
      const double p = s / 100.0;
      const std::string sp = "/s" + std::to_string(s) + "/" + sq + hc;
      reg("spmv/csr-u16-int8" + sp + "pare", [=](auto& st) {
        bm_pare_sparse<pare::CsrInt8<std::uint16_t>>(
            st, "csr16i8" + sp, cold, [p] { return random_mask(R, C, p); }, R, C);
      });
    }
  }
  pare::bench::register_read_bandwidth();
}

}  // namespace

int main(int argc, char** argv) {
  const int status = pare::bench::run(argc, argv, register_all);
  slot().copies.reset();
  return status;
}
