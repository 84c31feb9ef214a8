// SPDX-License-Identifier: Apache-2.0
#include "pare/nn/dataset.hpp"

#include <catch2/catch.hpp>
#include <set>

#include "pare/nn/batches.hpp"

namespace {
// 100 samples, 4 classes of 10, 20, 30, 40; x(i, 0) = i so rows can be traced.
pare::Dataset toy() {
  pare::Dataset d{pare::Tensor<float, 2>({100, 2}), pare::Tensor<std::int32_t, 1>({100})};
  for (std::size_t i = 0; i < 100; ++i) {
    d.x(i, 0) = static_cast<float>(i);
    d.x(i, 1) = -static_cast<float>(i);
    d.y[i] = i < 10 ? 0 : i < 30 ? 1 : i < 60 ? 2 : 3;
  }
  return d;
}
std::vector<int> ids(const pare::Dataset& d) {
  std::vector<int> v;
  for (std::size_t i = 0; i < d.size(); ++i) v.push_back(static_cast<int>(d.x(i, 0)));
  return v;
}
}  // namespace

TEST_CASE("train_test_split partitions the samples, reproducibly", "[nn][dataset]") {
  const auto d = toy();
  const auto [train, test] = pare::train_test_split(d, 0.25f, 9);
  REQUIRE(test.size() == 25);
  REQUIRE(train.size() == 75);
  std::set<int> all;
  for (const auto* part : {&train, &test})
    for (std::size_t i = 0; i < part->size(); ++i) {
      const auto id = static_cast<std::size_t>(part->x(i, 0));
      REQUIRE(part->x(i, 1) == -part->x(i, 0));  // rows stay whole
      REQUIRE(part->y[i] == d.y[id]);            // labels follow their rows
      all.insert(static_cast<int>(id));
    }
  REQUIRE(all.size() == 100);
  CHECK(ids(pare::train_test_split(d, 0.25f, 9).test) == ids(test));
  CHECK(ids(pare::train_test_split(d, 0.25f, 10).test) != ids(test));
  CHECK(pare::train_test_split(d, 0.301f, 9).test.size() == 31);  // ⌈30.1⌉, as scikit-learn
  REQUIRE_THROWS_AS(pare::train_test_split(d, 0.0f, 9), pare::ArgumentError);
  REQUIRE_THROWS_AS(pare::train_test_split(d, 1.0f, 9), pare::ArgumentError);
  CHECK(pare::train_test_split(d, 0.001f, 9).test.size() == 1);                  // ⌈0.1⌉
  REQUIRE_THROWS_AS(pare::train_test_split(d, 0.999f, 9), pare::ArgumentError);  // no training set
}

TEST_CASE("stratified split keeps class shares", "[nn][dataset]") {
  const auto [train, test] = pare::train_test_split(toy(), 0.2f, 3, pare::Stratify::yes);
  int per_class[4] = {};
  for (std::size_t i = 0; i < test.size(); ++i) ++per_class[test.y[i]];
  CHECK(per_class[0] == 2);
  CHECK(per_class[1] == 4);
  CHECK(per_class[2] == 6);
  CHECK(per_class[3] == 8);
  CHECK(train.size() == 80);
}

TEST_CASE("BatchLoader covers every sample once per epoch in a seeded order", "[nn][batches]") {
  const auto d = toy();
  pare::BatchLoader a(d, 32, 5), b(d, 32, 5);
  REQUIRE(a.size() == 4);
  std::vector<int> first;
  for (int epoch = 0; epoch < 2; ++epoch) {
    std::multiset<int> seen;
    std::vector<int> order_a, order_b;
    std::vector<std::size_t> sizes;
    for (const pare::Batch& batch : a.epoch()) {
      sizes.push_back(batch.y.size());
      for (std::size_t i = 0; i < batch.y.size(); ++i) {
        const int id = static_cast<int>(batch.x(i, 0));
        REQUIRE(batch.y[i] == d.y[static_cast<std::size_t>(id)]);
        seen.insert(id);
        order_a.push_back(id);
      }
    }
    for (const pare::Batch& batch : b.epoch())
      for (std::size_t i = 0; i < batch.y.size(); ++i)
        order_b.push_back(static_cast<int>(batch.x(i, 0)));
    CHECK(sizes == std::vector<std::size_t>{32, 32, 32, 4});
    REQUIRE(seen.size() == 100);
    REQUIRE(std::set<int>(seen.begin(), seen.end()).size() == 100);
    CHECK(order_a == order_b);  // same seed, same order
    if (epoch == 0)
      first = order_a;
    else
      CHECK(order_a != first);  // a new order each epoch
  }
  REQUIRE_THROWS_AS(pare::BatchLoader(d, 0, 1), pare::ArgumentError);
}

TEST_CASE("BatchLoader refuses features and labels of different lengths", "[nn][batches]") {
  // Batches gather x and y by the same index: a shorter x would be read past its end.
  const pare::Dataset more_labels{pare::Tensor<float, 2>({3, 2}),
                                  pare::Tensor<std::int32_t, 1>({5})};
  CHECK_THROWS_WITH(pare::BatchLoader(more_labels, 2, 1),
                    Catch::Contains("[3, 2]") && Catch::Contains("[5]"));
  const pare::Dataset more_rows{pare::Tensor<float, 2>({5, 2}), pare::Tensor<std::int32_t, 1>({3})};
  CHECK_THROWS_AS(pare::BatchLoader(more_rows, 2, 1), pare::ShapeError);
}
