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

#include "pare/core/config.hpp"

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
  void reset_window(double lo, double hi);

  /// Doubles the window (merging bin pairs) until it covers [lo, hi].
  /// @pre the window exists; lo and hi are finite
  void grow_to(double lo, double hi);

  /// Counts finite values inside the window; call `grow_to` first so that none is outside.
  void add(std::span<const float> x) noexcept;

  /// The value below which a fraction q of the counts lie, interpolated linearly inside the bin
  /// where the cumulative count crosses q · total (counts taken as spread evenly in a bin).
  /// @pre total() > 0, 0 <= q <= 1
  [[nodiscard]] double quantile(double q) const noexcept;

 private:
  void double_window(bool to_the_right);

  std::size_t bins_ = 4096;
  std::vector<double> counts_;
  double origin_ = 0;
  double width_ = 0;
  double total_ = 0;
};

}  // namespace pare::detail

#ifndef PARE_COMPILED_LIB
#include "pare/quant/detail/histogram-inl.hpp"
#endif
