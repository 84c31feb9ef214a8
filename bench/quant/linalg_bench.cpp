// SPDX-License-Identifier: Apache-2.0
// The double-precision linear algebra of GPTQ/SparseGPT: pare's linalg (linalg/dense_f64.hpp)
// against the Eigen code it replaced, kept here verbatim as the peer, single thread.
//
//   build/release/bench/pare_linalg_bench --benchmark_filter='/(512|1024)/'
//
// Names:
//   cholesky/<n>/{pare,eigen}        A = L·Lᵀ (pare::linalg::cholesky vs Eigen::LLT)
//   hinv_upper/<n>/{pare,pare-long,eigen}
//                                    the upper Cholesky factor of A⁻¹ from A, what GPTQ and
//                                    SparseGPT sweep with: pare's short way (one Cholesky of the
//                                    reversed matrix and a triangular inverse), pare the long way
//                                    (Cholesky, inverse, Cholesky: the same steps as Eigen), and
//                                    Eigen's LLT, solve(I), LLT, matrixU() as gptq.hpp did
//   hessian_add/<n>/{pare,eigen}     LayerHessian::add of a 512-row batch (syrk)
//   gptq/int4_g128/<rows>x<cols>/{pare,eigen}
//                                    a whole GPTQ (Int<4>, Symmetric, PerGroup<128>, block 128)
//                                    from the layer Hessian, plan and sweep
#include <benchmark/benchmark.h>

// Eigen's AVX-512 packet code trips GCC 12's false -Wmaybe-uninitialized (GCC bug 105593); the
// peer is measured, not linted.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <string>
#include <vector>

#include "../common/main.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/linalg/dense_f64.hpp"
#include "pare/linalg/layer_hessian.hpp"
#include "pare/quant/gptq.hpp"
#include "pare/quant/quantizer.hpp"
#include "pare/simd/arch.hpp"

namespace {

// ---- the peer: gptq.hpp and layer_hessian.hpp as they were with Eigen ----
namespace eigen_peer {

struct Plan {
  bool ok = true;
  std::vector<std::size_t> perm;
  std::vector<bool> dead;
  Eigen::MatrixXd hinv_upper;
};

Eigen::MatrixXd hinv_upper(const Eigen::MatrixXd& h, bool& ok) {
  const auto n = h.cols();
  Eigen::LLT<Eigen::MatrixXd> llt(h);
  ok = llt.info() == Eigen::Success;
  if (!ok) return {};
  const Eigen::MatrixXd hinv = llt.solve(Eigen::MatrixXd::Identity(n, n));
  Eigen::LLT<Eigen::MatrixXd> llt_inv(hinv);
  ok = llt_inv.info() == Eigen::Success;
  if (!ok) return {};
  return llt_inv.matrixU();
}

Plan plan(const Eigen::MatrixXd& hessian, const pare::GptqOptions& opt) {
  Eigen::MatrixXd h = hessian;
  const auto n = h.cols();
  Plan p;
  p.dead.assign(static_cast<std::size_t>(n), false);
  for (Eigen::Index j = 0; j < n; ++j)
    if (h(j, j) == 0) {
      h(j, j) = 1;
      p.dead[static_cast<std::size_t>(j)] = true;
    }
  p.perm.resize(static_cast<std::size_t>(n));
  std::iota(p.perm.begin(), p.perm.end(), std::size_t{0});
  const double damp = opt.percdamp * h.diagonal().mean();
  h.diagonal().array() += damp;
  p.hinv_upper = hinv_upper(h, p.ok);
  return p;
}

template <class QuantizeColumn>
double sweep(Eigen::MatrixXd& w, const Eigen::MatrixXd& hinv, std::size_t block_size,
             QuantizeColumn&& quantize, Eigen::MatrixXd& q) {
  const Eigen::Index rows = w.rows(), cols = w.cols();
  const auto bs = static_cast<Eigen::Index>(block_size);
  q.setZero(rows, cols);
  double loss = 0;
  Eigen::VectorXd qc(rows);
  for (Eigen::Index i1 = 0; i1 < cols; i1 += bs) {
    const Eigen::Index i2 = std::min(i1 + bs, cols), count = i2 - i1;
    Eigen::MatrixXd w1 = w.middleCols(i1, count);
    Eigen::MatrixXd err1(rows, count);
    for (Eigen::Index i = 0; i < count; ++i) {
      const double d = hinv(i1 + i, i1 + i);
      quantize(static_cast<std::size_t>(i1 + i), static_cast<const Eigen::MatrixXd&>(w),
               static_cast<const Eigen::VectorXd&>(w1.col(i)), qc);
      q.col(i1 + i) = qc;
      const Eigen::VectorXd e = (w1.col(i) - qc) / d;
      loss += e.squaredNorm() / 2.0;
      w1.rightCols(count - i).noalias() -= e * hinv.row(i1 + i).segment(i1 + i, count - i);
      err1.col(i) = e;
    }
    if (i2 < cols) w.rightCols(cols - i2).noalias() -= err1 * hinv.block(i1, i2, count, cols - i2);
  }
  return loss;
}

/// gptq() for Quantizer<Int<4>, Symmetric, PerGroup<N>> without act-order, as it was.
template <class Q>
auto gptq(const Q& quantizer, pare::TensorView<const float, 2> w, const Eigen::MatrixXd& hessian,
          const pare::GptqOptions& opt) {
  using G = decltype(quantizer.granularity);
  constexpr std::size_t N = G::group_size;
  const G& gran = quantizer.granularity;
  const pare::Shape<2> shape = w.extents();
  const std::size_t rows = shape[0], cols = shape[1];
  const pare::CodeRange codes = quantizer.scheme.code_range(pare::code_range_of<pare::Int<4>>);
  std::vector<pare::QuantParams> params(gran.unit_count(shape));
  std::vector<float> inv(params.size());
  std::vector<float> group_values(N);
  const auto rule = [&](std::size_t j, const Eigen::MatrixXd& lazy, const Eigen::VectorXd& col,
                        Eigen::VectorXd& qc) {
    if (j % N == 0)
      for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t i = 0; i < N; ++i)
          group_values[i] = static_cast<float>(
              lazy(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(j + i)));
        auto o = quantizer.observer;
        o.observe(group_values);
        const pare::Range rg = o.range();
        const std::size_t u = gran.unit_of(shape, r, j);
        params[u] = quantizer.scheme.params(rg.empty() ? pare::Range{0.0f, 0.0f} : rg,
                                            pare::code_range_of<pare::Int<4>>);
        inv[u] = 1.0f / params[u].scale;
      }
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t u = gran.unit_of(shape, r, j);
      const std::int32_t code =
          pare::quantize_value(static_cast<float>(col(static_cast<Eigen::Index>(r))), inv[u],
                               params[u].zero_point, codes);
      qc(static_cast<Eigen::Index>(r)) = pare::dequantize_value(code, params[u]);
    }
  };
  const Plan p = plan(hessian, opt);
  pare::Tensor<float, 2> out({rows, cols});
  if (!p.ok) return quantizer.quantize(out.view());
  Eigen::MatrixXd wd(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  for (std::size_t k = 0; k < cols; ++k)
    for (std::size_t r = 0; r < rows; ++r)
      wd(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(k)) =
          p.dead[k] ? 0.0 : w(r, p.perm[k]);
  Eigen::MatrixXd q;
  (void)sweep(wd, p.hinv_upper, opt.block_size, rule, q);
  for (std::size_t k = 0; k < cols; ++k)
    for (std::size_t r = 0; r < rows; ++r)
      out(r, p.perm[k]) =
          static_cast<float>(q(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(k)));
  return quantizer.quantize(out.view(), params);
}

void hessian_add(Eigen::MatrixXd& h, std::size_t& samples, pare::TensorView<const float, 2> x) {
  const std::size_t n = x.extent(0);
  Eigen::MatrixXd xd(static_cast<Eigen::Index>(n), h.cols());
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < x.extent(1); ++j)
      xd(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = x(i, j);
  const double old = static_cast<double>(samples);
  samples += n;
  h *= old / static_cast<double>(samples);
  h.selfadjointView<Eigen::Lower>().rankUpdate(xd.transpose(), 2.0 / static_cast<double>(samples));
  for (Eigen::Index j = 1; j < h.cols(); ++j)
    for (Eigen::Index i = 0; i < j; ++i) h(i, j) = h(j, i);
}

}  // namespace eigen_peer

// ---- inputs ----

/// Calibration-like inputs [rows, n]: a few shared directions plus noise, so that H = 2XᵀX/N is
/// well conditioned but far from diagonal.
pare::Tensor<float, 2> inputs(std::size_t rows, std::size_t n, std::uint64_t seed) {
  pare::Rng rng(seed);
  constexpr std::size_t rank = 16;
  pare::Tensor<float, 2> mix({rank, n}), x({rows, n});
  for (float& v : mix.span()) v = rng.normal();
  for (std::size_t r = 0; r < rows; ++r) {
    float z[rank];
    for (float& v : z) v = rng.normal();
    for (std::size_t j = 0; j < n; ++j) {
      float s = rng.normal();
      for (std::size_t k = 0; k < rank; ++k) s += 0.3f * z[k] * mix(k, j);
      x(r, j) = s;
    }
  }
  return x;
}

/// A damped layer Hessian of n inputs from 2n samples, built once per size.
const pare::Tensor<double, 2>& spd(std::size_t n) {
  static std::vector<std::pair<std::size_t, pare::Tensor<double, 2>>> cache;
  for (const auto& [k, t] : cache)
    if (k == n) return t;
  pare::LayerHessian h(n);
  h.add(inputs(2 * n, n, n).view());
  pare::Tensor<double, 2> a(h.matrix());
  double mean = 0;
  for (std::size_t i = 0; i < n; ++i) mean += a(i, i);
  for (std::size_t i = 0; i < n; ++i) a(i, i) += 0.01 * mean / static_cast<double>(n);
  cache.emplace_back(n, std::move(a));
  return cache.back().second;
}

Eigen::MatrixXd to_eigen(pare::TensorView<const double, 2> a) {
  Eigen::MatrixXd e(static_cast<Eigen::Index>(a.extent(0)), static_cast<Eigen::Index>(a.extent(1)));
  for (std::size_t i = 0; i < a.extent(0); ++i)
    for (std::size_t j = 0; j < a.extent(1); ++j)
      e(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = a(i, j);
  return e;
}

void flops(benchmark::State& state, double f) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(f * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

double cube(std::size_t n) {
  const auto d = static_cast<double>(n);
  return d * d * d;
}

// ---- benchmarks ----

void cholesky_pare(benchmark::State& state, std::size_t n) {
  const auto& a = spd(n);
  pare::Tensor<double, 2> w({n, n});
  for (auto _ : state) {
    std::copy_n(a.data(), a.size(), w.data());
    if (pare::linalg::cholesky(w.view()) != pare::linalg::CholeskyStatus::ok)
      state.SkipWithError("not positive definite");
    benchmark::DoNotOptimize(w.data());
  }
  flops(state, cube(n) / 3.0);
}

void cholesky_eigen(benchmark::State& state, std::size_t n) {
  const Eigen::MatrixXd a = to_eigen(spd(n));
  for (auto _ : state) {
    Eigen::LLT<Eigen::MatrixXd> llt(a);
    if (llt.info() != Eigen::Success) state.SkipWithError("not positive definite");
    benchmark::DoNotOptimize(llt.matrixLLT().data());
  }
  flops(state, cube(n) / 3.0);
}

void hinv_upper_pare(benchmark::State& state, std::size_t n) {
  const auto& a = spd(n);
  pare::Tensor<double, 2> w({n, n});
  for (auto _ : state) {
    std::copy_n(a.data(), a.size(), w.data());
    if (pare::linalg::inverse_upper_cholesky(w.view()) != pare::linalg::CholeskyStatus::ok)
      state.SkipWithError("not positive definite");
    benchmark::DoNotOptimize(w.data());
  }
}

void hinv_upper_pare_long(benchmark::State& state, std::size_t n) {
  const auto& a = spd(n);
  pare::Tensor<double, 2> w({n, n}), inv({n, n});
  for (auto _ : state) {
    std::copy_n(a.data(), a.size(), w.data());
    bool ok = pare::linalg::cholesky(w.view()) == pare::linalg::CholeskyStatus::ok;
    pare::linalg::cholesky_inverse(w.view(), inv.view());
    ok = ok && pare::linalg::cholesky(inv.view()) == pare::linalg::CholeskyStatus::ok;
    if (!ok) state.SkipWithError("not positive definite");
    benchmark::DoNotOptimize(inv.data());  // U = Lᵀ of inv, a transposed view
  }
}

void hinv_upper_eigen(benchmark::State& state, std::size_t n) {
  const Eigen::MatrixXd a = to_eigen(spd(n));
  for (auto _ : state) {
    bool ok = false;
    const Eigen::MatrixXd u = eigen_peer::hinv_upper(a, ok);
    if (!ok) state.SkipWithError("not positive definite");
    benchmark::DoNotOptimize(u.data());
  }
}

constexpr std::size_t batch_rows = 512;

void hessian_add_pare(benchmark::State& state, std::size_t n) {
  const auto x = inputs(batch_rows, n, 7);
  pare::LayerHessian h(n);
  for (auto _ : state) {
    h.add(x.view());
    benchmark::DoNotOptimize(h.matrix().data());
  }
  flops(state, static_cast<double>(batch_rows) * static_cast<double>(n) * static_cast<double>(n));
}

void hessian_add_eigen(benchmark::State& state, std::size_t n) {
  const auto x = inputs(batch_rows, n, 7);
  Eigen::MatrixXd h =
      Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
  std::size_t samples = 0;
  for (auto _ : state) {
    eigen_peer::hessian_add(h, samples, x.view());
    benchmark::DoNotOptimize(h.data());
  }
  flops(state, static_cast<double>(batch_rows) * static_cast<double>(n) * static_cast<double>(n));
}

using Q4G128 = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<128>>;

pare::Tensor<float, 2> layer_weights(std::size_t rows, std::size_t cols) {
  pare::Rng rng(3);
  pare::Tensor<float, 2> w({rows, cols});
  for (float& v : w.span()) v = 0.02f * rng.normal();
  return w;
}

void gptq_pare(benchmark::State& state, std::size_t rows, std::size_t cols) {
  const auto w = layer_weights(rows, cols);
  pare::LayerHessian h(cols);
  h.add(inputs(2 * cols, cols, 11).view());
  for (auto _ : state) {
    const auto r = pare::gptq(Q4G128{}, w.view(), h, {.block_size = 128});
    if (r.status != pare::GptqStatus::ok) state.SkipWithError("not positive definite");
    benchmark::DoNotOptimize(r.weights.codes().data());
  }
}

void gptq_eigen(benchmark::State& state, std::size_t rows, std::size_t cols) {
  const auto w = layer_weights(rows, cols);
  pare::LayerHessian h(cols);
  h.add(inputs(2 * cols, cols, 11).view());
  const Eigen::MatrixXd he = to_eigen(h.matrix());
  for (auto _ : state) {
    const auto r = eigen_peer::gptq(Q4G128{}, w.view(), he, {.block_size = 128});
    benchmark::DoNotOptimize(r.codes().data());
  }
}

void register_all() {
  for (std::size_t n : {512, 1024, 4096}) {
    const std::string s = std::to_string(n);
    const auto reg = [&](const std::string& name, void (*fn)(benchmark::State&, std::size_t)) {
      benchmark::RegisterBenchmark(name.c_str(), [fn, n](benchmark::State& st) {
        fn(st, n);
      })->Unit(benchmark::kMillisecond);
    };
    reg("cholesky/" + s + "/pare", cholesky_pare);
    reg("cholesky/" + s + "/eigen", cholesky_eigen);
    reg("hinv_upper/" + s + "/pare", hinv_upper_pare);
    reg("hinv_upper/" + s + "/pare-long", hinv_upper_pare_long);
    reg("hinv_upper/" + s + "/eigen", hinv_upper_eigen);
    reg("hessian_add/" + s + "/pare", hessian_add_pare);
    reg("hessian_add/" + s + "/eigen", hessian_add_eigen);
  }
  for (const auto& [rows, cols] : {std::pair<std::size_t, std::size_t>{4096, 4096}}) {
    const std::string s = std::to_string(rows) + "x" + std::to_string(cols);
    benchmark::RegisterBenchmark(
        ("gptq/int4_g128/" + s + "/pare").c_str(),
        [rows = rows, cols = cols](benchmark::State& st) { gptq_pare(st, rows, cols); })
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(
        ("gptq/int4_g128/" + s + "/eigen").c_str(),
        [rows = rows, cols = cols](benchmark::State& st) { gptq_eigen(st, rows, cols); })
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Eigen::setNbThreads(1);
  return pare::bench::run(argc, argv, register_all);
}
