// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/trainer.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <utility>

#include "pare/nn/trainer.hpp"

namespace pare {

PARE_INLINE ProgressBar::ProgressBar(std::size_t total, std::string label, ProgressMode mode)
    : total_(total), label_(std::move(label)), start_(Clock::now()), last_draw_(start_) {
  enabled_ = mode == ProgressMode::always ||
             (mode == ProgressMode::automatic && ::isatty(::fileno(stderr)) != 0);
}

PARE_INLINE void ProgressBar::update(std::size_t done, const std::string& status) {
  done_ = done;
  if (!enabled_) return;
  const auto now = Clock::now();
  if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(status);
}

PARE_INLINE double ProgressBar::rate() const {
  const double s = std::chrono::duration<double>(Clock::now() - start_).count();
  return s > 0 ? static_cast<double>(done_) / s : 0.0;
}

PARE_INLINE void ProgressBar::finish() {
  if (enabled_) std::fputc('\n', stderr);
  enabled_ = false;
}

PARE_INLINE void ProgressBar::draw(const std::string& status) const {
  constexpr int width = 20;
  const double frac = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  const int filled = static_cast<int>(frac * width);
  char bar[width + 1];
  for (int i = 0; i < width; ++i) bar[i] = i < filled ? '#' : '.';
  bar[width] = '\0';
  const double r = rate();
  const double eta = r > 0 ? static_cast<double>(total_ - done_) / r : 0.0;
  std::fprintf(stderr, "\r%s [%s] %3.0f%% | %.0f items/s%s%s | ETA %.1f s   ", label_.c_str(), bar,
               100 * frac, r, status.empty() ? "" : " | ", status.c_str(), eta);
  std::fflush(stderr);
}

}  // namespace pare
