// SPDX-License-Identifier: Apache-2.0
// pare — a small reusable training loop with a progress bar, for any Layer, Optimizer and loss.
//
//   pare::Adam opt{.lr = 3e-3f};
//   pare::BatchLoader loader(train, 32, /*seed=*/7);
//   auto history = pare::train(model, opt, loader, /*epochs=*/20, pare::CrossEntropy{},
//                              {.lr_schedule = pare::CosineAnnealing{.base_lr = 3e-3f,
//                                                                    .t_max = 20}});
//
// The loss is any callable (logits, batch) -> LossAndGrad, so distillation passes a lambda that
// runs the teacher on batch.x and mixes soft and hard targets. Same seeds (model init, loader,
// dropout) give the same trained model, bit for bit: nothing here draws random numbers or depends
// on timing.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/nn/batches.hpp"
#include "pare/nn/concepts.hpp"
#include "pare/nn/loss.hpp"
#include "pare/nn/parameter.hpp"

namespace pare {

/// A training loss: given the model's output for a batch and the batch itself, the mean loss and
/// its gradient wrt the output (pare::LossAndGrad, as softmax_cross_entropy returns).
template <class F>
concept TrainLoss = requires(F& f, TensorView<const float, 2> out, const Batch& b) {
  { f(out, b) } -> std::same_as<LossAndGrad>;
};

/// Softmax cross-entropy against the batch's labels (torch.nn.CrossEntropyLoss).
struct CrossEntropy {
  [[nodiscard]] LossAndGrad operator()(TensorView<const float, 2> logits, const Batch& b) const {
    return softmax_cross_entropy(logits, b.y);
  }
};
static_assert(TrainLoss<CrossEntropy>);

/// Whether to draw a progress bar: only when stderr is a terminal (automatic), or always, or
/// never.
enum class ProgressMode { automatic, always, never };

/// A one-line progress bar on stderr, redrawn in place with '\r' at most every 100 ms:
///   "train epoch 3/20 [#####.....] 45% | 5120 items/s | loss 0.1234 | ETA 2.1 s"
/// Usable on its own for any long loop (pass the total item count, then `update`).
class ProgressBar {
 public:
  ProgressBar(std::size_t total, std::string label, ProgressMode mode = ProgressMode::automatic);
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar() { finish(); }

  [[nodiscard]] bool enabled() const noexcept { return enabled_; }

  /// Records `done` items finished out of the total; `status` goes after the rate (e.g. the
  /// loss). Redraws when 100 ms have passed since the last drawing, or when done == total.
  void update(std::size_t done, const std::string& status = {});

  /// Items per second since construction.
  [[nodiscard]] double rate() const;

  /// Ends the line (once); later updates draw nothing.
  void finish();

 private:
  using Clock = std::chrono::steady_clock;

  void draw(const std::string& status) const;

  std::size_t total_;
  std::size_t done_ = 0;
  std::string label_;
  Clock::time_point start_, last_draw_;
  bool enabled_ = false;
};

/// What one epoch did.
struct EpochReport {
  std::size_t epoch = 0;  ///< 0-based
  double mean_loss = 0;   ///< sample-weighted mean of the batch losses
  double seconds = 0;     ///< wall time of the epoch (not deterministic, unlike the rest)
  double items_per_second = 0;
  float lr = 0;  ///< the rate of the epoch's last step (0 if the optimizer has none)
};

/// Whether a schedule's step t counts epochs or batches (optimizer steps).
enum class ScheduleUnit { epoch, step };

struct TrainOptions {
  /// Sets the optimizer's `lr` before every epoch (or step): lr = lr_schedule(t). Empty: the
  /// optimizer's rate is left alone. Any pare::LrSchedule converts to this.
  std::function<float(std::size_t)> lr_schedule{};
  ScheduleUnit schedule_unit = ScheduleUnit::epoch;
  ProgressMode progress = ProgressMode::automatic;
  std::string label = "train";
  /// Called after each epoch (e.g. to print or evaluate); the model is in eval mode during the
  /// call and back in training mode after it.
  std::function<void(const EpochReport&)> on_epoch{};
};

namespace detail {
template <class M>
void set_training_mode(M& model, bool on) {
  if constexpr (requires { model.set_training(on); }) model.set_training(on);
}
template <class O>
void set_lr(O& opt, const TrainOptions& options, std::size_t t) {
  if constexpr (requires { opt.lr = 1.0f; })
    if (options.lr_schedule) opt.lr = options.lr_schedule(t);
}
template <class O>
float optimizer_lr(const O& opt) {
  if constexpr (requires { opt.lr; })
    return static_cast<float>(opt.lr);
  else
    return 0.0f;
}
}  // namespace detail

/// Trains `model` for `epochs` passes over `loader`: per batch, zero the gradients, forward, loss,
/// backward, optimizer step. The model is put in training mode (set_training(true), if it has
/// one) for the run and left in eval mode after it. Returns one report per epoch.
/// @pre the model's output width matches what `loss` expects; epochs > 0.
template <Layer M, Optimizer O, TrainLoss L>
std::vector<EpochReport> train(M& model, O& optimizer, BatchLoader& loader, std::size_t epochs,
                               L&& loss, const TrainOptions& options = {}) {
  PARE_CHECK(epochs > 0, ArgumentError, "train: epochs must be positive");
  constexpr bool has_lr = requires { optimizer.lr = 1.0f; };
  PARE_CHECK(has_lr || !options.lr_schedule, ArgumentError,
             "train: a learning-rate schedule needs an optimizer with a public `lr` member");
  std::vector<Parameter> params;
  model.for_each_parameter([&](const Parameter& p) { params.push_back(p); });
  // Samples per epoch: full batches plus the (possibly shorter) last one.
  const std::size_t batches = loader.size();
  const std::size_t per_epoch =
      batches == 0 ? 0 : (batches - 1) * loader.batch_size() + loader.batch(batches - 1).y.size();
  std::vector<EpochReport> history;
  std::size_t step = 0;
  ProgressBar bar(per_epoch * epochs, options.label, options.progress);
  detail::set_training_mode(model, true);
  for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    if (options.schedule_unit == ScheduleUnit::epoch) detail::set_lr(optimizer, options, epoch);
    double loss_sum = 0;
    std::size_t seen = 0;
    for (const Batch& b : loader.epoch()) {
      if (options.schedule_unit == ScheduleUnit::step) detail::set_lr(optimizer, options, step);
      for (const Parameter& p : params)
        for (float& g : p.grad) g = 0.0f;
      const Tensor<float, 2> out = model.forward(b.x);
      // A user's loss reads one output row per label; a model that changes the row count
      // would have it read past one of them.
      PARE_CHECK(out.extent(0) == b.y.size(), ShapeError, "train: the model returned ",
                 out.extent(0), " rows for a batch of ", b.y.size(), " samples");
      LossAndGrad lg = loss(TensorView<const float, 2>(out), b);
      PARE_CHECK(std::isfinite(lg.loss), ArgumentError, "train: the loss became ", lg.loss,
                 " at epoch ", epoch, ", step ", step, " (learning rate too high, or bad inputs?)");
      (void)model.backward(lg.grad);
      optimizer.step(params);
      ++step;
      const std::size_t n = b.y.size();
      loss_sum += static_cast<double>(lg.loss) * static_cast<double>(n);
      seen += n;
      if (bar.enabled()) {
        char status[64];
        std::snprintf(status, sizeof status, "epoch %zu/%zu | loss %.4f", epoch + 1, epochs,
                      loss_sum / static_cast<double>(seen));
        bar.update(epoch * per_epoch + seen, status);
      }
    }
    EpochReport r;
    r.epoch = epoch;
    r.mean_loss = seen ? loss_sum / static_cast<double>(seen) : 0.0;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.items_per_second = r.seconds > 0 ? static_cast<double>(seen) / r.seconds : 0.0;
    r.lr = detail::optimizer_lr(optimizer);
    history.push_back(r);
    if (options.on_epoch) {
      detail::set_training_mode(model, false);
      options.on_epoch(r);
      detail::set_training_mode(model, true);
    }
  }
  detail::set_training_mode(model, false);
  return history;
}

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/nn/trainer-inl.hpp"
#endif
