// SPDX-License-Identifier: Apache-2.0
// dot, axpy, softmax and log_softmax: pare vs Eigen, hot (data in cache or streamed from L3/DRAM
// depending on n; every call reuses the same buffers).
// GCC 12 false positive (bug 105593) on _mm512_undefined_ps() once Eigen's AVX-512 exp is inlined
// into the Eigen softmax below; fixed in GCC 13.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cmath>
#include <cstddef>
#include <string>

#include "../common/main.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/blas1.hpp"
#include "pare/kernels/softmax.hpp"
#include "pare/simd/arch.hpp"

namespace {

using Vec = pare::Tensor<float, 1>;

Vec random_vector(std::size_t n, std::uint64_t seed, float scale = 1.0f) {
  Vec v({n});
  pare::Rng rng(seed);
  for (auto& x : v.span()) x = scale * rng.normal();
  return v;
}

Eigen::Map<Eigen::VectorXf> eig(Vec& v) { return {v.data(), static_cast<Eigen::Index>(v.size())}; }

void bytes(benchmark::State& st, std::size_t n, std::size_t streams) {
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * n * streams * sizeof(float)));
}

void dot_pare(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  Vec a = random_vector(n, 1), b = random_vector(n, 2);
  for (auto _ : st) benchmark::DoNotOptimize(pare::dot(a, b));
  bytes(st, n, 2);
}
void dot_eigen(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  Vec a = random_vector(n, 1), b = random_vector(n, 2);
  for (auto _ : st) benchmark::DoNotOptimize(eig(a).dot(eig(b)));
  bytes(st, n, 2);
}
void axpy_pare(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  Vec x = random_vector(n, 1), y = random_vector(n, 2);
  for (auto _ : st) {
    pare::axpy(1e-3f, x, y);
    benchmark::ClobberMemory();
  }
  bytes(st, n, 3);
}
void axpy_eigen(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  Vec x = random_vector(n, 1), y = random_vector(n, 2);
  for (auto _ : st) {
    eig(y) += 1e-3f * eig(x);
    benchmark::ClobberMemory();
  }
  bytes(st, n, 3);
}
void softmax_pare(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  Vec x = random_vector(n, 1, 4.0f), y({n});
  for (auto _ : st) {
    pare::softmax(x, y);
    benchmark::ClobberMemory();
  }
  bytes(st, n, 2);
}
void softmax_eigen(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  Vec x = random_vector(n, 1, 4.0f), y({n});
  for (auto _ : st) {
    const float m = eig(x).maxCoeff();
    eig(y) = (eig(x).array() - m).exp();
    eig(y) /= eig(y).sum();
    benchmark::ClobberMemory();
  }
  bytes(st, n, 2);
}
void log_softmax_pare(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  Vec x = random_vector(n, 1, 4.0f), y({n});
  for (auto _ : st) {
    pare::log_softmax(x, y);
    benchmark::ClobberMemory();
  }
  bytes(st, n, 2);
}
void log_softmax_eigen(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  Vec x = random_vector(n, 1, 4.0f), y({n});
  for (auto _ : st) {
    const float m = eig(x).maxCoeff();
    const float log_s = std::log((eig(x).array() - m).exp().sum());
    eig(y) = eig(x).array() - (m + log_s);
    benchmark::ClobberMemory();
  }
  bytes(st, n, 2);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (long n : {1000L, 4096L, 32000L, 152064L, 1L << 20}) b->Arg(n);
}

}  // namespace

BENCHMARK(dot_pare)->Name("dot/f32/hot/pare")->Apply(sizes);
BENCHMARK(dot_eigen)->Name("dot/f32/hot/eigen")->Apply(sizes);
BENCHMARK(axpy_pare)->Name("axpy/f32/hot/pare")->Apply(sizes);
BENCHMARK(axpy_eigen)->Name("axpy/f32/hot/eigen")->Apply(sizes);
BENCHMARK(softmax_pare)->Name("softmax/f32/hot/pare")->Apply(sizes);
BENCHMARK(softmax_eigen)->Name("softmax/f32/hot/eigen")->Apply(sizes);
BENCHMARK(log_softmax_pare)->Name("log_softmax/f32/hot/pare")->Apply(sizes);
BENCHMARK(log_softmax_eigen)->Name("log_softmax/f32/hot/eigen")->Apply(sizes);

int main(int argc, char** argv) { return pare::bench::run(argc, argv); }
