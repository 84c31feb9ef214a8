// SPDX-License-Identifier: Apache-2.0
// Channel removal: the shrunken model computes what the masked model computes.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "pare/nn/metrics.hpp"
#include "pare/prune/criteria.hpp"
#include "pare/prune/pruner.hpp"
#include "pare/prune/structured.hpp"
#include "prune_test_util.hpp"

static_assert(pare::DenseLayer<pare::Linear>);

TEST_CASE("remove_units shrinks both layers and keeps the masked model's outputs",
          "[prune][structured]") {
  const auto& setup = pare::test::trained_digits();
  auto model = setup.model;
  const pare::Pruner<pare::L2, pare::Channel> channels;
  const pare::Mask m0 = channels.mask({.weights = model.layer<0>().weight()}, 0.5);
  const auto keep0 = pare::remove_units<0, 2>(model, m0);
  const pare::Mask m1 = channels.mask({.weights = model.layer<2>().weight()}, 0.25);
  const auto keep1 = pare::remove_units<2, 4>(model, m1);

  // The reference: the same model with the removed units' rows and biases zeroed.
  auto masked = setup.model;
  auto zero_units = [](pare::Linear& fc, const std::vector<std::size_t>& keep) {
    for (std::size_t r = 0; r < fc.out_features(); ++r)
      if (std::find(keep.begin(), keep.end(), r) == keep.end()) {
        for (std::size_t c = 0; c < fc.in_features(); ++c) fc.weight()(r, c) = 0.0f;
        fc.bias()[r] = 0.0f;
      }
  };
  zero_units(masked.layer<0>(), keep0);
  zero_units(masked.layer<2>(), keep1);
  CHECK(keep0.size() == 64);
  CHECK(keep1.size() == 48);
  CHECK(model.layer<0>().weight().extents() == pare::Shape<2>{64, 64});
  CHECK(model.layer<2>().weight().extents() == pare::Shape<2>{48, 64});
  CHECK(model.layer<4>().weight().extents() == pare::Shape<2>{10, 48});
  CHECK(model.parameter_count() == 64 * 64 + 64 + 48 * 64 + 48 + 10 * 48 + 10);

  const auto& test = setup.data.test;
  const auto y = model.infer(test.x);
  const auto y_ref = masked.infer(test.x);
  for (std::size_t i = 0; i < y.size(); ++i)
    CHECK(y.data()[i] == Approx(y_ref.data()[i]).margin(1e-4));
  // The single-sample path sizes its buffers from the new shapes.
  CHECK(pare::accuracy(model, test) == pare::accuracy(masked, test));
  CHECK(pare::predict(model, test.x[0]) == pare::predict(masked, test.x[0]));

  // The shrunken model still trains.
  model.zero_grad();
  auto [loss, grad] = pare::softmax_cross_entropy(model.forward(test.x), test.y);
  (void)model.backward(grad);
  pare::Adam opt;
  opt.step(model.parameters());
  CHECK(std::isfinite(loss));
}

TEST_CASE("remove_units checks its arguments", "[prune][structured]") {
  pare::Linear a(4, 6), b(6, 3), c(5, 3);
  const std::vector<std::size_t> none, bad{0, 6}, unsorted{3, 1};
  CHECK_THROWS_AS(
      pare::remove_units(a, c, std::span<const std::size_t>(std::vector<std::size_t>{0})),
      pare::ShapeError);
  CHECK_THROWS_AS(pare::remove_units(a, b, std::span<const std::size_t>(none)),
                  pare::ArgumentError);
  CHECK_THROWS_AS(pare::remove_units(a, b, std::span<const std::size_t>(bad)), pare::ArgumentError);
  CHECK_THROWS_AS(pare::remove_units(a, b, std::span<const std::size_t>(unsorted)),
                  pare::ArgumentError);
}
