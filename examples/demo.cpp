// SPDX-License-Identifier: Apache-2.0
// pare demo: train a small MLP on the UCI digits, then report its accuracy, size and latency.
//
//   demo [data-dir]      (default: pare's examples/data)
//
// Later steps of this demo (distillation, pruning, quantization, saving) start from the model
// trained here.
#include <chrono>
#include <cstdio>
#include <string>

#include "pare/io/digits.hpp"
#include "pare/nn/adam.hpp"
#include "pare/nn/batches.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/loss.hpp"
#include "pare/nn/metrics.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"
#include "pare/quant.hpp"

#ifndef PARE_EXAMPLES_DATA_DIR  // set by examples/CMakeLists.txt; a copied demo looks here
#define PARE_EXAMPLES_DATA_DIR "examples/data"
#endif

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Mean time of a single-sample forward pass (the path an application calls per request).
template <class Model>
double latency_us(const Model& model, const pare::Dataset& data) {
  volatile std::int32_t sink = 0;
  for (std::size_t i = 0; i < 100; ++i)
    sink = pare::predict(model, data.x[i % data.size()]);  // warm-up
  const std::size_t n = 20000;
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) sink = pare::predict(model, data.x[i % data.size()]);
  (void)sink;
  return ms_since(t0) * 1e3 / static_cast<double>(n);
}

// Post-training weight quantization of every Linear layer with quantizer Q. The model computes
// with what the codes stand for (dequantized f32 weights); the bytes are those of the packed
// codes, scales and biases, which is what a saved model holds.
template <class Q, class Model>
void print_quantized(const char* name, Model model, const pare::Dataset& test) {
  std::size_t bytes = 0;
  auto quantize = [&](pare::Linear& fc) {
    const auto q = Q{}.quantize(fc.weight().view());
    fc.weight() = pare::dequantize(q);
    bytes += q.size_bytes() + fc.bias().size_bytes();
  };
  quantize(model.template layer<0>());
  quantize(model.template layer<2>());
  quantize(model.template layer<4>());
  std::printf("%-26s %10zu %10zu %8.2f%% %13s\n", name, model.parameter_count(), bytes,
              100 * pare::accuracy(model, test), "(as f32)");
}

}  // namespace

int main(int argc, char** argv) try {
  const auto t_start = Clock::now();
  const std::string dir = argc > 1 ? argv[1] : PARE_EXAMPLES_DATA_DIR;
  const auto [train, test] = pare::train_test_split(pare::load_digits(dir + "/digits.csv"));
  std::printf("digits: %zu train, %zu test samples of %zu pixels\n", train.size(), test.size(),
              train.features());

  pare::Rng rng(42);
  pare::Sequential model{pare::Linear(64, 128, rng), pare::ReLU{},  //
                         pare::Linear(128, 64, rng), pare::ReLU{},  //
                         pare::Linear(64, 10, rng)};
  pare::Adam opt{.lr = 1e-3f};
  pare::BatchLoader batches(train, 32, /*seed=*/7);

  const int epochs = 20;
  std::printf("%5s  %8s  %9s  %8s  %7s\n", "epoch", "loss", "train acc", "test acc", "ms");
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const auto t0 = Clock::now();
    double loss_sum = 0;
    for (const pare::Batch& b : batches.epoch()) {
      model.zero_grad();
      auto [loss, grad] = pare::softmax_cross_entropy(model.forward(b.x), b.y);
      (void)model.backward(grad);
      opt.step(model.parameters());
      loss_sum += loss * static_cast<double>(b.y.size());
    }
    const double ms = ms_since(t0);
    std::printf("%5d  %8.4f  %8.2f%%  %7.2f%%  %7.1f\n", epoch,
                loss_sum / static_cast<double>(train.size()), 100 * pare::accuracy(model, train),
                100 * pare::accuracy(model, test), ms);
  }

  std::printf("\n%-26s %10s %10s %9s %13s\n", "model", "parameters", "bytes", "test acc",
              "latency (us)");
  std::printf("%-26s %10zu %10zu %8.2f%% %13.2f\n", "mlp 64-128-64-10 f32", model.parameter_count(),
              model.size_bytes(), 100 * pare::accuracy(model, test), latency_us(model, test));
  using Int8PerChannel = pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel>;
  using Int4Group32 =
      pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>, pare::MseSearch>;
  print_quantized<Int8PerChannel>("  weights int8/channel", model, test);
  print_quantized<Int4Group32>("  weights int4/group32 mse", model, test);
  std::printf("\ntotal %.0f ms\n", ms_since(t_start));
  return 0;
} catch (const pare::Error& e) {
  std::fprintf(stderr, "demo: %s\n", e.what());
  return 1;
}
