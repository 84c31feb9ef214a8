// SPDX-License-Identifier: Apache-2.0
// pare — pruning schedules: at which training steps to prune, and how far.
//
// When to use which:
// - `OneShot`: prune once (after training, or at `step`), then optionally fine-tune with the mask
//   kept (MaskedOptimizer). Cheapest; enough up to ~50–80 % on small models.
// - `Polynomial` (Zhu & Gupta 2017): raise the sparsity gradually during training, fast at first
//   and slowly near the end, so the network adapts; the usual choice for high sparsity.
// - `Iterative` (Han et al. 2015): a fixed number of prune → fine-tune cycles, each removing the
//   same fraction of what is left.
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/prune/concepts.hpp"

namespace pare {

/// Prune once, at `step`, to `target`.
struct OneShot {
  double target = 0.5;
  std::size_t step = 0;

  [[nodiscard]] bool prunes_at(std::size_t t) const noexcept { return t == step; }
  [[nodiscard]] double sparsity(std::size_t t) const noexcept { return t >= step ? target : 0.0; }
};
static_assert(PruneSchedule<OneShot>);

/// Gradual pruning of Zhu & Gupta ("To prune, or not to prune", 2017): at the pruning steps
/// t = t₀, t₀+Δt, …, t₀+nΔt (begin, begin + frequency, …, end) the target is
///   s_t = s_f + (s_i − s_f) · (1 − (t − t₀)/(nΔt))³,
/// and it stays at the last pruning step's value in between. Before `begin` nothing is pruned
/// (0); from `end` on it is s_f. `end` is always a pruning step, even if `end − begin` is not a
/// multiple of `frequency`.
struct Polynomial {
  double initial = 0.0;         ///< s_i, the target at `begin`
  double final = 0.9;           ///< s_f, reached at `end`
  std::size_t begin = 0;        ///< t₀
  std::size_t end = 1000;       ///< t₀ + nΔt
  std::size_t frequency = 100;  ///< Δt, steps between pruning steps

  [[nodiscard]] bool prunes_at(std::size_t t) const;
  [[nodiscard]] double sparsity(std::size_t t) const;

 private:
  void check() const;
};
static_assert(PruneSchedule<Polynomial>);

/// `cycles` rounds of prune → fine-tune, one every `steps_per_cycle` steps starting at step 0.
/// Round k (1-based) prunes to 1 − (1 − s_f)^(k/cycles): each round removes the same fraction of
/// the weights still left, and the last reaches s_f.
struct Iterative {
  double final = 0.9;
  std::size_t cycles = 4;
  std::size_t steps_per_cycle = 1000;

  [[nodiscard]] bool prunes_at(std::size_t t) const;
  [[nodiscard]] double sparsity(std::size_t t) const;

 private:
  void check() const;
};
static_assert(PruneSchedule<Iterative>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/prune/schedule-inl.hpp"
#endif
