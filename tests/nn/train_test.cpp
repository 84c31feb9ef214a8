// SPDX-License-Identifier: Apache-2.0
// End to end on the real digits data: the pieces together learn.
#include <catch2/catch.hpp>
#include <string>

#include "pare/io/digits.hpp"
#include "pare/nn/adam.hpp"
#include "pare/nn/batches.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/loss.hpp"
#include "pare/nn/metrics.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"
#include "pare/nn/sgd.hpp"

namespace {

const pare::Split& digits_split() {
  static const pare::Split s = pare::train_test_split(
      pare::load_digits(std::string(PARE_EXAMPLES_DATA_DIR) + "/digits.csv"));
  return s;
}

// Debug + sanitizer builds (PARE_FULL_SWEEP == 0) train a narrower net for fewer epochs.
constexpr std::size_t hidden = PARE_FULL_SWEEP ? 64 : 32;
constexpr int epochs = PARE_FULL_SWEEP ? 10 : 6;

template <class Opt>
double train_digits(Opt opt, std::uint64_t seed) {
  const auto& [train, test] = digits_split();
  pare::Rng rng(seed);
  pare::Sequential model{pare::Linear(64, hidden, rng), pare::ReLU{},
                         pare::Linear(hidden, 10, rng)};
  pare::BatchLoader loader(train, 32, seed);
  float first_loss = 0, last_loss = 0;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    double sum = 0;
    for (const pare::Batch& b : loader.epoch()) {
      model.zero_grad();
      auto [loss, grad] = pare::softmax_cross_entropy(model.forward(b.x), b.y);
      (void)model.backward(grad);
      opt.step(model.parameters());
      sum += loss;
    }
    last_loss = static_cast<float>(sum / static_cast<double>(loader.size()));
    if (epoch == 0) first_loss = last_loss;
  }
  CHECK(last_loss < 0.5f * first_loss);
  return pare::accuracy(model, test);
}

}  // namespace

TEST_CASE("an MLP trained with Adam reaches 90% on digits", "[nn][train][slow]") {
  const double acc = train_digits(pare::Adam{.lr = 3e-3f}, 1);
  INFO("test accuracy " << acc);
  REQUIRE(acc >= 0.90);
  // Deterministic: the same seed trains the same model.
  REQUIRE(train_digits(pare::Adam{.lr = 3e-3f}, 1) == acc);
}

TEST_CASE("an MLP trained with SGD + momentum reaches 90% on digits", "[nn][train][slow]") {
  const double acc = train_digits(pare::Sgd{.lr = 0.05f, .momentum = 0.9f}, 2);
  INFO("test accuracy " << acc);
  REQUIRE(acc >= 0.90);
}
