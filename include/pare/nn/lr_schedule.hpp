// SPDX-License-Identifier: Apache-2.0
// pare — learning-rate schedules, with torch.optim.lr_scheduler's formulas.
//
// When to use which:
// - `StepLr` — drop the rate by `gamma` every `step_size` epochs (torch StepLR); simple and robust.
// - `CosineAnnealing` — decay smoothly from the base rate to `eta_min` over `t_max` steps (torch
//   CosineAnnealingLR), optionally after a linear warmup (torch LinearLR followed by it through
//   SequentialLR); the usual choice for short training runs and fine-tuning after pruning.
//
// A schedule is a value: `schedule(t)` is the rate for step t (an epoch or an iteration: the
// caller decides), so it needs no state and restarts trivially. pare::train applies one per epoch
// or per batch (TrainOptions::schedule_unit).
#pragma once

#include <concepts>
#include <cstddef>

#include "pare/core/config.hpp"

namespace pare {

/// A learning-rate schedule: the rate for step t = 0, 1, 2, ... (a pure function of t).
template <class S>
concept LrSchedule = requires(const S& s, std::size_t t) {
  { s(t) } -> std::convertible_to<float>;
};

/// The same rate at every step.
struct ConstantLr {
  float lr = 1e-3f;
  [[nodiscard]] float operator()(std::size_t /*t*/) const noexcept { return lr; }
};

/// lr(t) = base_lr · gamma^⌊t / step_size⌋ (torch.optim.lr_scheduler.StepLR).
struct StepLr {
  float base_lr = 1e-3f;
  std::size_t step_size = 10;
  float gamma = 0.1f;

  [[nodiscard]] float operator()(std::size_t t) const;
};

/// Cosine annealing from base_lr to eta_min over t_max steps (torch CosineAnnealingLR):
///   lr(t) = eta_min + (base_lr − eta_min) · (1 + cos(π·t / t_max)) / 2,
/// after an optional linear warmup of `warmup` steps from base_lr·warmup_start_factor up to
/// base_lr (torch LinearLR(start_factor, total_iters = warmup) then the cosine, through
/// SequentialLR(milestones = [warmup]); the cosine's t counts from the end of the warmup).
/// Past the end (t ≥ warmup + t_max) the rate stays at eta_min, where torch's closed form would
/// start to rise again.
struct CosineAnnealing {
  float base_lr = 1e-3f;
  std::size_t t_max = 100;
  float eta_min = 0.0f;
  std::size_t warmup = 0;
  float warmup_start_factor = 1.0f / 3.0f;  ///< torch LinearLR's default

  [[nodiscard]] float operator()(std::size_t t) const;
};

static_assert(LrSchedule<ConstantLr>);
static_assert(LrSchedule<StepLr>);
static_assert(LrSchedule<CosineAnnealing>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/nn/lr_schedule-inl.hpp"
#endif
