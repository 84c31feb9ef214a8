// SPDX-License-Identifier: Apache-2.0
#include "pare/nn/metrics.hpp"

#include <catch2/catch.hpp>

#include "nn/test_util.hpp"
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

namespace {
using pare::test::RowDoubler;

pare::Dataset three_samples() {
  pare::Dataset d{pare::Tensor<float, 2>({3, 2}), pare::Tensor<std::int32_t, 1>({3})};
  d.x(0, 0) = 1;  // class 0
  d.x(1, 1) = 1;  // class 1
  d.x(2, 0) = 1;  // class 0, labelled 1
  d.y[1] = 1;
  d.y[2] = 1;
  return d;
}
}  // namespace

TEST_CASE("accuracy checks that predictions and labels pair up", "[nn][metrics]") {
  const pare::Dataset d = three_samples();
  pare::Linear id(2, 2);
  id.weight()(0, 0) = id.weight()(1, 1) = 1.0f;
  CHECK(pare::accuracy(id, d) == Approx(2.0 / 3.0));
  // The model gives 6 rows of logits for 3 labels: refused, never read past the labels.
  CHECK_THROWS_WITH(pare::accuracy(RowDoubler{}, d),
                    Catch::Contains("6 rows of logits for 3 samples"));
  // x and y disagree on the sample count.
  pare::Dataset short_y{pare::Tensor<float, 2>(d.x), pare::Tensor<std::int32_t, 1>({2})};
  CHECK_THROWS_AS(pare::accuracy(id, short_y), pare::ShapeError);
  pare::Dataset long_y{pare::Tensor<float, 2>(d.x), pare::Tensor<std::int32_t, 1>({4})};
  CHECK_THROWS_AS(pare::accuracy(id, long_y), pare::ShapeError);
}

TEST_CASE("accuracy of predictions and of logits computed elsewhere", "[nn][metrics]") {
  const std::vector<std::int32_t> pred{0, 1, 2, 2}, labels{0, 1, 1, 2};
  CHECK(pare::accuracy(pred, labels) == 0.75);
  const std::vector<std::int32_t> three{0, 1, 1};
  CHECK_THROWS_WITH(pare::accuracy(pred, three), Catch::Contains("4 predictions for 3 labels"));
  CHECK_THROWS_AS(pare::accuracy(three, pred), pare::ShapeError);
  CHECK_THROWS_AS(pare::accuracy(std::vector<std::int32_t>{}, std::vector<std::int32_t>{}),
                  pare::ArgumentError);

  const pare::Dataset d = three_samples();  // x doubles as logits: argmax 0, 1, 0
  CHECK(pare::accuracy(d.x.view(), d.y.view()) == Approx(2.0 / 3.0));
  const pare::Tensor<std::int32_t, 1> two({2}), four({4});
  CHECK_THROWS_AS(pare::accuracy(d.x.view(), two.view()), pare::ShapeError);
  CHECK_THROWS_AS(pare::accuracy(d.x.view(), four.view()), pare::ShapeError);
}
