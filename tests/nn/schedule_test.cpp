// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "nn/train_refs.hpp"
#include "pare/nn/adam.hpp"
#include "pare/nn/lr_schedule.hpp"

using pare::Tensor;
using pare::test::train_ref;

TEST_CASE("AdamW's steps equal torch.optim.AdamW's", "[nn][optim][reference]") {
  auto p = train_ref<2>("adamw.p0");
  Tensor<float, 2> g(p.extents());
  pare::AdamW opt{.lr = 0.01f, .weight_decay = 0.1f};
  const pare::Parameter param{p.span(), g.span()};
  for (int k = 0; k < 3; ++k) {
    pare::test::load_ref("adamw.g" + std::to_string(k), g);
    opt.step({&param, 1});
  }
  CHECK(opt.steps() == 3);
  pare::test::check_ref(p, "adamw.p3", 1e-6, 1e-7);
}

TEST_CASE("StepLr and CosineAnnealing (with warmup) give torch's rates",
          "[nn][lr_schedule][reference]") {
  const auto step = train_ref<1>("lr.step");
  const pare::StepLr s{.base_lr = 0.1f, .step_size = 3, .gamma = 0.5f};
  for (std::size_t t = 0; t < step.size(); ++t) REQUIRE(s(t) == Approx(step[t]).epsilon(1e-6));

  const auto cosine = train_ref<1>("lr.cosine");
  const pare::CosineAnnealing c{.base_lr = 0.1f, .t_max = 10, .eta_min = 0.001f};
  for (std::size_t t = 0; t < cosine.size(); ++t)
    REQUIRE(c(t) == Approx(cosine[t]).epsilon(1e-5).margin(1e-8));
  CHECK(c(25) == Approx(0.001f));  // stays at eta_min past the end

  const auto warm = train_ref<1>("lr.warmup_cosine");
  const pare::CosineAnnealing w{
      .base_lr = 0.1f, .t_max = 7, .warmup = 3, .warmup_start_factor = 0.1f};
  for (std::size_t t = 0; t < warm.size(); ++t)
    REQUIRE(w(t) == Approx(warm[t]).epsilon(1e-5).margin(1e-7));
  CHECK_THROWS_AS(pare::StepLr{.step_size = 0}(1), pare::ArgumentError);
}
