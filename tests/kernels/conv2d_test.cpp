// SPDX-License-Identifier: Apache-2.0
#include "pare/kernels/conv2d.hpp"
#include "pare/kernels/conv2d_packed.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "nn/test_util.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"

using pare::Tensor;
using pare::TensorView;

namespace {

const std::map<std::string, pare::test::RefTensor>& refs() {
  static const auto r = pare::test::read_refs(PARE_TEST_DATA_DIR "/kernels/conv_refs.txt");
  return r;
}

template <std::size_t Rank>
Tensor<float, Rank> tensor(const std::string& name) {
  const auto& t = refs().at(name);
  REQUIRE(t.shape.size() == Rank);
  pare::Shape<Rank> s;
  for (std::size_t d = 0; d < Rank; ++d) s[d] = t.shape[d];
  Tensor<float, Rank> out(s);
  std::copy(t.values.begin(), t.values.end(), out.data());
  return out;
}

pare::Conv2dGeometry geometry(const std::string& name) {
  const auto& v = refs().at(name + ".geom").values;
  auto u = [&](std::size_t i) { return static_cast<std::size_t>(v.at(i)); };
  return {.in_channels = u(0),
          .out_channels = u(1),
          .in_h = u(2),
          .in_w = u(3),
          .kernel_h = u(4),
          .kernel_w = u(5),
          .stride_h = u(6),
          .stride_w = u(7),
          .pad_top = u(8),
          .pad_left = u(9),
          .pad_bottom = u(10),
          .pad_right = u(11),
          .dilation_h = u(12),
          .dilation_w = u(13),
          .groups = u(14)};
}

// Values are sums of up to (C/groups)·kh·kw ~ 20 products of N(0,1) numbers (and the gradients
// of up to oh·ow ~ 60): float summation in a different order than torch's leaves ~1e-6 relative.
template <std::size_t Rank>
void check_close(const Tensor<float, Rank>& got, const Tensor<float, Rank>& expect) {
  REQUIRE(got.extents() == expect.extents());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    REQUIRE(got.data()[i] == Approx(expect.data()[i]).margin(2e-5).epsilon(1e-5));
  }
}

const char* const cases[] = {"conv_basic",     "conv_strided",   "conv_groups",
                             "conv_depthwise", "conv_pointwise", "conv_wide_stride"};

}  // namespace

TEST_CASE("conv2d, its input and weight gradients equal PyTorch's", "[kernels][conv2d]") {
  for (const std::string name : cases) {
    INFO(name);
    const auto g = geometry(name);
    const auto x = tensor<3>(name + ".x");
    const auto w = tensor<4>(name + ".w");
    const bool has_bias = refs().at(name + ".geom").values.at(15) != 0.0f;
    const Tensor<float, 1> b = has_bias ? tensor<1>(name + ".b") : Tensor<float, 1>();
    const auto y_ref = tensor<3>(name + ".y");
    REQUIRE(g.out_h() == y_ref.extent(1));
    REQUIRE(g.out_w() == y_ref.extent(2));

    Tensor<float, 3> y({g.out_channels, g.out_h(), g.out_w()}, std::nanf(""));
    pare::conv2d(g, x, w, has_bias ? b.data() : nullptr, y.view());
    check_close(y, y_ref);

    const auto gy = tensor<3>(name + ".gy");
    Tensor<float, 3> gx(x.extents(), std::nanf(""));
    pare::conv2d_backward_input(g, w, gy, gx.view());
    check_close(gx, tensor<3>(name + ".gx"));

    // Weight gradients accumulate: start from 1 and expect 1 + torch's.
    Tensor<float, 4> gw(w.extents(), 1.0f);
    Tensor<float, 1> gb({g.out_channels}, 1.0f);
    pare::conv2d_backward_weight(g, x, gy, gw.view(), has_bias ? gb.data() : nullptr);
    auto gw_ref = tensor<4>(name + ".gw");
    for (float& v : gw_ref.span()) v += 1.0f;
    check_close(gw, gw_ref);
    if (has_bias) {
      auto gb_ref = tensor<1>(name + ".gb");
      for (float& v : gb_ref.span()) v += 1.0f;
      check_close(gb, gb_ref);
    }
  }
}

TEST_CASE("conv2d takes strided input and output views", "[kernels][conv2d]") {
  const std::string name = "conv_basic";
  const auto g = geometry(name);
  const auto x = tensor<3>(name + ".x");
  const auto w = tensor<4>(name + ".w");
  const auto b = tensor<1>(name + ".b");
  // Input and output as the transposed-plane views of [C, W, H] / [O, ow, oh] buffers.
  Tensor<float, 3> xt({g.in_channels, g.in_w, g.in_h});
  for (std::size_t c = 0; c < g.in_channels; ++c)
    for (std::size_t y = 0; y < g.in_h; ++y)
      for (std::size_t i = 0; i < g.in_w; ++i) xt(c, i, y) = x(c, y, i);
  Tensor<float, 3> yt({g.out_channels, g.out_w(), g.out_h()});
  pare::conv2d(g, xt.view().transposed(1, 2), w, b.data(), yt.view().transposed(1, 2));
  const auto y_ref = tensor<3>(name + ".y");
  for (std::size_t o = 0; o < g.out_channels; ++o)
    for (std::size_t y = 0; y < g.out_h(); ++y)
      for (std::size_t i = 0; i < g.out_w(); ++i)
        REQUIRE(yt(o, i, y) == Approx(y_ref(o, y, i)).margin(2e-5).epsilon(1e-5));
}

TEST_CASE("col2im is the adjoint of im2col", "[kernels][conv2d]") {
  // <im2col(x), c> = <x, col2im(c)> for any x and c, which pins down every index of both.
  const pare::Conv2dGeometry g{.in_channels = 4,
                               .out_channels = 2,
                               .in_h = 6,
                               .in_w = 7,
                               .kernel_h = 3,
                               .kernel_w = 2,
                               .stride_h = 2,
                               .stride_w = 1,
                               .pad_top = 1,
                               .pad_left = 2,
                               .pad_bottom = 0,
                               .pad_right = 1,
                               .dilation_h = 1,
                               .dilation_w = 2,
                               .groups = 2};
  pare::Rng rng(3);
  Tensor<float, 3> x({4, 6, 7});
  for (float& v : x.span()) v = rng.uniform(-1, 1);
  const std::size_t rows = g.patch_size(), cols = g.out_h() * g.out_w();
  Tensor<float, 2> c({rows, cols});
  for (float& v : c.span()) v = rng.uniform(-1, 1);
  for (std::size_t grp = 0; grp < 2; ++grp) {
    Tensor<float, 2> col({rows, cols});
    pare::kernels::im2col(g, x, grp * 2, col.view());
    Tensor<float, 3> back({4, 6, 7});
    pare::kernels::col2im(g, c, grp * 2, back.view());
    double lhs = 0, rhs = 0;
    for (std::size_t i = 0; i < col.size(); ++i) lhs += double{col.data()[i]} * c.data()[i];
    for (std::size_t i = 0; i < x.size(); ++i) rhs += double{x.data()[i]} * back.data()[i];
    CHECK(lhs == Approx(rhs).epsilon(1e-9));
  }
}

TEST_CASE("conv2d rejects bad geometries and shapes with clear errors", "[kernels][conv2d]") {
  pare::Conv2dGeometry g{
      .in_channels = 3, .out_channels = 4, .in_h = 5, .in_w = 5, .kernel_h = 3, .kernel_w = 3};
  Tensor<float, 3> x({3, 5, 5}), y({4, 3, 3});
  Tensor<float, 4> w({4, 3, 3, 3});
  CHECK_NOTHROW(pare::conv2d(g, x, w, nullptr, y.view()));
  auto bad = g;
  bad.groups = 2;  // 3 channels do not split in 2 groups
  CHECK_THROWS_AS(pare::conv2d(bad, x, w, nullptr, y.view()), pare::ArgumentError);
  bad = g;
  bad.kernel_h = 7;
  CHECK_THROWS_AS(bad.validate(), pare::ArgumentError);
  bad = g;
  bad.stride_w = 0;
  CHECK_THROWS_AS(bad.validate(), pare::ArgumentError);
  Tensor<float, 3> y_wrong({4, 4, 4});
  CHECK_THROWS_WITH(pare::conv2d(g, x, w, nullptr, y_wrong.view()),
                    Catch::Contains("output [4, 4, 4] is not [4, 3, 3]"));
  Tensor<float, 4> w_wrong({4, 1, 3, 3});
  CHECK_THROWS_AS(pare::conv2d(g, x, w_wrong, nullptr, y.view()), pare::ShapeError);
}

TEST_CASE("PackedConv2d equals PyTorch's conv2d, alone and batched", "[kernels][conv2d]") {
  for (const std::string name : cases) {
    INFO(name);
    const auto g = geometry(name);
    const auto x = tensor<3>(name + ".x");
    const auto w = tensor<4>(name + ".w");
    const bool has_bias = refs().at(name + ".geom").values.at(15) != 0.0f;
    const Tensor<float, 1> b = has_bias ? tensor<1>(name + ".b") : Tensor<float, 1>();
    const auto y_ref = tensor<3>(name + ".y");
    const pare::PackedConv2d conv(w, has_bias ? b.data() : nullptr, g.groups);
    Tensor<float, 3> y(y_ref.extents(), std::nanf(""));
    conv.run(g, x.data(), y.data());
    check_close(y, y_ref);
    // three copies of the sample in one call: the small-image path shares the GEMM across them
    Tensor<float, 4> xb({3, x.extent(0), x.extent(1), x.extent(2)});
    Tensor<float, 4> yb({3, y.extent(0), y.extent(1), y.extent(2)}, std::nanf(""));
    for (std::size_t s = 0; s < 3; ++s) std::copy_n(x.data(), x.size(), xb.data() + s * x.size());
    conv.run(g, xb.data(), yb.data(), nullptr, 3);
    for (std::size_t i = 0; i < yb.size(); ++i)
      REQUIRE(yb.data()[i] == Approx(y_ref.data()[i % y_ref.size()]).margin(2e-5).epsilon(1e-5));
  }
}

TEST_CASE("PackedConv2d fuses the residual and every activation as applied afterwards",
          "[kernels][conv2d]") {
  using pare::Activation;
  const pare::Epilogue epilogues[] = {
      {.kind = Activation::none},
      {.kind = Activation::relu},
      {.kind = Activation::clip, .lo = -0.5f, .hi = 0.7f},
      {.kind = Activation::hard_sigmoid, .alpha = 0.3f, .beta = 0.4f},
      {.kind = Activation::hard_swish},
      {.kind = Activation::sigmoid},
      {.kind = Activation::silu}};
  pare::Rng rng(7);
  // a large, a depthwise, a pointwise, a grouped and a small-image convolution (whose few
  // positions take the transposed product); batches 1 and 2 (the second takes the batched path
  // when the image is small)
  const pare::Conv2dGeometry geometries[] = {
      {.in_channels = 5,
       .out_channels = 40,
       .in_h = 23,
       .in_w = 19,
       .kernel_h = 3,
       .kernel_w = 3,
       .stride_h = 1,
       .stride_w = 2,
       .pad_top = 1,
       .pad_left = 0,
       .pad_bottom = 2,
       .pad_right = 1},
      {.in_channels = 8,
       .out_channels = 16,
       .in_h = 9,
       .in_w = 11,
       .kernel_h = 5,
       .kernel_w = 3,
       .stride_h = 2,
       .stride_w = 2,
       .pad_top = 2,
       .pad_left = 1,
       .pad_bottom = 2,
       .pad_right = 1,
       .dilation_h = 1,
       .dilation_w = 2,
       .groups = 8},
      {.in_channels = 300, .out_channels = 7, .in_h = 4, .in_w = 5, .kernel_h = 1, .kernel_w = 1},
      {.in_channels = 6,
       .out_channels = 9,
       .in_h = 40,
       .in_w = 37,
       .kernel_h = 2,
       .kernel_w = 3,
       .stride_h = 3,
       .stride_w = 1,
       .pad_top = 1,
       .pad_left = 1,
       .pad_bottom = 0,
       .pad_right = 1,
       .groups = 3},
      {.in_channels = 20,
       .out_channels = 70,
       .in_h = 5,
       .in_w = 4,
       .kernel_h = 3,
       .kernel_w = 3,
       .pad_top = 1,
       .pad_left = 1,
       .pad_bottom = 1,
       .pad_right = 1}};
  for (const auto& g : geometries)
    for (const auto& e : epilogues)
      for (std::size_t batch : {1u, 2u}) {
        INFO(g.describe() << " activation " << static_cast<int>(e.kind) << " batch " << batch);
        Tensor<float, 4> x({batch, g.in_channels, g.in_h, g.in_w});
        Tensor<float, 4> w({g.out_channels, g.group_in_channels(), g.kernel_h, g.kernel_w});
        Tensor<float, 4> r({batch, g.out_channels, g.out_h(), g.out_w()});
        std::vector<float> b(g.out_channels);
        for (float& v : x.span()) v = rng.normal();
        for (float& v : w.span()) v = rng.normal() * 0.2f;
        for (float& v : r.span()) v = rng.normal();
        for (float& v : b) v = rng.normal();
        const pare::PackedConv2d conv(w, b.data(), g.groups, e);
        Tensor<float, 4> y(r.extents(), std::nanf(""));
        conv.run(g, x.data(), y.data(), r.data(), batch);
        Tensor<float, 3> plain({g.out_channels, g.out_h(), g.out_w()});
        for (std::size_t s = 0; s < batch; ++s) {
          pare::conv2d(g,
                       TensorView<const float, 3>(x.data() + s * g.in_channels * g.in_h * g.in_w,
                                                  pare::Shape<3>{g.in_channels, g.in_h, g.in_w}),
                       w, b.data(), plain.view());
          for (std::size_t i = 0; i < plain.size(); ++i) {
            const std::size_t at = s * plain.size() + i;
            REQUIRE(
                y.data()[at] ==
                Approx(pare::apply(e, plain.data()[i] + r.data()[at])).margin(1e-5).epsilon(1e-5));
          }
        }
      }
}

TEST_CASE("PackedConv2d refuses a geometry that does not match its weight", "[kernels][conv2d]") {
  const Tensor<float, 4> w({4, 3, 3, 3}, 0.5f);
  const pare::PackedConv2d conv(w, nullptr, 1);
  pare::Conv2dGeometry g{
      .in_channels = 2, .out_channels = 4, .in_h = 5, .in_w = 5, .kernel_h = 3, .kernel_w = 3};
  std::vector<float> x(2 * 25), y(4 * 9);
  CHECK_THROWS_AS(conv.run(g, x.data(), y.data()), pare::ShapeError);
  CHECK_THROWS_AS(pare::PackedConv2d(w, nullptr, 3), pare::ArgumentError);
}
