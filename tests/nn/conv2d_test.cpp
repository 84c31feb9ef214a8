// SPDX-License-Identifier: Apache-2.0
#include "pare/nn/conv2d.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>

#include "nn/test_util.hpp"
#include "nn/train_refs.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/loss.hpp"
#include "pare/nn/pool.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"

using pare::Tensor;
using pare::test::check_ref;
using pare::test::load_ref;
using pare::test::train_ref;

namespace {

const pare::Conv2dGeometry layer_geom{.in_channels = 2,
                                      .out_channels = 3,
                                      .in_h = 5,
                                      .in_w = 5,
                                      .kernel_h = 3,
                                      .kernel_w = 3,
                                      .stride_h = 2,
                                      .stride_w = 2,
                                      .pad_top = 1,
                                      .pad_left = 1,
                                      .pad_bottom = 1,
                                      .pad_right = 1};

}  // namespace

TEST_CASE("Conv2d layer: forward, backward and parameter gradients equal torch.nn.Conv2d's",
          "[nn][conv2d][reference]") {
  pare::Conv2d conv(layer_geom);
  load_ref("conv.w", conv.weight());
  load_ref("conv.b", conv.bias());
  const auto x = train_ref<2>("conv.x");
  const auto y = conv.forward(x);
  REQUIRE(y.extent(1) == conv.out_features());
  check_ref(y, "conv.y");
  const auto gx = conv.backward(train_ref<2>("conv.gy"));
  check_ref(gx, "conv.gx");
  check_ref(conv.weight_grad(), "conv.gw");
  check_ref(conv.bias_grad(), "conv.gb");
  // The single-sample and batched inference paths agree with forward.
  const auto yi = conv.infer(x);
  Tensor<float, 1> y1({conv.out_features()});
  conv.infer(x[1], y1.view());
  for (std::size_t j = 0; j < y1.size(); ++j) {
    REQUIRE(yi(1, j) == y(1, j));
    REQUIRE(y1[j] == y(1, j));
  }
}

TEST_CASE("a small CNN (conv, ReLU, max pool, linear) matches torch end to end",
          "[nn][conv2d][reference]") {
  const pare::Conv2dGeometry g{.in_channels = 1,
                               .out_channels = 2,
                               .in_h = 4,
                               .in_w = 4,
                               .kernel_h = 3,
                               .kernel_w = 3,
                               .pad_top = 1,
                               .pad_left = 1,
                               .pad_bottom = 1,
                               .pad_right = 1};
  pare::Sequential net{pare::Conv2d(g), pare::ReLU{},
                       pare::MaxPool2d({.channels = 2,
                                        .in_h = 4,
                                        .in_w = 4,
                                        .kernel_h = 2,
                                        .kernel_w = 2,
                                        .stride_h = 2,
                                        .stride_w = 2}),
                       pare::Linear(8, 3)};
  load_ref("cnn.c1w", net.layer<0>().weight());
  load_ref("cnn.c1b", net.layer<0>().bias());
  load_ref("cnn.fcw", net.layer<3>().weight());
  load_ref("cnn.fcb", net.layer<3>().bias());
  const auto x = train_ref<2>("cnn.x");
  const auto labels_f = train_ref<1>("cnn.labels");
  Tensor<std::int32_t, 1> labels({labels_f.size()});
  for (std::size_t i = 0; i < labels.size(); ++i)
    labels[i] = static_cast<std::int32_t>(labels_f[i]);

  const auto logits = net.forward(x);
  check_ref(logits, "cnn.logits");
  auto [loss, grad] = pare::softmax_cross_entropy(logits, labels);
  CHECK(loss == Approx(train_ref<1>("cnn.loss")[0]).epsilon(1e-5));
  const auto gx = net.backward(grad);
  check_ref(gx, "cnn.gx");
  check_ref(net.layer<0>().weight_grad(), "cnn.gc1w");
  check_ref(net.layer<0>().bias_grad(), "cnn.gc1b");
  check_ref(net.layer<3>().weight_grad(), "cnn.gfcw");
  check_ref(net.layer<3>().bias_grad(), "cnn.gfcb");
}

TEST_CASE("AvgPool2d layer pools each flattened image as torch does", "[nn][pool][reference]") {
  pare::AvgPool2d pool({.channels = 3,
                        .in_h = 5,
                        .in_w = 4,
                        .kernel_h = 3,
                        .kernel_w = 2,
                        .stride_h = 2,
                        .stride_w = 2,
                        .pad_top = 1,
                        .pad_left = 1,
                        .pad_bottom = 1,
                        .pad_right = 1,
                        .ceil_mode = true});
  const auto y = pool.forward(train_ref<2>("avgpool.x"));
  check_ref(y, "avgpool.y");
  check_ref(pool.backward(train_ref<2>("avgpool.gy")), "avgpool.gx");
  REQUIRE_THROWS_AS(pool.infer(Tensor<float, 2>({1, 59})), pare::ShapeError);
}

TEST_CASE("Conv2d's gradients match finite differences (groups, dilation, stride)",
          "[nn][conv2d][gradcheck]") {
  const pare::Conv2dGeometry g{.in_channels = 4,
                               .out_channels = 2,
                               .in_h = 5,
                               .in_w = 6,
                               .kernel_h = 2,
                               .kernel_w = 3,
                               .stride_h = 2,
                               .stride_w = 1,
                               .pad_top = 1,
                               .pad_left = 0,
                               .pad_bottom = 0,
                               .pad_right = 2,
                               .dilation_h = 1,
                               .dilation_w = 2,
                               .groups = 2};
  pare::Rng rng(5);
  pare::Conv2d conv(g, rng);
  auto x = pare::test::random_matrix(2, conv.in_features(), rng);
  const auto w_out = pare::test::random_matrix(2, conv.out_features(), rng);
  auto objective = [&] { return pare::test::weighted_sum(conv.infer(x), w_out); };
  (void)conv.forward(x);
  const auto gx = conv.backward(w_out);
  for (std::size_t k = 0; k < x.size(); k += 7) {
    const double fd = pare::test::central_difference(x.data()[k], objective, 1e-2f);
    REQUIRE(gx.data()[k] == Approx(fd).margin(2e-3));
  }
  for (std::size_t k = 0; k < conv.weight().size(); k += 3) {
    const double fd = pare::test::central_difference(conv.weight().data()[k], objective, 1e-2f);
    REQUIRE(conv.weight_grad().data()[k] == Approx(fd).margin(2e-3));
  }
  for (std::size_t k = 0; k < conv.bias().size(); ++k) {
    const double fd = pare::test::central_difference(conv.bias().data()[k], objective, 1e-2f);
    REQUIRE(conv.bias_grad()[k] == Approx(fd).margin(2e-3));
  }
}

TEST_CASE("Conv2d's default init is torch's and a bias-free conv has one parameter",
          "[nn][conv2d]") {
  pare::Rng a(1), b(1);
  const pare::Conv2dGeometry g{
      .in_channels = 3, .out_channels = 4, .in_h = 6, .in_w = 6, .kernel_h = 3, .kernel_w = 3};
  pare::Conv2d ca(g, a), cb(g, b);
  const float bound = 1.0f / std::sqrt(27.0f);
  for (std::size_t i = 0; i < ca.weight().size(); ++i) {
    REQUIRE(ca.weight().data()[i] == cb.weight().data()[i]);
    REQUIRE(std::abs(ca.weight().data()[i]) <= bound);
  }
  pare::Conv2d nb(g, a, /*bias=*/false);
  int params = 0;
  nb.for_each_parameter([&](const pare::Parameter&) { ++params; });
  CHECK(params == 1);
  CHECK_THROWS_AS(pare::Conv2d({.in_channels = 3,
                                .out_channels = 4,
                                .in_h = 2,
                                .in_w = 2,
                                .kernel_h = 3,
                                .kernel_w = 3}),
                  pare::ArgumentError);
  CHECK_THROWS_AS(ca.output_size(100), pare::ShapeError);
}
