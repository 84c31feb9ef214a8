// SPDX-License-Identifier: Apache-2.0
// The threaded row-wise softmax, graph Softmax/LogSoftmax, distillation losses and GPTQ's lazy
// update on 1, 2 and 3 threads: each result is bit-identical to its one-thread result (and, on
// every dispatch tier, close to an independent double-precision reference where one is cheap).
// max_grain = 1 shares out even these small shapes.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "kernels/support.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/distill/hard_label.hpp"
#include "pare/distill/jensen_shannon.hpp"
#include "pare/distill/reverse_kl.hpp"
#include "pare/distill/soft_kl.hpp"
#include "pare/kernels/quantize.hpp"
#include "pare/kernels/softmax.hpp"
#include "pare/linalg/layer_hessian.hpp"
#include "pare/nn/adam.hpp"
#include "pare/nn/graph/attributes.hpp"
#include "pare/nn/graph/elementwise.hpp"
#include "pare/nn/graph/graph.hpp"
#include "pare/nn/graph/pool.hpp"
#include "pare/nn/graph/softmax.hpp"
#include "pare/nn/graph/tensor_ops.hpp"
#include "pare/nn/graph/value.hpp"
#include "pare/nn/sgd.hpp"
#include "pare/prune/sparsegpt.hpp"
#include "pare/quant/awq.hpp"
#include "pare/quant/dynamic.hpp"
#include "pare/quant/gptq.hpp"
#include "pare/simd/dispatch.hpp"

using pare::TensorView;
namespace test = pare::test;

namespace {

const std::size_t thread_counts[] = {1, 2, 3};
const pare::simd::Tier tiers[] = {pare::simd::Tier::avx512, pare::simd::Tier::avx2,
                                  pare::simd::Tier::sse2};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Runs fn() on every tier and thread count; per tier, every result equals the one-thread result
// bit for bit. Returns the one-thread results of the last tier (for a reference check).
template <class Fn>
void check_threads(Fn&& fn, const std::vector<double>* approx = nullptr, double tol = 0) {
  for (const auto tier : tiers) {
    const pare::simd::TierLimit limit(tier);
    INFO("tier " << pare::simd::tier_name(pare::simd::active_tier()));
    std::vector<float> first;
    for (std::size_t t : thread_counts) {
      INFO("threads " << t);
      const pare::ParallelismScope scope({.threads = t, .max_grain = 1});
      const std::vector<float> r = fn();
      if (t == 1) {
        first = r;
        if (approx) {
          REQUIRE(r.size() == approx->size());
          for (std::size_t i = 0; i < r.size(); ++i) CHECK(std::abs(r[i] - (*approx)[i]) <= tol);
        }
      } else {
        CHECK(same_bits(r, first));
      }
    }
  }
}

std::vector<double> softmax_rows_ref(const std::vector<float>& x, std::size_t rows, std::size_t n,
                                     bool log) {
  std::vector<double> y(rows * n);
  for (std::size_t r = 0; r < rows; ++r) {
    double m = x[r * n];
    for (std::size_t i = 1; i < n; ++i) m = std::max(m, static_cast<double>(x[r * n + i]));
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += std::exp(x[r * n + i] - m);
    for (std::size_t i = 0; i < n; ++i)
      y[r * n + i] = log ? (x[r * n + i] - m) - std::log(s) : std::exp(x[r * n + i] - m) / s;
  }
  return y;
}

}  // namespace

TEST_CASE("row-wise softmax and log_softmax give the same bits on 1, 2 and 3 threads",
          "[kernels][softmax][threads]") {
  pare::Rng rng(21);
  struct Rc {
    std::size_t rows, n;
  };
  for (const Rc s : {Rc{1, 5}, Rc{7, 33}, Rc{13, 300}, Rc{5, 1}}) {
    INFO("rows " << s.rows << " n " << s.n);
    const auto x = test::normal(s.rows * s.n, rng);
    const TensorView<const float, 2> xv(x.data(), {s.rows, s.n});
    for (const bool log : {false, true}) {
      INFO((log ? "log_softmax" : "softmax"));
      const auto ref = softmax_rows_ref(x, s.rows, s.n, log);
      check_threads(
          [&] {
            std::vector<float> y(x.size(), std::nanf(""));
            const TensorView<float, 2> yv(y.data(), {s.rows, s.n});
            if (log)
              pare::log_softmax(xv, yv);
            else
              pare::softmax(xv, yv);
            return y;
          },
          &ref, 1e-5);
    }
  }
}

TEST_CASE("graph Softmax, LogSoftmax and Hardmax give the same bits on 1, 2 and 3 threads",
          "[kernels][softmax][threads]") {
  pare::Rng rng(22);
  pare::graph::Value x;
  x.shape = {3, 9, 7};
  x.floats = test::normal(3 * 9 * 7, rng);
  for (const auto kind : {pare::graph::SoftmaxKind::softmax, pare::graph::SoftmaxKind::log_softmax,
                          pare::graph::SoftmaxKind::hardmax}) {
    for (const std::int64_t axis : {1, -1}) {
      INFO("kind " << static_cast<int>(kind) << " axis " << axis);
      pare::graph::Attributes attrs("sm");
      pare::graph::Attribute a;
      a.kind = pare::graph::Attribute::Kind::int64;
      a.i = axis;
      attrs.set("axis", a);
      const pare::graph::OpFn op = pare::graph::make_softmax(attrs, 13, kind);
      // the independent reference: along the axis, softmax (or its log) in double
      std::vector<double> ref(x.floats.size());
      const std::size_t outer = axis == 1 ? 3 : 27, n = axis == 1 ? 9 : 7,
                        inner = axis == 1 ? 7 : 1;
      for (std::size_t o = 0; o < outer; ++o)
        for (std::size_t i = 0; i < inner; ++i) {
          auto at = [&](std::size_t k) { return o * n * inner + k * inner + i; };
          double m = x.floats[at(0)];
          std::size_t best = 0;
          for (std::size_t k = 1; k < n; ++k)
            if (x.floats[at(k)] > m) m = x.floats[at(best = k)];
          double s = 0;
          for (std::size_t k = 0; k < n; ++k) s += std::exp(x.floats[at(k)] - m);
          for (std::size_t k = 0; k < n; ++k)
            ref[at(k)] = kind == pare::graph::SoftmaxKind::softmax
                             ? std::exp(x.floats[at(k)] - m) / s
                         : kind == pare::graph::SoftmaxKind::log_softmax
                             ? (x.floats[at(k)] - m) - std::log(s)
                             : (k == best ? 1.0 : 0.0);
        }
      check_threads(
          [&] {
            pare::graph::Value y;
            const pare::graph::Value* ins[] = {&x};
            pare::graph::Value* outs[] = {&y};
            op(ins, outs);
            return y.floats;
          },
          &ref, 1e-5);
    }
  }
}

TEST_CASE("distillation losses give the same loss and gradient bits on 1, 2 and 3 threads",
          "[kernels][distill][threads]") {
  pare::Rng rng(23);
  const std::size_t n = 11, c = 37;
  const auto s = test::normal(n * c, rng), t = test::normal(n * c, rng);
  std::vector<float> mask(n, 1.0f);
  mask[3] = 0.0f;
  mask[7] = 2.5f;
  std::vector<std::int32_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) labels[i] = static_cast<std::int32_t>((i * 7) % c);
  const pare::DistillBatch b{.student_logits = TensorView<const float, 2>(s.data(), {n, c}),
                             .teacher_logits = TensorView<const float, 2>(t.data(), {n, c}),
                             .labels = TensorView<const std::int32_t, 1>(labels.data(), {n}),
                             .mask = TensorView<const float, 1>(mask.data(), {n})};
  auto run = [&](const auto& loss) {
    return [&] {
      std::vector<float> g(n * c, 0.25f);
      const float v = loss.accumulate(b, 0.5f, {.logits = TensorView<float, 2>(g.data(), {n, c})});
      g.push_back(v);
      return g;
    };
  };
  SECTION("SoftKL") { check_threads(run(pare::SoftKL{.temperature = 2.0f})); }
  SECTION("ReverseKL") { check_threads(run(pare::ReverseKL{.temperature = 1.5f})); }
  SECTION("JensenShannon") { check_threads(run(pare::JensenShannon{.temperature = 1.0f})); }
  SECTION("HardLabel") { check_threads(run(pare::HardLabel{.label_smoothing = 0.1f})); }
}

TEST_CASE("GPTQ's sweep gives the same bits on 1, 2 and 3 threads", "[kernels][gptq][threads]") {
  pare::Rng rng(24);
  const std::size_t rows = 29, cols = 70, samples = 200;
  const auto w = test::normal(rows * cols, rng);
  const auto x = test::normal(samples * cols, rng);
  pare::LayerHessian h(cols);
  h.add(TensorView<const float, 2>(x.data(), {samples, cols}));
  for (const bool act_order : {false, true}) {
    INFO("act_order " << act_order);
    pare::GptqOptions opt;
    opt.block_size = 16;
    opt.act_order = act_order;
    check_threads([&] {
      double loss = 0;
      const auto q = pare::gptq_dequantized(
          TensorView<const float, 2>(w.data(), {rows, cols}), h, opt,
          [&](std::size_t, TensorView<const double, 2>, TensorView<const double, 1> col,
              TensorView<double, 1> qc) {
            for (std::size_t r = 0; r < rows; ++r) qc(r) = std::round(col(r) * 4.0) / 4.0;
          },
          nullptr, &loss);
      std::vector<float> out(q.data(), q.data() + q.size());
      out.push_back(static_cast<float>(loss));
      return out;
    });
  }
}

namespace {

// Runs `op` on `ins` and returns its first output's floats.
std::vector<float> run_op(const pare::graph::OpFn& op, std::vector<const pare::graph::Value*> ins,
                          std::size_t outputs = 1) {
  std::vector<pare::graph::Value> ys(outputs);
  std::vector<pare::graph::Value*> outs;
  for (auto& y : ys) outs.push_back(&y);
  op(ins, outs);
  std::vector<float> r;
  for (const auto& y : ys) r.insert(r.end(), y.floats.begin(), y.floats.end());
  return r;
}

pare::graph::Value random_value(std::vector<std::size_t> shape, pare::Rng& rng) {
  pare::graph::Value v;
  v.shape = std::move(shape);
  std::size_t n = 1;
  for (const std::size_t d : v.shape) n *= d;
  v.floats = test::normal(n, rng);
  return v;
}

}  // namespace

TEST_CASE("graph unary ops give the same bits on 1, 2 and 3 threads", "[kernels][graph][threads]") {
  using K = pare::graph::UnaryKind;
  pare::Rng rng(25);
  const pare::graph::Value x = random_value({3, 7, 61}, rng);  // 1281: not a whole register
  const struct {
    K kind;
    double (*ref)(double);
  } cases[] = {
      {K::gelu, [](double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }},
      {K::erf, [](double v) { return std::erf(v); }},
      {K::exp, [](double v) { return std::exp(v); }},
      {K::tanh, [](double v) { return std::tanh(v); }},
      {K::sigmoid, [](double v) { return 1.0 / (1.0 + std::exp(-v)); }},
      {K::relu, [](double v) { return v > 0 ? v : 0.0; }},
      {K::abs, [](double v) { return std::abs(v); }},
  };
  for (const auto& c : cases) {
    INFO("kind " << static_cast<int>(c.kind));
    const pare::graph::OpFn op = pare::graph::make_unary(c.kind, "Unary 'u'");
    std::vector<double> ref(x.floats.size());
    for (std::size_t i = 0; i < ref.size(); ++i) ref[i] = c.ref(x.floats[i]);
    check_threads([&] { return run_op(op, {&x}); }, &ref, 2e-5);
  }
}

TEST_CASE("graph binary ops with broadcasting give the same bits on 1, 2 and 3 threads",
          "[kernels][graph][threads]") {
  using K = pare::graph::BinaryKind;
  pare::Rng rng(26);
  struct Shapes {
    std::vector<std::size_t> a, b;
  };
  const Shapes shapes[] = {{{5, 3, 67}, {5, 3, 67}},  // one run, cut into pieces
                           {{4, 3, 5, 7}, {4, 3, 1, 1}},
                           {{6, 1, 9}, {1, 5, 1}},
                           {{2, 3, 4}, {}}};
  for (const auto& s : shapes) {
    const pare::graph::Value a = random_value(s.a, rng), b = random_value(s.b, rng);
    for (const K kind : {K::add, K::mul, K::div}) {
      INFO("kind " << static_cast<int>(kind) << " a " << a.floats.size() << " b "
                   << b.floats.size());
      const pare::graph::OpFn op = pare::graph::make_binary(kind, "Binary 'b'");
      // the reference: numpy broadcasting by explicit index arithmetic
      const std::size_t rank = s.a.size();
      std::vector<std::size_t> out(rank), sb(rank, 0), sa(rank, 0);
      std::vector<std::size_t> bs(rank, 1);
      for (std::size_t d = 0; d < s.b.size(); ++d) bs[rank - s.b.size() + d] = s.b[d];
      for (std::size_t d = 0; d < rank; ++d) out[d] = std::max(s.a[d], bs[d]);
      std::size_t stride_a = 1, stride_b = 1;
      for (std::size_t d = rank; d-- > 0;) {
        sa[d] = s.a[d] == 1 ? 0 : stride_a;
        sb[d] = bs[d] == 1 ? 0 : stride_b;
        stride_a *= s.a[d];
        stride_b *= bs[d];
      }
      std::size_t total = 1;
      for (const std::size_t d : out) total *= d;
      std::vector<double> ref(total);
      for (std::size_t o = 0; o < total; ++o) {
        std::size_t q = o, ia = 0, ib = 0;
        for (std::size_t d = rank; d-- > 0;) {
          ia += (q % out[d]) * sa[d];
          ib += (q % out[d]) * sb[d];
          q /= out[d];
        }
        const float u = a.floats[ia], v = b.floats[ib];
        ref[o] = kind == K::add ? u + v : kind == K::mul ? u * v : u / v;
      }
      check_threads([&] { return run_op(op, {&a, &b}); }, &ref, 0.0);
    }
  }
}

TEST_CASE(
    "graph LayerNormalization and GroupNormalization give the same bits on 1, 2 and 3 "
    "threads",
    "[kernels][graph][threads]") {
  pare::Rng rng(27);
  const pare::graph::Value x = random_value({6, 5, 33}, rng);
  SECTION("LayerNormalization over the last axis, with Mean and InvStdDev") {
    const pare::graph::Value scale = random_value({33}, rng), bias = random_value({33}, rng);
    pare::graph::GraphNode node;
    node.op_type = "LayerNormalization";
    node.name = "ln";
    const pare::graph::OpFn op = pare::graph::make_tensor_op(node, 17);
    REQUIRE(op);
    std::vector<double> ref;
    for (std::size_t r = 0; r < 30; ++r) {
      double m = 0, v = 0;
      for (std::size_t i = 0; i < 33; ++i) m += x.floats[r * 33 + i];
      m /= 33;
      for (std::size_t i = 0; i < 33; ++i)
        v += (x.floats[r * 33 + i] - m) * (x.floats[r * 33 + i] - m);
      const double inv = 1.0 / std::sqrt(v / 33 + 1e-5);
      for (std::size_t i = 0; i < 33; ++i)
        ref.push_back((x.floats[r * 33 + i] - m) * inv * scale.floats[i] + bias.floats[i]);
    }
    check_threads(
        // Y, Mean and InvStdDev, all bit-checked
        [&] { return run_op(op, {&x, &scale, &bias}, 3); });
    const pare::ParallelismScope one({.threads = 1});
    const std::vector<float> y = run_op(op, {&x, &scale, &bias});
    for (std::size_t i = 0; i < ref.size(); ++i) CHECK(std::abs(y[i] - ref[i]) <= 1e-4);
  }
  SECTION("InstanceNormalization") {
    const pare::graph::Value scale = random_value({5}, rng), bias = random_value({5}, rng);
    pare::graph::GraphNode node;
    node.op_type = "InstanceNormalization";
    node.name = "in";
    const pare::graph::OpFn op = pare::graph::make_tensor_op(node, 17);
    REQUIRE(op);
    check_threads([&] { return run_op(op, {&x, &scale, &bias}); });
  }
}

TEST_CASE("dynamic row quantization gives the same codes on 1, 2 and 3 threads",
          "[kernels][quantize][threads]") {
  pare::Rng rng(28);
  const std::size_t rows = 13, cols = 75, ldx = 80;
  auto x = test::normal(rows * ldx, rng);
  x[5] = 40.0f;  // one row with an outlier
  for (const bool s8 : {false, true}) {
    INFO((s8 ? "s8" : "u8"));
    auto run = [&](bool reference) {
      std::vector<float> out;
      std::vector<float> scales(rows);
      std::vector<std::int32_t> zeros(rows);
      if (s8) {
        std::vector<std::int8_t> q(rows * cols);
        pare::quantize_rows_s8(x.data(), rows, cols, ldx, q.data(), cols, scales.data(), reference);
        out.assign(q.begin(), q.end());
      } else {
        std::vector<std::uint8_t> q(rows * cols);
        pare::quantize_rows_u8(x.data(), rows, cols, ldx, q.data(), cols, scales.data(),
                               zeros.data(), reference);
        out.assign(q.begin(), q.end());
      }
      out.insert(out.end(), scales.begin(), scales.end());
      out.insert(out.end(), zeros.begin(), zeros.end());
      return out;
    };
    // the scalar reference path, one thread: every tier and thread count must give its codes
    std::vector<double> ref;
    {
      const pare::ParallelismScope one({.threads = 1});
      for (const float v : run(true)) ref.push_back(v);
    }
    check_threads([&] { return run(false); }, &ref, 0.0);
  }
}

TEST_CASE(
    "graph MaxPool, AveragePool and GlobalAveragePool give the same bits on 1, 2 and 3 "
    "threads",
    "[kernels][pool][threads]") {
  pare::Rng rng(29);
  const pare::graph::Value x = random_value({2, 5, 9, 11}, rng);
  auto ints = [](std::vector<std::int64_t> v) {
    pare::graph::Attribute a;
    a.kind = pare::graph::Attribute::Kind::ints;
    a.ints = std::move(v);
    return a;
  };
  for (const auto kind : {pare::graph::PoolKind::max, pare::graph::PoolKind::average}) {
    for (const bool two : {true, false}) {
      INFO((kind == pare::graph::PoolKind::max ? "max" : "average") << (two ? " 2x2/2" : " 3x3/2"));
      pare::graph::Attributes attrs("pool");
      attrs.set("kernel_shape",
                ints(two ? std::vector<std::int64_t>{2, 2} : std::vector<std::int64_t>{3, 3}));
      attrs.set("strides", ints({2, 2}));
      if (!two) attrs.set("pads", ints({1, 1, 1, 1}));
      const pare::graph::OpFn op = pare::graph::make_pool(kind, attrs);
      // the reference: each window by index arithmetic (padding excluded from averages)
      const std::size_t k = two ? 2 : 3, pad = two ? 0 : 1;
      const std::size_t oh = (9 + 2 * pad - k) / 2 + 1, ow = (11 + 2 * pad - k) / 2 + 1;
      std::vector<double> ref;
      for (std::size_t c = 0; c < 10; ++c)
        for (std::size_t oy = 0; oy < oh; ++oy)
          for (std::size_t ox = 0; ox < ow; ++ox) {
            double m = -INFINITY, s = 0;
            std::size_t count = 0;
            for (std::size_t ky = 0; ky < k; ++ky)
              for (std::size_t kx = 0; kx < k; ++kx) {
                const std::size_t y = oy * 2 + ky, xx = ox * 2 + kx;
                if (y < pad || xx < pad || y - pad >= 9 || xx - pad >= 11) continue;
                const float v = x.floats[(c * 9 + y - pad) * 11 + xx - pad];
                m = std::max(m, static_cast<double>(v));
                s += v;
                ++count;
              }
            ref.push_back(kind == pare::graph::PoolKind::max ? m : s / static_cast<double>(count));
          }
      check_threads([&] { return run_op(op, {&x}); }, &ref, 1e-6);
    }
  }
  const pare::graph::OpFn gap = pare::graph::make_global_average_pool(pare::graph::Attributes("g"));
  std::vector<double> ref(10, 0.0);
  for (std::size_t c = 0; c < 10; ++c) {
    for (std::size_t i = 0; i < 99; ++i) ref[c] += x.floats[c * 99 + i];
    ref[c] /= 99;
  }
  check_threads([&] { return run_op(gap, {&x}); }, &ref, 1e-6);
}

TEST_CASE("SparseGPT gives the same weights and mask on 1, 2 and 3 threads",
          "[kernels][sparsegpt][threads]") {
  pare::Rng rng(30);
  const std::size_t rows = 23, cols = 48, samples = 150;
  const auto w0 = test::normal(rows * cols, rng);
  const auto x = test::normal(samples * cols, rng);
  pare::LayerHessian h(cols);
  h.add(TensorView<const float, 2>(x.data(), {samples, cols}));
  pare::SparseGptOptions opt;
  opt.block_size = 16;
  for (const bool nm : {false, true}) {
    INFO((nm ? "2:4" : "50%"));
    check_threads([&] {
      std::vector<float> w = w0;
      const TensorView<float, 2> wv(w.data(), {rows, cols});
      const auto r = nm ? pare::sparsegpt(wv, h.matrix(), pare::NM<2, 4>{}, opt)
                        : pare::sparsegpt(wv, h.matrix(), 0.5, opt);
      w.insert(w.end(), r.mask.data(), r.mask.data() + r.mask.size());
      return w;
    });
  }
}

TEST_CASE("AWQ's search gives the same errors and scales on 1, 2 and 3 threads",
          "[kernels][awq][threads]") {
  pare::Rng rng(31);
  const std::size_t out = 9, in = 64, samples = 37;
  const auto w = test::normal(out * in, rng);
  auto x = test::normal(samples * in, rng);
  for (std::size_t n = 0; n < samples; ++n) x[n * in + 5] *= 20.0f;  // one salient channel
  using Q = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>>;
  check_threads([&] {
    const auto r = pare::awq_search(Q{}, TensorView<const float, 2>(w.data(), {out, in}),
                                    TensorView<const float, 2>(x.data(), {samples, in}));
    std::vector<float> v(r.scales.begin(), r.scales.end());
    for (const double e : r.errors) v.push_back(static_cast<float>(e));
    v.push_back(r.alpha);
    return v;
  });
}

TEST_CASE("Sgd and Adam steps give the same bits on 1, 2 and 3 threads",
          "[kernels][optim][threads]") {
  pare::Rng rng(32);
  const std::size_t n = 1003;
  const auto v0 = test::normal(n, rng), g0 = test::normal(n, rng), g1 = test::normal(n, rng);
  auto steps = [&](auto opt) {
    std::vector<float> v = v0, g = g0;
    const pare::Parameter p{v, g};
    opt.step(std::span<const pare::Parameter>(&p, 1));
    g = g1;
    opt.step(std::span<const pare::Parameter>(&p, 1));
    return v;
  };
  // the reference: torch.optim.SGD's update (momentum 0.9, weight decay 0.01), by hand
  std::vector<double> ref(n);
  for (std::size_t k = 0; k < n; ++k) {
    float v = v0[k];
    float g = g0[k] + 0.01f * v;
    float b = g;
    v -= 0.1f * b;
    g = g1[k] + 0.01f * v;
    b = 0.9f * b + g;
    v -= 0.1f * b;
    ref[k] = v;
  }
  check_threads(
      [&] { return steps(pare::Sgd{.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f}); }, &ref,
      1e-6);
  check_threads([&] { return steps(pare::Adam{.lr = 0.01f}); });
}

TEST_CASE("quantize_minmax and dequantize_fast give the same bits on 1, 2 and 3 threads",
          "[kernels][quantize][threads]") {
  pare::Rng rng(33);
  const std::size_t rows = 37, cols = 64;
  const auto w = test::normal(rows * cols, rng);
  const TensorView<const float, 2> wv(w.data(), {rows, cols});
  auto check = [&](auto quantizer) {
    using Q = decltype(quantizer);
    // the Quantizer's scalar path, which quantize_minmax equals bit for bit
    const pare::Tensor<float, 2> slow = pare::dequantize(quantizer.quantize(wv));
    const std::vector<double> ref(slow.data(), slow.data() + slow.size());
    check_threads(
        [&] {
          const auto q = pare::quantize_minmax<typename Q::format_type>(wv, quantizer.scheme,
                                                                        quantizer.granularity);
          const pare::Tensor<float, 2> y = pare::dequantize_fast(q);
          return std::vector<float>(y.data(), y.data() + y.size());
        },
        &ref, 0.0);
  };
  check(pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerTensor, pare::MinMax>{});
  check(pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel, pare::MinMax>{});
  check(pare::Quantizer<pare::UInt<4>, pare::Affine, pare::PerGroup<32>, pare::MinMax>{});
}
