// SPDX-License-Identifier: Apache-2.0
#include "pare/quant/fake_quant.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "pare/core/random.hpp"
#include "pare/io/digits.hpp"
#include "pare/nn/adam.hpp"
#include "pare/nn/batches.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/loss.hpp"
#include "pare/nn/metrics.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"
#include "pare/quant.hpp"
#include "quant/reference_file.hpp"

namespace {

const std::string data_dir = std::string(PARE_TEST_DATA_DIR) + "/quant/";

// One block of fake_quant.txt: a header record followed by its named vectors.
struct FqCase {
  pare::test::Record header;
  std::vector<float> scales, zps, x, dy, ste_y, ste_dx, lsq_y, lsq_dx, lsq_dscale, lsq_dzp;
};

std::vector<FqCase> fq_cases() {
  std::vector<FqCase> out;
  for (const auto& r : pare::test::read_records(data_dir + "fake_quant.txt")) {
    if (r.key == "tensor" || r.key == "channel") {
      out.push_back({r, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}});
      continue;
    }
    auto& c = out.back();
    const auto v = r.floats();
    if (r.key == "scales")
      c.scales = v;
    else if (r.key == "zps")
      c.zps = v;
    else if (r.key == "x")
      c.x = v;
    else if (r.key == "dy")
      c.dy = v;
    else if (r.key == "ste_y")
      c.ste_y = v;
    else if (r.key == "ste_dx")
      c.ste_dx = v;
    else if (r.key == "lsq_y")
      c.lsq_y = v;
    else if (r.key == "lsq_dx")
      c.lsq_dx = v;
    else if (r.key == "lsq_dscale")
      c.lsq_dscale = v;
    else if (r.key == "lsq_dzp")
      c.lsq_dzp = v;
  }
  return out;
}

// |a - b| <= rel * max(|b|, floor): relative, with an absolute floor for values near 0.
bool close(double a, double b, double rel, double floor) {
  return std::abs(a - b) <= rel * std::max(std::abs(b), floor);
}

}  // namespace

TEST_CASE("FakeQuantize and LearnedStepSize match PyTorch per tensor and per channel",
          "[quant][qat][reference]") {
  const auto cases = fq_cases();
  REQUIRE(cases.size() == 7);
  for (const auto& c : cases) {
    const auto& h = c.header.tokens;
    const bool per_channel = c.header.key == "channel";
    INFO(c.header.key << " " << h[0]);
    pare::CodeRange codes{};
    std::vector<float> scales, zps;
    float g = 0;
    if (per_channel) {
      codes = {std::stoi(h[1]), std::stoi(h[2])};
      g = std::stof(h[3]);
      scales = c.scales;
      zps = c.zps;
    } else {
      codes = {std::stoi(h[3]), std::stoi(h[4])};
      g = std::stof(h[5]);
      scales = {std::stof(h[1])};
      zps = {std::stof(h[2])};
    }
    const std::size_t rows = scales.size();
    const std::size_t cols = c.x.size() / rows;
    pare::TensorView<const float, 2> x(c.x.data(), {rows, cols});
    pare::TensorView<const float, 2> dy(c.dy.data(), {rows, cols});

    // STE: forward values bit for bit, gradient mask exactly.
    std::vector<pare::QuantParams> params;
    for (std::size_t i = 0; i < rows; ++i)
      params.push_back({scales[i], static_cast<std::int32_t>(zps[i])});
    pare::FakeQuantize fq =
        rows == 1 ? pare::FakeQuantize(params[0], codes) : pare::FakeQuantize(params, codes);
    const auto y = fq.forward(x);
    const auto dx = fq.backward(dy);
    std::size_t y_mismatch = 0, dx_mismatch = 0, clipped = 0;
    for (std::size_t i = 0; i < c.x.size(); ++i) {
      y_mismatch += y.data()[i] != c.ste_y[i];
      dx_mismatch += dx.data()[i] != c.ste_dx[i];
      clipped += fq.mask()[i] == 0;
    }
    CHECK(y_mismatch == 0);
    CHECK(dx_mismatch == 0);
    CHECK(clipped > 0);  // the data reach beyond the clipping range
    CHECK(clipped < c.x.size() / 2);

    // LSQ: forward and input gradient exact; scale and zero-point gradients are sums (torch sums
    // in float32), so 1e-5 relative, with an absolute floor of 1e-5 · Σ|terms| for sums that
    // cancel to near zero.
    pare::LearnedStepSize lsq(codes, scales, zps, g);
    const auto yl = lsq.forward(x);
    const auto dxl = lsq.backward(dy);
    std::size_t yl_mismatch = 0, dxl_mismatch = 0;
    for (std::size_t i = 0; i < c.x.size(); ++i) {
      yl_mismatch += yl.data()[i] != c.lsq_y[i];
      dxl_mismatch += dxl.data()[i] != c.lsq_dx[i];
    }
    CHECK(yl_mismatch == 0);
    CHECK(dxl_mismatch == 0);
    REQUIRE(c.lsq_dscale.size() == rows);
    double dy_scale = 0;
    for (float v : c.dy) dy_scale += std::abs(v);
    for (std::size_t k = 0; k < rows; ++k) {
      INFO("channel " << k);
      CHECK(close(lsq.scale_grad()[k], c.lsq_dscale[k], 1e-5, 1e-5 * g * dy_scale));
      CHECK(close(lsq.zero_point_grad()[k], c.lsq_dzp[k], 1e-5, 1e-5 * g * scales[k] * dy_scale));
    }
    // Gradients accumulate until zero_grad.
    const float once = lsq.scale_grad()[0];
    (void)lsq.backward(dy);
    CHECK(lsq.scale_grad()[0] == Approx(2 * once).epsilon(1e-6));
    lsq.zero_grad();
    CHECK(lsq.scale_grad()[0] == 0.0f);
  }
}

TEST_CASE("LSQ gradients: finite differences where y is differentiable in s", "[quant][qat]") {
  // Every element saturates (|x| far beyond the range): y = (qmax - z) s or (qmin - z) s, linear
  // in s, so the analytic dL/ds must equal the central difference of L(s) = Σ dy · y(s).
  pare::Rng rng(4);
  const pare::CodeRange codes{-8, 7};
  pare::Tensor<float, 2> x({3, 40}), dy({3, 40});
  for (float& v : x.span()) v = (rng.uniform() < 0.5f ? -1.0f : 1.0f) * rng.uniform(50.0f, 60.0f);
  for (float& v : dy.span()) v = rng.normal();
  const std::vector<float> scales{0.5f, 0.75f, 1.0f}, zps{0.0f, 2.0f, -3.0f};
  auto loss = [&](std::vector<float> s) {
    pare::LearnedStepSize l(codes, std::move(s), zps, 1.0f);
    const auto y = l.forward(x.view());
    double sum = 0;
    for (std::size_t i = 0; i < y.size(); ++i)
      sum += static_cast<double>(dy.data()[i]) * y.data()[i];
    return sum;
  };
  pare::LearnedStepSize lsq(codes, scales, zps, 1.0f);
  (void)lsq.forward(x.view());
  (void)lsq.backward(dy.view());
  for (std::size_t k = 0; k < 3; ++k) {
    auto up = scales, down = scales;
    up[k] += 1e-2f;
    down[k] -= 1e-2f;
    const double fd = (loss(up) - loss(down)) / static_cast<double>(up[k] - down[k]);
    CHECK(lsq.scale_grad()[k] == Approx(fd).epsilon(1e-4));
  }
  // Inside the range LSQ's ∂y/∂s = round(v) - v averages to 0 over a fine uniform sweep of x.
  pare::Tensor<float, 1> sweep({7001});
  for (std::size_t i = 0; i < sweep.size(); ++i) sweep(i) = -3.5f + 0.001f * static_cast<float>(i);
  pare::LearnedStepSize in(codes, {0.5f}, {}, 1.0f);
  (void)in.forward(sweep.view());
  (void)in.backward(pare::Tensor<float, 1>({7001}, 1.0f).view());
  CHECK(std::abs(in.scale_grad()[0]) / 7001.0 < 1e-3);
  // LSQ's initial scale: 2 mean|x| / sqrt(qmax).
  const std::vector<float> w{1.0f, -3.0f, 2.0f, -2.0f};
  CHECK(pare::lsq_initial_scale(w, codes) == Approx(2.0 * 2.0 / std::sqrt(7.0)));
  // Default grad factor: 1 / sqrt(N qmax) with N the forward input's size.
  CHECK(in.grad_factor(7001) == 1.0f);
  CHECK(pare::LearnedStepSize(codes, {1.0f}).grad_factor(28) == Approx(1.0 / 14.0));
}

TEST_CASE("FakeQuantize rejects mismatched shapes", "[quant][qat]") {
  pare::FakeQuantize fq(std::vector<pare::QuantParams>(3, {0.1f, 0}), {-8, 7});
  pare::Tensor<float, 2> x({4, 5});
  REQUIRE_THROWS_AS(fq.forward(x.view()), pare::ShapeError);
  pare::Tensor<float, 2> ok({3, 5});
  (void)fq.forward(ok.view());
  REQUIRE_THROWS_AS(fq.backward(x.view()), pare::ShapeError);
  pare::LearnedStepSize lsq({-8, 7}, {0.1f, 0.2f});
  REQUIRE_THROWS_WITH(lsq.forward(x.view()), Catch::Contains("[4, 5]"));
}

namespace {

// A Linear layer trained through fake-quantized weights (QAT with the straight-through
// estimator): latent float weights are kept; every forward quantizes them per output channel
// with Quantizer<F, Symmetric, PerChannel>'s parameters, and the weight gradient flows back to
// the latent weights where they were not clipped. A sketch of what nn/ could provide.
template <pare::QuantFormat F>
class QatLinear {
 public:
  explicit QatLinear(const pare::Linear& trained)
      : lin_(trained),
        latent_(trained.weight()),
        latent_grad_(latent_.extents()),
        bias_grad_(trained.bias().extents()),
        fq_(quantizer_params(latent_), codes()) {}

  [[nodiscard]] std::size_t output_size(std::size_t in) const { return lin_.output_size(in); }

  [[nodiscard]] pare::Tensor<float, 2> forward(pare::TensorView<const float, 2> x) {
    fq_.set_params(quantizer_params(latent_));
    lin_.weight() = fq_.forward(latent_.view());
    return lin_.forward(x);
  }

  [[nodiscard]] pare::Tensor<float, 2> backward(pare::TensorView<const float, 2> g) {
    lin_.for_each_parameter([](const pare::Parameter& p) {
      for (float& v : p.grad) v = 0;
    });
    auto grad_in = lin_.backward(g);
    const auto gw = fq_.backward(lin_.weight_grad().view());
    for (std::size_t i = 0; i < gw.size(); ++i) latent_grad_.data()[i] += gw.data()[i];
    for (std::size_t i = 0; i < bias_grad_.size(); ++i) bias_grad_(i) += lin_.bias_grad()(i);
    return grad_in;
  }

  [[nodiscard]] pare::Tensor<float, 2> infer(pare::TensorView<const float, 2> x) const {
    return deployed().infer(x);
  }
  void infer(pare::TensorView<const float, 1> x, pare::TensorView<float, 1> y) const {
    deployed().infer(x, y);
  }

  template <class Fn>
  void for_each_parameter(Fn&& f) {
    f(pare::Parameter{latent_.span(), latent_grad_.span()});
    f(pare::Parameter{lin_.bias().span(), bias_grad_.span()});
  }

  /// The layer as deployed: weights really quantized (QuantizedTensor) and dequantized.
  [[nodiscard]] pare::Linear deployed() const {
    pare::Linear out = lin_;
    out.weight() = pare::dequantize(Q{}.quantize(latent_.view()));
    return out;
  }

 private:
  using Q = pare::Quantizer<F, pare::Symmetric, pare::PerChannel>;
  static pare::CodeRange codes() { return pare::code_range_of<F>; }
  static std::vector<pare::QuantParams> quantizer_params(const pare::Tensor<float, 2>& w) {
    return Q{}.calibrate(w.view());
  }

  pare::Linear lin_;
  pare::Tensor<float, 2> latent_;
  pare::Tensor<float, 2> latent_grad_;
  pare::Tensor<float, 1> bias_grad_;
  pare::FakeQuantize fq_;
};

template <class Model>
void train(Model& model, const pare::Dataset& data, int epochs, float lr, std::uint64_t seed) {
  pare::Adam opt{.lr = lr};
  pare::BatchLoader loader(data, 32, seed);
  const auto params = model.parameters();
  for (int e = 0; e < epochs; ++e) {
    for (const pare::Batch& b : loader.epoch()) {
      model.zero_grad();
      const auto logits = model.forward(b.x.view());
      const auto lg = pare::softmax_cross_entropy(logits.view(), b.y.view());
      (void)model.backward(lg.grad.view());
      opt.step(params);
    }
  }
}

template <pare::QuantFormat F>
pare::Linear post_training_quantized(const pare::Linear& l) {
  pare::Linear out = l;
  out.weight() = pare::dequantize(
      pare::Quantizer<F, pare::Symmetric, pare::PerChannel>{}.quantize(l.weight().view()));
  return out;
}

}  // namespace

TEST_CASE("QAT with STE recovers int2 accuracy that post-training rounding loses", "[quant][qat]") {
  const auto [train_set, test_set] = pare::train_test_split(
      pare::load_digits(std::string(PARE_EXAMPLES_DATA_DIR) + "/digits.csv"));
  pare::Rng rng(7);
  pare::Sequential fp{pare::Linear(64, 32, rng), pare::ReLU{}, pare::Linear(32, 10, rng)};
  train(fp, train_set, 20, 1e-2f, 1);
  const double acc_fp = pare::accuracy(fp, test_set);

  auto ptq_accuracy = [&]<class F>(F) {
    pare::Sequential m{post_training_quantized<F>(fp.layer<0>()), pare::ReLU{},
                       post_training_quantized<F>(fp.layer<2>())};
    return pare::accuracy(m, test_set);
  };
  const double acc_ptq4 = ptq_accuracy(pare::Int<4>{});
  const double acc_ptq2 = ptq_accuracy(pare::Int<2>{});

  pare::Sequential qat{QatLinear<pare::Int<2>>(fp.layer<0>()), pare::ReLU{},
                       QatLinear<pare::Int<2>>(fp.layer<2>())};
  train(qat, train_set, 15, 3e-3f, 2);
  const double acc_qat2 = pare::accuracy(qat, test_set);  // infer = deployed (really quantized)
  pare::Sequential deployed{qat.layer<0>().deployed(), pare::ReLU{}, qat.layer<2>().deployed()};
  const double acc_deployed = pare::accuracy(deployed, test_set);

  INFO("float " << acc_fp << ", PTQ int4 " << acc_ptq4 << ", PTQ int2 " << acc_ptq2 << ", QAT int2 "
                << acc_qat2);
  CHECK(acc_fp > 0.93);
  CHECK(acc_ptq4 > acc_fp - 0.03);  // 4 bits per channel: rounding alone is nearly free
  CHECK(acc_ptq2 < acc_fp - 0.10);  // 2 bits: rounding after training costs a lot
  CHECK(acc_qat2 > acc_ptq2 + 0.08);
  CHECK(acc_qat2 > acc_fp - 0.06);  // QAT recovers most of it
  CHECK(acc_deployed == acc_qat2);  // fake quantization is exactly what deployment computes
}
