// SPDX-License-Identifier: Apache-2.0
// The threaded non-GEMM work on 1 and 2 threads (pare's pool):
//   threads/softmax/<rows>x<n>/t<threads>       pare::softmax row-wise
//   threads/graph_softmax/<rows>x<n>/t<threads>  the graph Softmax op along axis 0 (strided rows)
//   threads/soft_kl/<rows>x<classes>/t<threads>  SoftKL (T = 2) value and gradient
//   threads/gptq/<rows>x<cols>/t<threads>        gptq_dequantized with a round-to-grid rule
//   threads/{gelu,add,layer_norm}/<rows>x<n>/t<threads>  graph Gelu, Add of a [n] bias, and
//                                                 LayerNormalization over the last axis
// Small sizes are there to show that work under a task's grain stays on the calling thread (t2
// no slower than t1). Compare tN with interleaved repetitions on a shared machine:
//   pare_threads_bench --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../common/main.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/distill/soft_kl.hpp"
#include "pare/kernels/softmax.hpp"
#include "pare/linalg/layer_hessian.hpp"
#include "pare/nn/graph/attributes.hpp"
#include "pare/nn/graph/elementwise.hpp"
#include "pare/nn/graph/graph.hpp"
#include "pare/nn/graph/softmax.hpp"
#include "pare/nn/graph/tensor_ops.hpp"
#include "pare/nn/graph/value.hpp"
#include "pare/quant/gptq.hpp"

namespace {

std::vector<float> normal(std::size_t n, std::uint64_t seed) {
  pare::Rng rng(seed);
  std::vector<float> v(n);
  for (auto& e : v) e = rng.normal();
  return v;
}

std::string name(const char* op, std::size_t a, std::size_t b, std::size_t t) {
  return std::string("threads/") + op + "/" + std::to_string(a) + "x" + std::to_string(b) + "/t" +
         std::to_string(t);
}

void softmax_bench(benchmark::State& st, std::size_t rows, std::size_t n, std::size_t threads) {
  const pare::ParallelismScope scope({.threads = threads});
  const auto x = normal(rows * n, 1);
  std::vector<float> y(rows * n);
  for (auto _ : st) {
    pare::softmax(pare::TensorView<const float, 2>(x.data(), {rows, n}),
                  pare::TensorView<float, 2>(y.data(), {rows, n}));
    benchmark::DoNotOptimize(y.data());
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * rows * n * 2 * sizeof(float)));
}

void graph_softmax_bench(benchmark::State& st, std::size_t rows, std::size_t n,
                         std::size_t threads) {
  const pare::ParallelismScope scope({.threads = threads});
  pare::graph::Value x;
  x.shape = {n, rows};  // softmax along axis 0: `rows` strided rows of n
  x.floats = normal(rows * n, 2);
  pare::graph::Attributes attrs("sm");
  pare::graph::Attribute axis;
  axis.kind = pare::graph::Attribute::Kind::int64;
  axis.i = 0;
  attrs.set("axis", axis);
  const pare::graph::OpFn op = pare::graph::make_softmax(attrs, 13);
  pare::graph::Value y;
  const pare::graph::Value* ins[] = {&x};
  pare::graph::Value* outs[] = {&y};
  for (auto _ : st) {
    op(ins, outs);
    benchmark::DoNotOptimize(y.floats.data());
  }
}

// Runs a graph op on float inputs of the given shapes.
void run_graph_op(benchmark::State& st, const pare::graph::OpFn& op,
                  std::vector<pare::graph::Value> inputs) {
  std::vector<const pare::graph::Value*> ins;
  for (const auto& v : inputs) ins.push_back(&v);
  pare::graph::Value y;
  pare::graph::Value* outs[] = {&y};
  for (auto _ : st) {
    op(ins, outs);
    benchmark::DoNotOptimize(y.floats.data());
  }
}

pare::graph::Value value(std::vector<std::size_t> shape, std::uint64_t seed) {
  pare::graph::Value v;
  std::size_t n = 1;
  for (const std::size_t d : shape) n *= d;
  v.shape = std::move(shape);
  v.floats = normal(n, seed);
  return v;
}

void gelu_bench(benchmark::State& st, std::size_t rows, std::size_t n, std::size_t threads) {
  const pare::ParallelismScope scope({.threads = threads});
  run_graph_op(st, pare::graph::make_unary(pare::graph::UnaryKind::gelu, "Gelu 'g'"),
               {value({rows, n}, 7)});
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * rows * n));
}

void add_bench(benchmark::State& st, std::size_t rows, std::size_t n, std::size_t threads) {
  const pare::ParallelismScope scope({.threads = threads});
  // [rows, n] + [n]: a bias broadcast along the rows
  run_graph_op(st, pare::graph::make_binary(pare::graph::BinaryKind::add, "Add 'a'"),
               {value({rows, n}, 8), value({n}, 9)});
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * rows * n));
}

void layer_norm_bench(benchmark::State& st, std::size_t rows, std::size_t n, std::size_t threads) {
  const pare::ParallelismScope scope({.threads = threads});
  pare::graph::GraphNode node;
  node.op_type = "LayerNormalization";
  node.name = "ln";
  run_graph_op(st, pare::graph::make_tensor_op(node, 17),
               {value({rows, n}, 10), value({n}, 11), value({n}, 12)});
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * rows * n));
}

void soft_kl_bench(benchmark::State& st, std::size_t rows, std::size_t c, std::size_t threads) {
  const pare::ParallelismScope scope({.threads = threads});
  const auto s = normal(rows * c, 3), t = normal(rows * c, 4);
  std::vector<float> g(rows * c);
  const pare::DistillBatch b{
      .student_logits = pare::TensorView<const float, 2>(s.data(), {rows, c}),
      .teacher_logits = pare::TensorView<const float, 2>(t.data(), {rows, c})};
  const pare::SoftKL loss{.temperature = 2.0f};
  for (auto _ : st) {
    benchmark::DoNotOptimize(
        loss.accumulate(b, 1.0f, {.logits = pare::TensorView<float, 2>(g.data(), {rows, c})}));
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * rows * c * 3 * sizeof(float)));
}

void gptq_bench(benchmark::State& st, std::size_t rows, std::size_t cols, std::size_t threads) {
  const pare::ParallelismScope scope({.threads = threads});
  const auto w = normal(rows * cols, 5);
  const std::size_t samples = 2 * cols;
  const auto x = normal(samples * cols, 6);
  pare::LayerHessian h(cols);
  h.add(pare::TensorView<const float, 2>(x.data(), {samples, cols}));
  const pare::GptqOptions opt;
  for (auto _ : st) {
    auto q = pare::gptq_dequantized(
        pare::TensorView<const float, 2>(w.data(), {rows, cols}), h, opt,
        [&](std::size_t, pare::TensorView<const double, 2>, pare::TensorView<const double, 1> col,
            pare::TensorView<double, 1> qc) {
          for (std::size_t r = 0; r < rows; ++r) qc(r) = std::round(col(r) * 8.0) / 8.0;
        });
    benchmark::DoNotOptimize(q.data());
  }
}

void register_all() {
  using Fn = void (*)(benchmark::State&, std::size_t, std::size_t, std::size_t);
  struct Case {
    const char* op;
    Fn fn;
    std::size_t a, b;
  };
  const Case cases[] = {
      {"softmax", softmax_bench, 4, 256},
      {"softmax", softmax_bench, 64, 4096},
      {"softmax", softmax_bench, 512, 32000},
      {"graph_softmax", graph_softmax_bench, 64, 64},
      {"graph_softmax", graph_softmax_bench, 4096, 64},
      {"soft_kl", soft_kl_bench, 4, 1000},
      {"soft_kl", soft_kl_bench, 512, 32000},
      {"gptq", gptq_bench, 64, 64},
      {"gptq", gptq_bench, 1024, 1024},
      {"gelu", gelu_bench, 4, 256},
      {"gelu", gelu_bench, 1024, 4096},
      {"add", add_bench, 4, 256},
      {"add", add_bench, 1024, 4096},
      {"layer_norm", layer_norm_bench, 4, 256},
      {"layer_norm", layer_norm_bench, 64, 4096},
  };
  for (const Case& c : cases)
    for (const std::size_t t : {1, 2}) {
      auto* b = benchmark::RegisterBenchmark(
          name(c.op, c.a, c.b, t).c_str(), [c, t](benchmark::State& st) { c.fn(st, c.a, c.b, t); });
      b->Unit(benchmark::kMicrosecond);
      if (std::string(c.op) == "gptq" && c.a >= 1024) b->Iterations(2);
    }
}

}  // namespace

int main(int argc, char** argv) { return pare::bench::run(argc, argv, register_all); }
