// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>
#include <cmath>

#include "nn/test_util.hpp"
#include "nn/train_refs.hpp"
#include "pare/nn/batch_norm.hpp"
#include "pare/nn/conv2d.hpp"
#include "pare/nn/layer_norm.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"

using pare::Tensor;
using pare::test::check_ref;
using pare::test::load_ref;
using pare::test::train_ref;

TEST_CASE("BatchNorm2d in training mode matches torch: output, gradients, running stats",
          "[nn][batch_norm][reference]") {
  pare::BatchNorm2d bn(3, 2, 3);
  load_ref("bn2d.gamma", bn.weight());
  load_ref("bn2d.beta", bn.bias());
  const auto y = bn.forward(train_ref<2>("bn2d.x"));
  check_ref(y, "bn2d.y");
  check_ref(bn.backward(train_ref<2>("bn2d.gy")), "bn2d.gx");
  check_ref(bn.weight_grad(), "bn2d.ggamma");
  check_ref(bn.bias_grad(), "bn2d.gbeta");
  check_ref(bn.running_mean(), "bn2d.running_mean");
  check_ref(bn.running_var(), "bn2d.running_var");
  // Eval mode (and infer, always) uses the running statistics.
  bn.set_training(false);
  check_ref(bn.forward(train_ref<2>("bn2d.eval_x")), "bn2d.eval_y");
  check_ref(bn.infer(train_ref<2>("bn2d.eval_x")), "bn2d.eval_y");
}

TEST_CASE("BatchNorm1d matches torch", "[nn][batch_norm][reference]") {
  pare::BatchNorm1d bn(4);
  load_ref("bn1d.gamma", bn.weight());
  load_ref("bn1d.beta", bn.bias());
  check_ref(bn.forward(train_ref<2>("bn1d.x")), "bn1d.y");
  check_ref(bn.backward(train_ref<2>("bn1d.gy")), "bn1d.gx");
  check_ref(bn.weight_grad(), "bn1d.ggamma");
  check_ref(bn.bias_grad(), "bn1d.gbeta");
  check_ref(bn.running_mean(), "bn1d.running_mean");
  check_ref(bn.running_var(), "bn1d.running_var");
  CHECK_THROWS_AS(bn.forward(Tensor<float, 2>({1, 4})), pare::ArgumentError);  // one value each
  CHECK_THROWS_AS(bn.forward(Tensor<float, 2>({3, 5})), pare::ShapeError);
}

TEST_CASE("BatchNorm's gradients match finite differences in both modes",
          "[nn][batch_norm][gradcheck]") {
  pare::Rng rng(8);
  for (bool training : {true, false}) {
    INFO("training " << training);
    pare::BatchNorm2d bn(2, 2, 2);
    for (float& v : bn.weight().span()) v = rng.uniform(0.5f, 1.5f);
    for (float& v : bn.bias().span()) v = rng.uniform(-0.5f, 0.5f);
    for (float& v : bn.running_mean().span()) v = rng.uniform(-0.5f, 0.5f);
    for (float& v : bn.running_var().span()) v = rng.uniform(0.5f, 2.0f);
    bn.set_training(training);
    auto x = pare::test::random_matrix(3, 8, rng);
    const auto w_out = pare::test::random_matrix(3, 8, rng);
    // forward in training mode moves the running stats; the objective must not depend on them.
    const auto mean0 = bn.running_mean(), var0 = bn.running_var();
    auto objective = [&] {
      bn.running_mean() = mean0;
      bn.running_var() = var0;
      return pare::test::weighted_sum(bn.forward(x), w_out);
    };
    (void)objective();
    const auto gx = bn.backward(w_out);
    const auto ggamma = bn.weight_grad(), gbeta = bn.bias_grad();
    for (std::size_t k = 0; k < x.size(); ++k) {
      const double fd = pare::test::central_difference(x.data()[k], objective, 1e-2f);
      REQUIRE(gx.data()[k] == Approx(fd).margin(3e-3));
    }
    for (std::size_t c = 0; c < 2; ++c) {
      REQUIRE(
          ggamma[c] ==
          Approx(pare::test::central_difference(bn.weight()[c], objective, 1e-2f)).margin(3e-3));
      REQUIRE(gbeta[c] ==
              Approx(pare::test::central_difference(bn.bias()[c], objective, 1e-2f)).margin(3e-3));
    }
  }
}

TEST_CASE("folding a BatchNorm into the conv or linear before it keeps the function",
          "[nn][batch_norm]") {
  pare::Rng rng(9);
  const pare::Conv2dGeometry g{.in_channels = 2,
                               .out_channels = 3,
                               .in_h = 4,
                               .in_w = 4,
                               .kernel_h = 3,
                               .kernel_w = 3,
                               .pad_top = 1,
                               .pad_left = 1,
                               .pad_bottom = 1,
                               .pad_right = 1};
  pare::Sequential net{pare::Conv2d(g, rng, /*bias=*/false), pare::BatchNorm2d(3, 4, 4),
                       pare::ReLU{}, pare::Linear(48, 5, rng), pare::BatchNorm1d(5)};
  // Train-mode passes give the BNs non-trivial running statistics.
  for (int i = 0; i < 3; ++i) (void)net.forward(pare::test::random_matrix(6, 32, rng, -2, 3));
  for (float& v : net.layer<1>().weight().span()) v = rng.uniform(0.5f, 2.0f);
  for (float& v : net.layer<4>().bias().span()) v = rng.uniform(-1.0f, 1.0f);
  net.set_training(false);
  const auto x = pare::test::random_matrix(4, 32, rng, -2, 3);
  const auto before = net.infer(x);
  pare::fold_batch_norm(net.layer<0>(), net.layer<1>());
  pare::fold_batch_norm(net.layer<3>(), net.layer<4>());
  CHECK(net.layer<0>().has_bias());
  CHECK(net.layer<1>().is_identity());
  const auto after = net.infer(x);
  for (std::size_t k = 0; k < before.size(); ++k)
    REQUIRE(after.data()[k] == Approx(before.data()[k]).epsilon(1e-5).margin(1e-5));
  CHECK_THROWS_AS(pare::fold_batch_norm(net.layer<3>(), net.layer<4>()), pare::ArgumentError);
  pare::BatchNorm1d wrong(7);
  CHECK_THROWS_AS(pare::fold_batch_norm(net.layer<3>(), wrong), pare::ShapeError);
}

TEST_CASE("LayerNorm over blocks of a row matches torch.nn.LayerNorm",
          "[nn][layer_norm][reference]") {
  pare::LayerNorm ln(6);
  load_ref("ln.gamma", ln.weight());
  load_ref("ln.beta", ln.bias());
  const auto x = train_ref<2>("ln.x");
  check_ref(ln.forward(x), "ln.y");
  check_ref(ln.infer(x), "ln.y");
  check_ref(ln.backward(train_ref<2>("ln.gy")), "ln.gx");
  check_ref(ln.weight_grad(), "ln.ggamma");
  check_ref(ln.bias_grad(), "ln.gbeta");
  CHECK_THROWS_AS(ln.infer(Tensor<float, 2>({2, 8})), pare::ShapeError);
}

TEST_CASE("LayerNorm's gradients match finite differences", "[nn][layer_norm][gradcheck]") {
  pare::Rng rng(10);
  pare::LayerNorm ln(5);
  for (float& v : ln.weight().span()) v = rng.uniform(0.5f, 1.5f);
  auto x = pare::test::random_matrix(2, 10, rng);
  const auto w_out = pare::test::random_matrix(2, 10, rng);
  auto objective = [&] { return pare::test::weighted_sum(ln.infer(x), w_out); };
  (void)ln.forward(x);
  const auto gx = ln.backward(w_out);
  for (std::size_t k = 0; k < x.size(); ++k) {
    const double fd = pare::test::central_difference(x.data()[k], objective, 1e-2f);
    REQUIRE(gx.data()[k] == Approx(fd).margin(3e-3));
  }
  for (std::size_t k = 0; k < 5; ++k)
    REQUIRE(ln.weight_grad()[k] ==
            Approx(pare::test::central_difference(ln.weight()[k], objective, 1e-2f)).margin(3e-3));
}
