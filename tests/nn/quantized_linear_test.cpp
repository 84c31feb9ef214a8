// SPDX-License-Identifier: Apache-2.0
// QuantizedLinear<Q>: the quantizer type picks the kernel; a user's observer and a user's format
// reach a deployed layer. Outputs are checked against the float layer (bounds from the
// quantization steps) and against the dequantized weights.
#include "pare/nn/quantized_linear.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "pare/core/random.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/linear_int4.hpp"
#include "pare/nn/linear_int8.hpp"
#include "pare/quant/nf4.hpp"
#include "pare/quant/observer.hpp"
#include "user_policies.hpp"

namespace {

using pare::test::ShrinkingObserver;

using pare::test::LogScale4;

}  // namespace

// A user's quantizer type with its own mapping onto a kernel layout (found by argument-dependent
// lookup): Int<4> codes with the scale max|w| / 7 (no code -8), on the generic kernel.
namespace user {
struct SevenLevelQuantizer {};
inline pare::Codes4Matrix<pare::LinearCodes4<true>> pack_for_kernel(
    const SevenLevelQuantizer&, pare::TensorView<const float, 2> w) {
  pare::Codes4Matrix<pare::LinearCodes4<true>> m(w.extent(0), w.extent(1), 32);
  for (std::size_t r = 0; r < w.extent(0); ++r)
    for (std::size_t g = 0; g < w.extent(1) / 32; ++g) {
      float amax = 0;
      for (std::size_t c = 32 * g; c < 32 * g + 32; ++c) amax = std::max(amax, std::abs(w(r, c)));
      const float s = amax > 0 ? amax / 7 : 1.0f;
      m.set_scale(r, g, s);
      for (std::size_t c = 32 * g; c < 32 * g + 32; ++c)
        m.set_code(r, c, static_cast<unsigned>(std::lrint(w(r, c) / s) + 8));
    }
  return m;
}
}  // namespace user

namespace {

pare::Tensor<float, 2> inputs(std::size_t n, std::size_t in, pare::Rng& rng) {
  pare::Tensor<float, 2> x({n, in});
  for (float& v : x.span()) v = rng.normal();
  return x;
}

// y = x W_qᵀ + b in double, with W_q the given dequantized matrix.
std::vector<double> reference(const pare::Tensor<float, 2>& wq, const pare::Tensor<float, 1>& b,
                              pare::TensorView<const float, 1> x) {
  std::vector<double> y(wq.extent(0));
  for (std::size_t r = 0; r < wq.extent(0); ++r) {
    double s = b(r);
    for (std::size_t c = 0; c < wq.extent(1); ++c) s += double{wq(r, c)} * x[c];
    y[r] = s;
  }
  return y;
}

// Dequantized int8 weights of a packed matrix.
pare::Tensor<float, 2> dequantize_int8(const pare::PackedInt8Weights& p) {
  pare::Tensor<float, 2> w({p.n(), p.k()});
  for (std::size_t n = 0; n < p.n(); ++n)
    for (std::size_t k = 0; k < p.k(); ++k)
      w(n, k) = p.scales()[n] * static_cast<float>(p.at(n, k));
  return w;
}

// Half a u8 step of each row of x: the activation rounding of the int8 path.
double x_half_step(pare::TensorView<const float, 1> x) {
  float lo = 0, hi = 0;
  for (std::size_t i = 0; i < x.extent(0); ++i) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
  return 0.5 * (hi - lo) / 255.0;
}

}  // namespace

TEST_CASE("QuantizedLinear<int8 quantizer> with Int8Linear's policies is Int8Linear",
          "[nn][quantized_linear]") {
  pare::Rng rng(1);
  const pare::Linear fc(96, 40, rng);
  using Q = pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel>;
  static_assert(std::is_same_v<pare::QuantizedLinear<Q>::layout_type, pare::PackedInt8Weights>);
  const pare::QuantizedLinear<Q> q(fc, Q{.scheme = {.restricted_range = true}});
  const pare::Int8Linear ref(fc);
  for (std::size_t n = 0; n < 40; ++n) {
    REQUIRE(q.weight().scales()[n] == ref.weight_scales()[n]);
    for (std::size_t k = 0; k < 96; ++k) REQUIRE(q.weight().at(n, k) == ref.weights().at(n, k));
  }
  const auto x = inputs(5, 96, rng);
  const auto a = q.infer(x.view()), b = ref.infer(x.view());
  for (std::size_t i = 0; i < a.size(); ++i) REQUIRE(a.data()[i] == b.data()[i]);
  // The GEMV path (one sample) agrees with the batch path.
  pare::Tensor<float, 1> y({40});
  q.infer(x.view()[2], y.view());
  for (std::size_t r = 0; r < 40; ++r) REQUIRE(y(r) == Approx(a(2, r)).margin(1e-5));
}

TEST_CASE("A user's observer feeds the int8 kernel through QuantizedLinear",
          "[nn][quantized_linear]") {
  pare::Rng rng(2);
  const pare::Linear fc(128, 24, rng);
  using Q = pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel, ShrinkingObserver>;
  const pare::QuantizedLinear<Q> layer(fc);
  // The packed weights are exactly the quantizer's codes and scales (the observer's clipping).
  const auto qt = Q{}.quantize(fc.weight().view());
  for (std::size_t n = 0; n < 24; ++n) {
    REQUIRE(layer.weight().scales()[n] == qt.params(n).scale);
    for (std::size_t k = 0; k < 128; ++k) REQUIRE(layer.weight().at(n, k) == qt.code(n, k));
  }
  // Outputs: the dequantized weights times x, up to x's u8 rounding.
  const auto wq = dequantize_int8(layer.weight());
  const auto x = inputs(3, 128, rng);
  const auto y = layer.infer(x.view());
  for (std::size_t i = 0; i < 3; ++i) {
    const auto ref = reference(wq, fc.bias(), x.view()[i]);
    const double h = x_half_step(x.view()[i]);
    for (std::size_t r = 0; r < 24; ++r) {
      double wsum = 0;
      for (std::size_t c = 0; c < 128; ++c) wsum += std::abs(wq(r, c));
      REQUIRE(std::abs(y(i, r) - ref[r]) <= h * wsum + 1e-4);
    }
  }
}

TEST_CASE("QuantizedLinear<Int<4>, PerGroup> is within half a step of the float layer",
          "[nn][quantized_linear]") {
  pare::Rng rng(3);
  const pare::Linear fc(256, 33, rng);
  using Q = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<64>>;
  const pare::QuantizedLinear<Q> layer(fc);
  static_assert(std::is_same_v<pare::QuantizedLinear<Q>::layout_type,
                               pare::Codes4Matrix<pare::LinearCodes4<true>>>);
  const auto x = inputs(4, 256, rng);
  const auto y = layer.infer(x.view());
  // Round to nearest inside the range: |w - w_q| <= scale / 2 per weight (MinMax: no clipping
  // except the most positive code, which is within one step: bound with a full step there),
  // plus x's int8 rounding (half a step of the group's max |x| / 127 per weight).
  for (std::size_t i = 0; i < 4; ++i) {
    const auto yf = reference(fc.weight(), fc.bias(), x.view()[i]);
    for (std::size_t r = 0; r < 33; ++r) {
      double bound = 1e-4;
      for (std::size_t c = 0; c < 256; ++c) {
        float xm = 0;
        for (std::size_t k = c / 64 * 64; k < c / 64 * 64 + 64; ++k)
          xm = std::max(xm, std::abs(x(i, k)));
        bound += layer.weight().scale(r, c / 64) * std::abs(x(i, c)) +
                 8 * layer.weight().scale(r, c / 64) * xm / 254;
      }
      REQUIRE(std::abs(y(i, r) - yf[r]) <= bound);
    }
    // Against the dequantized weights: pare::gemv rounds x to int8 per group of 64 on AVX-512
    // VNNI (half a step, max |x of the group| / 254, per weight).
    const auto wq = pare::dequantize(layer.weight());
    const auto yq = reference(wq, fc.bias(), x.view()[i]);
    for (std::size_t r = 0; r < 33; ++r) {
      double bound = 1e-4;
      for (std::size_t g = 0; g < 4; ++g) {
        float xm = 0;
        for (std::size_t c = 64 * g; c < 64 * g + 64; ++c) xm = std::max(xm, std::abs(x(i, c)));
        for (std::size_t c = 64 * g; c < 64 * g + 64; ++c) bound += std::abs(wq(r, c)) * xm / 254;
      }
      REQUIRE(std::abs(y(i, r) - yq[r]) <= bound);
    }
  }
  CHECK_THROWS_AS(pare::QuantizedLinear<Q>(fc).backward(x.view()), pare::UnsupportedError);
}

TEST_CASE("A user's 4-bit format runs as a deployed layer", "[nn][quantized_linear]") {
  pare::Rng rng(4);
  const pare::Linear fc(128, 17, rng);
  using Q = pare::DecodeQuantizer<LogScale4, pare::PerGroup<32>>;
  const pare::QuantizedLinear<Q> layer(fc);
  static_assert(
      std::is_same_v<pare::QuantizedLinear<Q>::layout_type, pare::Codes4Matrix<LogScale4>>);
  const auto wq = pare::dequantize(layer.weight());
  const auto x = inputs(3, 128, rng);
  const auto y = layer.infer(x.view());
  for (std::size_t i = 0; i < 3; ++i) {
    const auto ref = reference(wq, fc.bias(), x.view()[i]);
    for (std::size_t r = 0; r < 17; ++r) REQUIRE(y(i, r) == Approx(ref[r]).margin(1e-4));
    // Against the float layer: the largest gap between neighbouring levels (1 - 2^-0.5 of the
    // group's absmax) bounds each weight's error by half of it, the smallest level by itself.
    const auto yf = reference(fc.weight(), fc.bias(), x.view()[i]);
    for (std::size_t r = 0; r < 17; ++r) {
      double bound = 1e-4;
      for (std::size_t c = 0; c < 128; ++c)
        bound += 0.5 * (1 - std::exp2(-0.5)) * layer.weight().scale(r, c / 32) * std::abs(x(i, c));
      REQUIRE(std::abs(y(i, r) - yf[r]) <= bound);
    }
  }
  CHECK_THROWS_AS(layer.infer(inputs(1, 127, rng).view()), pare::ShapeError);
}

TEST_CASE("QuantizedLinear takes lookup formats and user quantizer types",
          "[nn][quantized_linear]") {
  pare::Rng rng(5);
  const pare::Linear fc(128, 20, rng);
  const auto x = inputs(3, 128, rng);
  // NF4 through LookupQuantizer: the same packing and kernel as Lut4Linear.
  using QN = pare::LookupQuantizer<pare::Nf4, pare::PerGroup<64>>;
  static_assert(std::is_same_v<pare::QuantizedLinear<QN>::layout_type, pare::Lut4Matrix>);
  const auto a = pare::QuantizedLinear<QN>(fc).infer(x.view());
  const auto b = pare::Lut4Linear::from(fc, 64).infer(x.view());
  for (std::size_t i = 0; i < a.size(); ++i) REQUIRE(a.data()[i] == b.data()[i]);
  // A user quantizer type: its pack_for_kernel overload decides the layout.
  static_assert(pare::KernelQuantizer<user::SevenLevelQuantizer>);
  const pare::QuantizedLinear<user::SevenLevelQuantizer> layer(fc);
  const auto wq = pare::dequantize(layer.weight());
  for (std::size_t r = 0; r < 20; ++r)
    for (std::size_t c = 0; c < 128; ++c)
      REQUIRE(std::abs(wq(r, c) - fc.weight()(r, c)) <=
              0.5f * layer.weight().scale(r, c / 32) + 1e-6f);
  const auto y = layer.infer(x.view());
  for (std::size_t i = 0; i < 3; ++i) {
    const auto ref = reference(wq, fc.bias(), x.view()[i]);
    for (std::size_t r = 0; r < 20; ++r) {
      double bound = 1e-4;
      for (std::size_t c = 0; c < 128; ++c) {
        float xm = 0;
        for (std::size_t k = c / 32 * 32; k < c / 32 * 32 + 32; ++k)
          xm = std::max(xm, std::abs(x(i, k)));
        bound += std::abs(wq(r, c)) * xm / 254;
      }
      REQUIRE(std::abs(y(i, r) - ref[r]) <= bound);
    }
  }
}
