// SPDX-License-Identifier: Apache-2.0
// Softmax / log-softmax and the soft-target KL loss with its gradient over 32 × 32000 logits (an
// LLM vocabulary): pare vs a plain Eigen implementation of the same arithmetic, hot (the same
// buffers every call, L3-resident) and cold (each call streams a different copy from DRAM), with
// the single-core read-bandwidth probe for the roofline in the same binary.
//
//   build/h-f/bench/pare_kl_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
//
// Names: <op>/32x32000/<hot|cold>/<impl>; membw/read/cold/<isa>. Bytes counted are the minimum
// the operation must move: softmax reads x and writes y (8 B per element); the KL loss reads
// student and teacher logits and writes the gradient (12 B), or also reads it when it accumulates
// into it (16 B, "accumulate"). Compare cold GB/s with the probe's (membw/read/cold/<isa>).
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "../common/main.hpp"
#include "../common/membw.hpp"
#include "pare/core/tensor.hpp"
#include "pare/distill/row_kernels.hpp"
#include "pare/distill/soft_kl.hpp"
#include "pare/kernels/softmax.hpp"
#include "pare/simd/arch.hpp"

namespace {

using pare::bench::allocate;
using pare::bench::Buffer;
using pare::bench::fill_normal;

constexpr std::size_t rows = 32, vocab = 32000, elems = rows * vocab;
constexpr float temperature = 2.0f;

// On a machine shared with other jobs the mean is inflated by preemption and cache pollution;
// with --benchmark_repetitions=N the minimum is the better estimate of what the code can do.
double min_of(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

// Triples (student, teacher, out) of [rows, vocab]; `hot` uses copy 0 every call, `cold` cycles
// through enough copies (384 MiB) that every call misses the 32 MiB L3.
class Pool {
 public:
  static Pool& get() {
    static Pool pool;
    return pool;
  }
  [[nodiscard]] std::size_t copies() const noexcept { return copies_; }
  [[nodiscard]] float* s(std::size_t k) noexcept { return data_.get() + (3 * k) * elems; }
  [[nodiscard]] float* t(std::size_t k) noexcept { return data_.get() + (3 * k + 1) * elems; }
  [[nodiscard]] float* out(std::size_t k) noexcept { return data_.get() + (3 * k + 2) * elems; }

 private:
  Pool() : data_(allocate(3 * elems * copies_)) {
    fill_normal(s(0), elems, 1);
    fill_normal(t(0), elems, 2);
    // Logits of a trained model spread wider than N(0, 1).
    for (std::size_t i = 0; i < elems; ++i) {
      s(0)[i] *= 4.0f;
      t(0)[i] *= 4.0f;
    }
    std::fill(out(0), out(0) + elems, 0.0f);
    for (std::size_t k = 1; k < copies_; ++k) std::memcpy(s(k), s(0), 3 * elems * sizeof(float));
  }
  std::size_t copies_ = 32;
  Buffer data_;
};

using Op = std::function<float(const float* s, const float* t, float* out)>;

// ---- pare ----
float pare_softmax(const float* s, const float*, float* out) {
  pare::softmax(pare::TensorView<const float, 2>(s, {rows, vocab}),
                pare::TensorView<float, 2>(out, {rows, vocab}));
  return out[0];
}
float pare_log_softmax(const float* s, const float*, float* out) {
  pare::log_softmax(pare::TensorView<const float, 2>(s, {rows, vocab}),
                    pare::TensorView<float, 2>(out, {rows, vocab}));
  return out[0];
}
// The fused row kernel, storing the gradient (what a training step that owns the buffer needs).
float pare_kl_fused(const float* s, const float* t, float* out) {
  double total = 0;
  const float inv_t = 1.0f / temperature, gs = temperature / static_cast<float>(rows);
  static std::vector<float> scratch(2 * vocab);
  for (std::size_t r = 0; r < rows; ++r)
    total += pare::kernels::DivergenceRow<pare::kernels::Divergence::forward_kl, false>{}(
        xsimd::default_arch{}, s + r * vocab, t + r * vocab, vocab, inv_t, gs, out + r * vocab,
        scratch.data(),
        r + 1 < rows ? pare::kernels::RowPrefetch{s + (r + 1) * vocab, t + (r + 1) * vocab}
                     : pare::kernels::RowPrefetch{});
  return static_cast<float>(total * temperature * temperature / rows);
}
// The public loss: checks, then accumulates into the gradient (reads it too).
float pare_kl_loss(const float* s, const float* t, float* out) {
  const pare::TensorView<const float, 2> sv(s, {rows, vocab}), tv(t, {rows, vocab});
  return pare::SoftKL{.temperature = temperature}.accumulate(
      {.student_logits = sv, .teacher_logits = tv}, 1.0f,
      {.logits = pare::TensorView<float, 2>(out, {rows, vocab})});
}

// ---- plain Eigen: the same arithmetic with Eigen's vectorized array expressions ----
using Arr = Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr auto er = static_cast<Eigen::Index>(rows), ec = static_cast<Eigen::Index>(vocab);

float eigen_softmax(const float* s, const float*, float* out) {
  const Eigen::Map<const Arr> x(s, er, ec);
  Eigen::Map<Arr> y(out, er, ec);
  for (Eigen::Index r = 0; r < er; ++r) {
    const float m = x.row(r).maxCoeff();
    y.row(r) = (x.row(r) - m).exp();
    y.row(r) /= y.row(r).sum();
  }
  return out[0];
}
float eigen_log_softmax(const float* s, const float*, float* out) {
  const Eigen::Map<const Arr> x(s, er, ec);
  Eigen::Map<Arr> y(out, er, ec);
  for (Eigen::Index r = 0; r < er; ++r) {
    const float m = x.row(r).maxCoeff();
    const float lse = std::log((x.row(r) - m).exp().sum());
    y.row(r) = (x.row(r) - m) - lse;
  }
  return out[0];
}
float eigen_kl(const float* s, const float* t, float* out) {
  const Eigen::Map<const Arr> S(s, er, ec), T(t, er, ec);
  Eigen::Map<Arr> G(out, er, ec);
  const float inv_t = 1.0f / temperature, gs = temperature / static_cast<float>(rows);
  double total = 0;
  for (Eigen::Index r = 0; r < er; ++r) {
    const float ms = S.row(r).maxCoeff(), mt = T.row(r).maxCoeff();
    const float cs = std::log(((S.row(r) - ms) * inv_t).exp().sum());
    const float ct = std::log(((T.row(r) - mt) * inv_t).exp().sum());
    const auto lp = (S.row(r) - ms) * inv_t - cs;
    const auto lq = (T.row(r) - mt) * inv_t - ct;
    total += (lq.exp() * (lq - lp)).sum();
    G.row(r) = gs * (lp.exp() - lq.exp());
  }
  return static_cast<float>(total * temperature * temperature / rows);
}

void bm_op(benchmark::State& state, const Op& op, double bytes_per_elem, bool cold) {
  Pool& pool = Pool::get();
  std::size_t k = 0;
  for (auto _ : state) {
    const std::size_t c = cold ? k : 0;
    if (cold && ++k == pool.copies()) k = 0;
    float v = op(pool.s(c), pool.t(c), pool.out(c));
    benchmark::DoNotOptimize(v);
    benchmark::ClobberMemory();
  }
  const double bytes = bytes_per_elem * static_cast<double>(elems);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
  state.counters["GB/s"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void register_all() {
  pare::bench::register_read_bandwidth();
  struct Impl {
    const char* op;
    const char* name;
    Op fn;
    double bytes_per_elem;
  };
  const std::vector<Impl> impls = {
      {"softmax", "pare", pare_softmax, 8},
      {"softmax", "eigen", eigen_softmax, 8},
      {"log_softmax", "pare", pare_log_softmax, 8},
      {"log_softmax", "eigen", eigen_log_softmax, 8},
      {"kl_loss_grad", "pare", pare_kl_fused, 12},
      {"kl_loss_grad", "pare_accumulate", pare_kl_loss, 16},
      {"kl_loss_grad", "eigen", eigen_kl, 12},
  };
  for (bool cold : {false, true})
    for (const Impl& impl : impls) {
      const std::string name = std::string(impl.op) + "/" + std::to_string(rows) + "x" +
                               std::to_string(vocab) + (cold ? "/cold/" : "/hot/") + impl.name;
      benchmark::RegisterBenchmark(name.c_str(),
                                   [fn = impl.fn, b = impl.bytes_per_elem,
                                    cold](benchmark::State& st) { bm_op(st, fn, b, cold); })
          ->Unit(benchmark::kMicrosecond)
          ->ComputeStatistics("min", min_of);
    }
}

}  // namespace

int main(int argc, char** argv) { return pare::bench::run(argc, argv, register_all); }
