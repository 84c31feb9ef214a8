// SPDX-License-Identifier: Apache-2.0
// Post-training quantization of the trained digits MLP: accuracy against the float model.
#include <catch2/catch.hpp>

#include "pare/quant/gptq.hpp"
#include "pare/quant/quantizer.hpp"
#include "quant/digits_model.hpp"

namespace {

// The model with every Linear's weights replaced by what `quantize(layer index, weights)` gives.
template <class F>
pare::test::DigitsMlp quantized(F quantize) {
  auto m = pare::test::digits_mlp();
  m.layer<0>().weight() = quantize(0, m.layer<0>().weight());
  m.layer<2>().weight() = quantize(1, m.layer<2>().weight());
  m.layer<4>().weight() = quantize(2, m.layer<4>().weight());
  return m;
}

}  // namespace

TEST_CASE("int8 per-channel PTQ loses at most 0.5 points on digits", "[quant][ptq][slow]") {
  using Q8 = pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel>;
  const auto& test = pare::test::digits_split().test;
  const double f32 = pare::accuracy(pare::test::digits_mlp(), test);
  const auto m = quantized([](int, const pare::Tensor<float, 2>& w) {
    return pare::dequantize(Q8{}.quantize(w.view()));
  });
  const double int8 = pare::accuracy(m, test);
  INFO("f32 " << f32 << ", int8/channel " << int8);
  CHECK(int8 >= f32 - 0.005);
}

TEST_CASE("int4 group-32 GPTQ loses at most 1.5 points on digits", "[quant][ptq][gptq][slow]") {
  using Q4 = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>>;
  const auto& [train, test] = pare::test::digits_split();
  const auto& f = pare::test::digits_mlp();
  const double f32 = pare::accuracy(f, test);
  const auto in = pare::test::layer_inputs(f, train.x.view());
  const pare::Tensor<float, 2>* inputs[] = {&in.in0, &in.in1, &in.in2};
  const auto gptq = quantized([&](int layer, const pare::Tensor<float, 2>& w) {
    pare::LayerHessian h(w.extent(1));
    h.add(inputs[layer]->view());
    const auto r = pare::gptq(Q4{}, w.view(), h);
    REQUIRE(r.status == pare::GptqStatus::ok);
    return pare::dequantize(r.weights);
  });
  const auto rtn = quantized([](int, const pare::Tensor<float, 2>& w) {
    return pare::dequantize(Q4{}.quantize(w.view()));
  });
  const double g = pare::accuracy(gptq, test), r = pare::accuracy(rtn, test);
  INFO("f32 " << f32 << ", int4/g32 RTN " << r << ", GPTQ " << g);
  CHECK(g >= f32 - 0.015);
}
