// SPDX-License-Identifier: Apache-2.0
#include "pare/nn/metrics.hpp"

#include <catch2/catch.hpp>

#include "pare/nn/linear.hpp"

TEST_CASE("predict and accuracy take the argmax of the logits", "[nn][metrics]") {
  // A Linear that copies its 3 inputs to 3 logits: the prediction is the argmax of the input.
  pare::Linear id(3, 3);
  for (std::size_t i = 0; i < 3; ++i) id.weight()(i, i) = 1.0f;
  pare::Dataset d{pare::Tensor<float, 2>({4, 3}), pare::Tensor<std::int32_t, 1>({4})};
  const float x[] = {1, 0, 0, 0, 2, 1, 0, 5, 5, -1, -2, -0.5f};
  for (std::size_t i = 0; i < 12; ++i) d.x.data()[i] = x[i];
  d.y[0] = 0;
  d.y[1] = 1;
  d.y[2] = 1;  // a tie goes to the first index (1), as torch.argmax
  d.y[3] = 0;  // predicted 2
  CHECK(pare::predict(id, d.x.view()) == std::vector<std::int32_t>{0, 1, 1, 2});
  CHECK(pare::predict(id, d.x[3]) == 2);
  CHECK(pare::accuracy(id, d) == 0.75);
  REQUIRE_THROWS_AS(pare::accuracy(id, pare::Dataset{}), pare::ArgumentError);
}
