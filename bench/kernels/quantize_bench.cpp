// SPDX-License-Identifier: Apache-2.0
// Quantize f32 -> int8 / int4 / int2 (pare::quantize_minmax: min-max range per unit, round to
// nearest, pack) and dequantize back, hot (a 4 MiB matrix, cache resident) and cold (rotating
// through > 1.1 GiB of copies), against the single-core read-bandwidth probe. The scalar path is
// the Quantizer, which quantize_minmax reproduces bit for bit.
//
//   build/h/bench/pare_quantize_bench --benchmark_filter=cold
//
// Names: quantize/<int8-tensor|int8-channel|uint8-channel-affine|int4-g128|int4-g32-affine|
// int2-g64>/<rows>x<cols>/<hot|cold>/<pare|scalar>; dequantize/<fmt>/...; membw/read/cold/<isa>.
// Bytes (SetBytesProcessed, GB/s): f32 in + packed codes out (+ scales), as the issue counts them.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "../common/main.hpp"
#include "../common/membw.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/quantize.hpp"
#include "pare/quant/quantizer.hpp"
#include "pare/simd/arch.hpp"

namespace {

using pare::bench::cold_bytes;
using pare::bench::fill_normal;

constexpr std::size_t rows = 1024, cols = 1024;

template <class F, class S, class G, bool Scalar>
void bm_quantize(benchmark::State& state, bool cold) {
  const std::size_t n = rows * cols;
  const std::size_t copies =
      cold ? std::max<std::size_t>(2, (cold_bytes + n * 4 - 1) / (n * 4)) : 1;
  const std::size_t stride = (n + 1023) / 1024 * 1024;
  pare::bench::Buffer buf = pare::bench::allocate(stride * copies);
  fill_normal(buf.get(), n, 1);
  for (std::size_t k = 1; k < copies; ++k)
    std::memcpy(buf.get() + k * stride, buf.get(), n * sizeof(float));
  std::size_t k = 0, out_bytes = 0;
  for (auto _ : state) {
    const pare::TensorView<const float, 2> w(buf.get() + k * stride, {rows, cols});
    if constexpr (Scalar) {
      const auto q = pare::Quantizer<F, S, G>{}.quantize(w);
      out_bytes = q.size_bytes();
      benchmark::DoNotOptimize(q.codes().data());
    } else {
      const auto q = pare::quantize_minmax<F, S, G>(w);
      out_bytes = q.size_bytes();
      benchmark::DoNotOptimize(q.codes().data());
    }
    if (++k == copies) k = 0;
    benchmark::ClobberMemory();
  }
  const auto bytes = static_cast<double>(n * sizeof(float) + out_bytes);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
  state.counters["GB/s"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

template <class F, class S, class G, bool Scalar>
void bm_dequantize(benchmark::State& state, bool) {
  pare::Tensor<float, 2> w({rows, cols});
  fill_normal(w.data(), rows * cols, 1);
  const auto q = pare::quantize_minmax<F, S, G>(w);
  for (auto _ : state) {
    if constexpr (Scalar) {
      const auto d = pare::dequantize(q);
      benchmark::DoNotOptimize(d.data());
    } else {
      const auto d = pare::dequantize_fast(q);
      benchmark::DoNotOptimize(d.data());
    }
    benchmark::ClobberMemory();
  }
  const auto bytes = static_cast<double>(rows * cols * sizeof(float) + q.size_bytes());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
  state.counters["GB/s"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

template <class F, class S, class G>
void add(const std::string& name) {
  const std::string shape = "/" + std::to_string(rows) + "x" + std::to_string(cols);
  for (bool cold : {false, true}) {
    const std::string mode = cold ? "/cold/" : "/hot/";
    benchmark::RegisterBenchmark(
        ("quantize/" + name + shape + mode + "pare").c_str(),
        [cold](benchmark::State& s) { bm_quantize<F, S, G, false>(s, cold); })
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(
        ("quantize/" + name + shape + mode + "scalar").c_str(),
        [cold](benchmark::State& s) { bm_quantize<F, S, G, true>(s, cold); })
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark(("dequantize/" + name + shape + "/hot/pare").c_str(),
                               [](benchmark::State& s) { bm_dequantize<F, S, G, false>(s, false); })
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark(("dequantize/" + name + shape + "/hot/scalar").c_str(),
                               [](benchmark::State& s) { bm_dequantize<F, S, G, true>(s, false); })
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace

int main(int argc, char** argv) {
  add<pare::Int<8>, pare::Symmetric, pare::PerTensor>("int8-tensor");
  add<pare::Int<8>, pare::Symmetric, pare::PerChannel>("int8-channel");
  add<pare::UInt<8>, pare::Affine, pare::PerChannel>("uint8-channel-affine");
  add<pare::Int<4>, pare::Symmetric, pare::PerGroup<128>>("int4-g128");
  add<pare::UInt<4>, pare::Affine, pare::PerGroup<32>>("uint4-g32-affine");
  add<pare::Int<2>, pare::Symmetric, pare::PerGroup<64>>("int2-g64");
  pare::bench::register_read_bandwidth();
  return pare::bench::run(argc, argv, nullptr, "pare_quantize_arch");
}
