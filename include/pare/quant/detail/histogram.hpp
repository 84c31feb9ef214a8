// SPDX-License-Identifier: Apache-2.0
// pare — a streaming histogram whose window doubles when data falls outside it (Percentile and
// Entropy observers). Doubling merges pairs of bins, which is exact: counts never move between
// bins that the new window keeps apart, so re-binning adds no error beyond one bin width.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

namespace pare::detail {

/// `bins` equal bins over [origin, origin + width]; the last bin includes its right edge.
/// Empty (no window) until `reset_window` is called. The window spans less than twice the range
/// of the data it holds once it has doubled, so a bin is at most 2 (max - min) / bins wide.
class DoublingHistogram {
 public:
  DoublingHistogram() = default;
  /// @pre bins is even and >= 2
  explicit DoublingHistogram(std::size_t bins) : bins_(bins) {}

  [[nodiscard]] bool empty() const noexcept { return counts_.empty(); }
  [[nodiscard]] std::size_t bins() const noexcept { return bins_; }
  [[nodiscard]] double origin() const noexcept { return origin_; }
  [[nodiscard]] double width() const noexcept { return width_; }
  [[nodiscard]] double bin_width() const noexcept { return width_ / static_cast<double>(bins_); }
  [[nodiscard]] double total() const noexcept { return total_; }
  [[nodiscard]] std::span<const double> counts() const noexcept { return counts_; }

  /// Starts an empty window [lo, hi]; a zero-width range gets a tiny positive width.
  void reset_window(double lo, double hi) {
    counts_.assign(bins_, 0.0);
    total_ = 0;
    origin_ = lo;
    width_ = hi > lo ? hi - lo : std::max(std::abs(lo) * 1e-6, 1e-30);
  }

  /// Doubles the window (merging bin pairs) until it covers [lo, hi].
  /// @pre the window exists; lo and hi are finite
  void grow_to(double lo, double hi) {
    while (lo < origin_) double_window(/*to_the_right=*/false);
    while (hi > origin_ + width_) double_window(/*to_the_right=*/true);
  }

  /// Counts finite values inside the window; call `grow_to` first so that none is outside.
  void add(std::span<const float> x) noexcept {
    const double scale = static_cast<double>(bins_) / width_;
    for (float v : x) {
      if (!std::isfinite(v)) continue;
      const double pos = (static_cast<double>(v) - origin_) * scale;
      if (pos < 0) continue;
      counts_[std::min(static_cast<std::size_t>(pos), bins_ - 1)] += 1;
      total_ += 1;
    }
  }

  /// The value below which a fraction q of the counts lie, interpolated linearly inside the bin
  /// where the cumulative count crosses q · total (counts taken as spread evenly in a bin).
  /// @pre total() > 0, 0 <= q <= 1
  [[nodiscard]] double quantile(double q) const noexcept {
    const double target = q * total_;
    double before = 0;
    for (std::size_t b = 0; b < bins_; ++b) {
      const double c = counts_[b];
      if (c > 0 && before + c >= target) {
        const double frac = std::clamp((target - before) / c, 0.0, 1.0);
        return origin_ + (static_cast<double>(b) + frac) * bin_width();
      }
      before += c;
    }
    return origin_ + width_;
  }

 private:
  void double_window(bool to_the_right) {
    const std::size_t half = bins_ / 2;
    std::vector<double> merged(bins_, 0.0);
    const std::size_t offset = to_the_right ? 0 : half;
    for (std::size_t k = 0; k < half; ++k) merged[offset + k] = counts_[2 * k] + counts_[2 * k + 1];
    counts_ = std::move(merged);
    if (!to_the_right) origin_ -= width_;
    width_ *= 2;
  }

  std::size_t bins_ = 4096;
  std::vector<double> counts_;
  double origin_ = 0;
  double width_ = 0;
  double total_ = 0;
};

}  // namespace pare::detail
