// SPDX-License-Identifier: Apache-2.0
// LinearInt8 nodes with layout "conv" against a direct reference written here: ONNX's im2col
// order (c, ky, kx) with explicit bounds checks for padding (padding is 0.0), each image
// quantized to u8 with fbgemm's parameters over its range (dynamic) or the node's (static),
// products summed in int64 and dequantized in double. Geometries cover what the kernel treats
// specially: K % 4 != 0, channel counts and widths that are not multiples of its 8 x 8 transposes,
// 1 x 1 stride-1 inputs (no gather), strides, asymmetric pads, dilations and a batch.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "pare/nn/graph/model.hpp"
#include "pare/nn/graph/packed.hpp"
#include "pare/quant/dynamic.hpp"

using pare::graph::Attribute;
using pare::graph::Value;
using pare::graph::ValueType;

namespace {

struct Case {
  std::size_t batch, c, h, w, n, kh, kw;
  std::vector<std::int64_t> pads{0, 0, 0, 0}, strides{1, 1}, dilations{1, 1};
  bool calibrated = false;
};

Attribute ints(std::vector<std::int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::ints;
  a.ints = std::move(v);
  return a;
}

Attribute text(std::string s) {
  Attribute a;
  a.kind = Attribute::Kind::string;
  a.s = std::move(s);
  return a;
}

Attribute real(float f) {
  Attribute a;
  a.kind = Attribute::Kind::float32;
  a.f = f;
  return a;
}

Attribute integer(std::int64_t i) {
  Attribute a;
  a.kind = Attribute::Kind::int64;
  a.i = i;
  return a;
}

constexpr float act_scale = 0.02f;
constexpr std::int32_t act_zero = 100;

void check_case(const Case& t, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> code(-127, 127);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const std::size_t k = t.c * t.kh * t.kw;

  pare::graph::Graph g;
  g.inputs = {"x"};
  g.outputs = {"y"};
  Value codes = Value::integers(ValueType::i8, {t.n, k});
  for (auto& v : codes.ints) v = code(rng);
  Value scales = Value::zeros({t.n});
  for (auto& v : scales.floats) v = 0.002f + 0.01f * unit(rng);
  Value bias = Value::zeros({t.n});
  for (auto& v : bias.floats) v = normal(rng);
  g.constants = {{"codes", codes}, {"scales", scales}, {"bias", bias}};
  pare::graph::GraphNode node;
  node.op_type = "LinearInt8";
  node.domain = pare::graph::pare_domain;
  node.name = "conv";
  node.inputs = {"x", "codes", "scales", "bias"};
  node.outputs = {"y"};
  node.attrs = pare::graph::Attributes("conv");
  node.attrs.set("layout", text("conv"));
  node.attrs.set("kernel_shape",
                 ints({static_cast<std::int64_t>(t.kh), static_cast<std::int64_t>(t.kw)}));
  node.attrs.set("pads", ints(t.pads));
  node.attrs.set("strides", ints(t.strides));
  node.attrs.set("dilations", ints(t.dilations));
  if (t.calibrated) {
    node.attrs.set("activation", text("static"));
    node.attrs.set("act_scale", real(act_scale));
    node.attrs.set("act_zero_point", integer(act_zero));
  }
  g.nodes = {node};
  const pare::Model model(g);

  Value x = Value::zeros({t.batch, t.c, t.h, t.w});
  for (std::size_t i = 0; i < x.floats.size(); ++i)  // signed and ReLU-like channels
    x.floats[i] = (i / (t.h * t.w)) % 2 ? std::max(0.0f, normal(rng)) : normal(rng);
  const Value y = model.run(x);

  const auto sh = static_cast<std::size_t>(t.strides[0]),
             sw = static_cast<std::size_t>(t.strides[1]);
  const auto dh = static_cast<std::size_t>(t.dilations[0]);
  const auto dw = static_cast<std::size_t>(t.dilations[1]);
  const auto pt = static_cast<std::size_t>(t.pads[0]), pl = static_cast<std::size_t>(t.pads[1]);
  const std::size_t hp = t.h + pt + static_cast<std::size_t>(t.pads[2]);
  const std::size_t wp = t.w + pl + static_cast<std::size_t>(t.pads[3]);
  const std::size_t oh = (hp - dh * (t.kh - 1) - 1) / sh + 1,
                    ow = (wp - dw * (t.kw - 1) - 1) / sw + 1;
  REQUIRE(y.shape == std::vector<std::size_t>{t.batch, t.n, oh, ow});
  double worst = 0, top = 0;
  std::vector<float> patch(k);
  std::vector<std::int32_t> q(k);
  for (std::size_t b = 0; b < t.batch; ++b) {
    pare::QuantParams p{act_scale, act_zero};
    if (!t.calibrated) {
      const auto image = x.floats.begin() + static_cast<std::ptrdiff_t>(b * t.c * t.h * t.w);
      const auto [lo, hi] =
          std::minmax_element(image, image + static_cast<std::ptrdiff_t>(t.c * t.h * t.w));
      p = pare::choose_u8_params(*lo, *hi);
    }
    for (std::size_t oy = 0; oy < oh; ++oy)
      for (std::size_t ox = 0; ox < ow; ++ox) {
        for (std::size_t ch = 0; ch < t.c; ++ch)
          for (std::size_t ky = 0; ky < t.kh; ++ky)
            for (std::size_t kx = 0; kx < t.kw; ++kx) {
              const std::size_t iy = oy * sh + ky * dh, ix = ox * sw + kx * dw;
              const bool inside = iy >= pt && iy < pt + t.h && ix >= pl && ix < pl + t.w;
              patch[(ch * t.kh + ky) * t.kw + kx] =
                  inside ? x.floats[((b * t.c + ch) * t.h + iy - pt) * t.w + ix - pl] : 0.0f;
            }
        const float inv = 1.0f / p.scale;
        for (std::size_t i = 0; i < k; ++i)
          q[i] = std::clamp(
              static_cast<std::int32_t>(std::nearbyint(patch[i] * inv)) + p.zero_point, 0, 255);
        for (std::size_t o = 0; o < t.n; ++o) {
          std::int64_t acc = 0;
          for (std::size_t i = 0; i < k; ++i) acc += (q[i] - p.zero_point) * codes.ints[o * k + i];
          const double ref = static_cast<double>(acc) * p.scale * scales.floats[o] + bias.floats[o];
          const double got = y.floats[((b * t.n + o) * oh + oy) * ow + ox];
          worst = std::max(worst, std::abs(got - ref));
          top = std::max(top, std::abs(ref));
        }
      }
  }
  INFO("worst error " << worst << " of outputs up to " << top);
  CHECK(worst <= 1e-5 * top);
}

}  // namespace

TEST_CASE("LinearInt8 convolutions equal per-image u8 quantization and an exact product",
          "[onnx][compress][int8]") {
  SECTION("3 channels, 7x7, stride 2, pad 3 (K = 147)") {
    check_case({.batch = 1,
                .c = 3,
                .h = 19,
                .w = 21,
                .n = 20,
                .kh = 7,
                .kw = 7,
                .pads = {3, 3, 3, 3},
                .strides = {2, 2}},
               1);
  }
  SECTION("20 channels, 3x3, pad 1, dilation 2") {
    check_case({.batch = 1,
                .c = 20,
                .h = 11,
                .w = 17,
                .n = 33,
                .kh = 3,
                .kw = 3,
                .pads = {1, 1, 1, 1},
                .dilations = {2, 2}},
               2);
  }
  SECTION("1x1, stride 1 (no gather), a batch of 2") {
    check_case({.batch = 2, .c = 24, .h = 9, .w = 13, .n = 50, .kh = 1, .kw = 1}, 3);
  }
  SECTION("1x1, stride 2") {
    check_case(
        {.batch = 1, .c = 16, .h = 10, .w = 10, .n = 17, .kh = 1, .kw = 1, .strides = {2, 2}}, 4);
  }
  SECTION("2x3, asymmetric pads, width dilation only, stride 1x2") {
    check_case({.batch = 2,
                .c = 9,
                .h = 8,
                .w = 23,
                .n = 5,
                .kh = 2,
                .kw = 3,
                .pads = {0, 2, 1, 0},
                .strides = {1, 2},
                .dilations = {1, 3}},
               5);
  }
  SECTION("static activations") {
    check_case({.batch = 1,
                .c = 32,
                .h = 16,
                .w = 16,
                .n = 64,
                .kh = 3,
                .kw = 3,
                .pads = {1, 1, 1, 1},
                .calibrated = true},
               6);
  }
}
