// SPDX-License-Identifier: Apache-2.0
#include "pare/nn/linear_int8.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "pare/io/digits.hpp"
#include "pare/nn/adam.hpp"
#include "pare/nn/batches.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/loss.hpp"
#include "pare/nn/metrics.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"
#include "pare/quant/dynamic_kernels.hpp"
#include "quant/reference_file.hpp"

namespace {

struct TorchRefs {
  std::size_t in = 0, out = 0, rows = 0;
  std::vector<float> weight, bias, x, wcode, wscale, xscale, xzero, y;
};

const TorchRefs& torch_refs() {
  static const TorchRefs r = [] {
    const auto recs =
        pare::test::read_records(std::string(PARE_TEST_DATA_DIR) + "/quant/int8_linear.txt");
    TorchRefs t;
    auto get = [&](const std::string& key) { return pare::test::with_key(recs, key).at(0); };
    const auto shape = get("shape").floats();
    t.in = static_cast<std::size_t>(shape.at(0));
    t.out = static_cast<std::size_t>(shape.at(1));
    t.rows = static_cast<std::size_t>(shape.at(2));
    t.weight = get("weight").floats();
    t.bias = get("bias").floats();
    t.x = get("x").floats();
    t.wcode = get("wcode").floats();
    t.wscale = get("wscale").floats();
    t.xscale = get("xscale").floats();
    t.xzero = get("xzero").floats();
    t.y = get("y").floats();
    return t;
  }();
  return r;
}

pare::Linear torch_linear(const TorchRefs& t) {
  pare::Linear fc(t.in, t.out);
  std::copy(t.weight.begin(), t.weight.end(), fc.weight().data());
  std::copy(t.bias.begin(), t.bias.end(), fc.bias().data());
  return fc;
}

}  // namespace

TEST_CASE("Int8Linear quantizes like PyTorch's dynamic quantized Linear", "[nn][int8]") {
  const TorchRefs& t = torch_refs();
  const pare::Linear fc = torch_linear(t);
  const pare::TensorView<const float, 2> x(t.x.data(), {t.rows, t.in});
  for (pare::Int8Path path : pare::available_int8_paths()) {
    INFO("path " << pare::to_string(path));
    const pare::Int8Linear q(fc, path);
    // Weights: torch.quantize_per_channel's codes and our scales (max|w| / 127).
    for (std::size_t n = 0; n < t.out; ++n) {
      CHECK(q.weight_scales()[n] == t.wscale[n]);
      for (std::size_t k = 0; k < t.in; ++k)
        REQUIRE(static_cast<float>(q.weights().at(n, k)) == t.wcode[n * t.in + k]);
    }
    // Activations: the per-row parameters torch.quantize_per_tensor_dynamic chooses.
    for (std::size_t r = 0; r < t.rows; ++r) {
      float lo = 0, hi = 0;
      pare::kernels::minmax_reference(t.x.data() + r * t.in, t.in, lo, hi);
      const pare::QuantParams p = pare::choose_u8_params(lo, hi);
      CHECK(p.scale == t.xscale[r]);
      CHECK(static_cast<float>(p.zero_point) == t.xzero[r]);
    }
    // Outputs: the same integers; only the order of the f32 dequantization differs (a few ulp of
    // the largest term s_x s_w |acc|, bounded here by 1e-5 of the row's output scale).
    const auto y = q.infer(x);
    for (std::size_t r = 0; r < t.rows; ++r) {
      double scale = 1e-6;
      for (std::size_t n = 0; n < t.out; ++n)
        scale = std::max(scale, std::abs(static_cast<double>(t.y[r * t.out + n])));
      for (std::size_t n = 0; n < t.out; ++n) {
        INFO("row " << r << " col " << n);
        CHECK(std::abs(y(r, n) - t.y[r * t.out + n]) <= 1e-5 * scale);
      }
    }
    // One sample through the GEMV path: the same numbers as the batch.
    for (std::size_t r = 0; r < t.rows; ++r) {
      std::vector<float> yr(t.out);
      q.infer(pare::TensorView<const float, 1>(t.x.data() + r * t.in, {t.in}),
              pare::TensorView<float, 1>(yr.data(), {t.out}));
      for (std::size_t n = 0; n < t.out; ++n) CHECK(yr[n] == y(r, n));
    }
  }
}

TEST_CASE("Int8Linear with a static activation scale computes the affine formula", "[nn][int8]") {
  const TorchRefs& t = torch_refs();
  const pare::Linear fc = torch_linear(t);
  const pare::QuantParams act = pare::choose_u8_params(-3.0f, 4.0f);
  const pare::Int8Linear q(fc, act);
  REQUIRE(q.static_activation().has_value());
  const auto y = q.infer(pare::TensorView<const float, 2>(t.x.data(), {t.rows, t.in}));
  for (std::size_t r = 0; r < t.rows; ++r)
    for (std::size_t n = 0; n < t.out; ++n) {
      std::int64_t acc = 0;
      for (std::size_t k = 0; k < t.in; ++k) {
        const float c = std::nearbyint(t.x[r * t.in + k] * (1.0f / act.scale));
        const auto code = static_cast<std::int64_t>(
            std::clamp(static_cast<std::int32_t>(c) + act.zero_point, 0, 255));
        acc += (code - act.zero_point) * q.weights().at(n, k);
      }
      const float want =
          std::fma(static_cast<float>(acc), act.scale * q.weight_scales()[n], t.bias[n]);
      CHECK(y(r, n) == want);
    }
  CHECK_THROWS_AS(pare::Int8Linear(fc, pare::QuantParams{0.0f, 0}), pare::ArgumentError);
  CHECK_THROWS_AS(pare::Int8Linear(fc, pare::QuantParams{1.0f, 256}), pare::ArgumentError);
}

TEST_CASE("Int8Linear rejects bad shapes and training", "[nn][int8]") {
  pare::Linear fc(5, 3);
  pare::Int8Linear q(fc);
  CHECK(q.output_size(5) == 3);
  CHECK_THROWS_AS(q.output_size(4), pare::ShapeError);
  pare::Tensor<float, 2> x({2, 4});
  CHECK_THROWS_AS(q.infer(x.view()), pare::ShapeError);
  pare::Tensor<float, 2> g({2, 3});
  CHECK_THROWS_AS(q.backward(g.view()), pare::UnsupportedError);
  pare::Tensor<float, 2> ok({0, 5});
  CHECK(q.infer(ok.view()).extent(0) == 0);
}

TEST_CASE("the digits MLP quantized with Int8Linear loses at most 0.5 points", "[nn][int8]") {
  const auto [train, test] = pare::train_test_split(
      pare::load_digits(std::string(PARE_EXAMPLES_DATA_DIR) + "/digits.csv"));
  pare::Rng rng(42);
  constexpr std::size_t hidden = PARE_FULL_SWEEP ? 128 : 32;
  constexpr int epochs = PARE_FULL_SWEEP ? 20 : 6;  // Debug + sanitizers: smaller and faster
  constexpr float lr = PARE_FULL_SWEEP ? 1e-3f : 3e-3f;
  pare::Sequential model{pare::Linear(64, hidden, rng), pare::ReLU{}, pare::Linear(hidden, 64, rng),
                         pare::ReLU{}, pare::Linear(64, 10, rng)};
  pare::Adam opt{.lr = lr};
  pare::BatchLoader batches(train, 32, 7);
  for (int e = 0; e < epochs; ++e)
    for (const pare::Batch& b : batches.epoch()) {
      model.zero_grad();
      auto [loss, grad] = pare::softmax_cross_entropy(model.forward(b.x), b.y);
      (void)model.backward(grad);
      opt.step(model.parameters());
    }
  const double f32 = pare::accuracy(model, test);
  pare::Sequential q{pare::Int8Linear(model.layer<0>()), pare::ReLU{},
                     pare::Int8Linear(model.layer<2>()), pare::ReLU{},
                     pare::Int8Linear(model.layer<4>())};
  const double i8 = pare::accuracy(q, test);
  INFO("f32 " << f32 << " int8 " << i8);
  CHECK(f32 >= (PARE_FULL_SWEEP ? 0.95 : 0.85));  // training worked
  CHECK(i8 >= f32 - 0.005);
  // The single-sample path (GEMV) agrees with the batch path on the predicted classes.
  for (std::size_t i = 0; i < 50; ++i)
    CHECK(pare::predict(q, test.x[i]) == pare::predict(q, test.x.view().slice(0, i, i + 1))[0]);
}
