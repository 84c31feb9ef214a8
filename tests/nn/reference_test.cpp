// SPDX-License-Identifier: Apache-2.0
// Linear → ReLU → Linear, cross-entropy, backward, SGD and Adam against PyTorch 1.13
// (tests/data/nn/make_nn_refs.py writes the reference files).
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "nn/test_util.hpp"
#include "pare/nn/adam.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/loss.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"
#include "pare/nn/sgd.hpp"

namespace {

using pare::test::RefTensor;

const auto& weights() {
  static const auto w =
      pare::test::read_refs(std::string(PARE_TEST_DATA_DIR) + "/nn/nn_weights.txt");
  return w;
}
const auto& refs() {
  static const auto r = pare::test::read_refs(std::string(PARE_TEST_DATA_DIR) + "/nn/nn_refs.txt");
  return r;
}

using Mlp = pare::Sequential<pare::Linear, pare::ReLU, pare::Linear>;

Mlp reference_model() {
  const auto& w = weights();
  const auto w1 = w.at("w1").matrix(), w2 = w.at("w2").matrix();
  Mlp m(pare::Linear(w1.extent(1), w1.extent(0)), pare::ReLU{},
        pare::Linear(w2.extent(1), w2.extent(0)));
  m.layer<0>().weight() = w1;
  m.layer<0>().bias() = w.at("b1").vector();
  m.layer<2>().weight() = w2;
  m.layer<2>().bias() = w.at("b2").vector();
  return m;
}

pare::Tensor<std::int32_t, 1> reference_labels() {
  const auto& y = weights().at("y").values;
  pare::Tensor<std::int32_t, 1> t({y.size()});
  for (std::size_t i = 0; i < y.size(); ++i) t[i] = static_cast<std::int32_t>(y[i]);
  return t;
}

// |a - b| <= 1e-5 · max(|b|, 1e-2): relative, with a floor so that values near zero are compared
// at the scale of the tensor's typical entries.
void require_close(std::span<const float> got, const RefTensor& want, const std::string& what) {
  INFO(what);
  REQUIRE(got.size() == want.values.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    REQUIRE(got[i] == Approx(want.values[i]).epsilon(1e-5).margin(1e-7));
  }
}

float forward_backward(Mlp& m, const pare::Tensor<float, 2>& x,
                       const pare::Tensor<std::int32_t, 1>& y) {
  m.zero_grad();
  auto [loss, grad] = pare::softmax_cross_entropy(m.forward(x), y);
  (void)m.backward(grad);
  return loss;
}

}  // namespace

TEST_CASE("forward, loss and backward match PyTorch", "[nn][reference]") {
  auto m = reference_model();
  const auto x = weights().at("x").matrix();
  const auto y = reference_labels();

  const auto logits = m.forward(x);
  require_close(logits.span(), refs().at("logits"), "logits");
  require_close(m.infer(x).span(), refs().at("logits"), "logits through infer");
  const auto hidden = m.layer<1>().infer(m.layer<0>().infer(x));
  require_close(hidden.span(), refs().at("hidden"), "hidden activations");
  // The fixture must exercise both sides of the ReLU.
  std::size_t zeros = 0;
  for (float h : hidden.span()) zeros += h == 0.0f;
  REQUIRE(zeros > 0);
  REQUIRE(zeros < hidden.size());

  auto [loss, grad_logits] = pare::softmax_cross_entropy(logits, y);
  REQUIRE(loss == Approx(refs().at("loss").values[0]).epsilon(1e-6));
  require_close(grad_logits.span(), refs().at("grad_logits"), "grad wrt logits");

  m.zero_grad();
  const auto grad_x = m.backward(grad_logits);
  require_close(grad_x.span(), refs().at("grad_x"), "grad wrt input");
  require_close(m.layer<0>().weight_grad().span(), refs().at("grad_w1"), "grad w1");
  require_close(m.layer<0>().bias_grad().span(), refs().at("grad_b1"), "grad b1");
  require_close(m.layer<2>().weight_grad().span(), refs().at("grad_w2"), "grad w2");
  require_close(m.layer<2>().bias_grad().span(), refs().at("grad_b2"), "grad b2");
}

TEST_CASE("two SGD steps with momentum and weight decay match torch.optim.SGD", "[nn][reference]") {
  auto m = reference_model();
  const auto x = weights().at("x").matrix();
  const auto y = reference_labels();
  pare::Sgd opt{.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f};
  for (int step = 1; step <= 2; ++step) {
    forward_backward(m, x, y);
    opt.step(m.parameters());
    const std::string p = "sgd" + std::to_string(step) + "_";
    require_close(m.layer<0>().weight().span(), refs().at(p + "w1"), p + "w1");
    require_close(m.layer<0>().bias().span(), refs().at(p + "b1"), p + "b1");
    require_close(m.layer<2>().weight().span(), refs().at(p + "w2"), p + "w2");
    require_close(m.layer<2>().bias().span(), refs().at(p + "b2"), p + "b2");
  }
}

TEST_CASE("two Adam steps match torch.optim.Adam", "[nn][reference]") {
  auto m = reference_model();
  const auto x = weights().at("x").matrix();
  const auto y = reference_labels();
  pare::Adam opt{.lr = 0.01f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
  for (int step = 1; step <= 2; ++step) {
    forward_backward(m, x, y);
    opt.step(m.parameters());
    const std::string p = "adam" + std::to_string(step) + "_";
    require_close(m.layer<0>().weight().span(), refs().at(p + "w1"), p + "w1");
    require_close(m.layer<0>().bias().span(), refs().at(p + "b1"), p + "b1");
    require_close(m.layer<2>().weight().span(), refs().at(p + "w2"), p + "w2");
    require_close(m.layer<2>().bias().span(), refs().at(p + "b2"), p + "b2");
  }
  REQUIRE(opt.steps() == 2);
}
