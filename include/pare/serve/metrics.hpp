// SPDX-License-Identifier: Apache-2.0
// pare — server metrics in the Prometheus text format: counters, histograms and latency
// quantiles, safe to update from any thread.
//
//     pare::serve::Histogram batch_rows({1, 2, 4, 8, 16, 32, 64});
//     batch_rows.observe(12);
//     std::string text;
//     batch_rows.write(text, "pare_batch_rows", "rows per model run");
//
// Quantiles (p50/p90/p99) come from the last `window` observations (a sliding window, exact over
// it), written as a Prometheus summary; histograms keep cumulative buckets since start.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pare/core/config.hpp"

namespace pare::serve {

/// A monotonically increasing count.
class Counter {
 public:
  void add(std::uint64_t n = 1) noexcept { n_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const noexcept { return n_.load(std::memory_order_relaxed); }
  void write(std::string& out, std::string_view name, std::string_view help) const;

 private:
  std::atomic<std::uint64_t> n_{0};
};

/// Counters by one label value (`code="200"`, `result="ok"`).
class LabeledCounter {
 public:
  explicit LabeledCounter(std::string label) : label_(std::move(label)) {}
  void add(const std::string& value, std::uint64_t n = 1);
  [[nodiscard]] std::uint64_t value(const std::string& value) const;
  void write(std::string& out, std::string_view name, std::string_view help) const;

 private:
  std::string label_;
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t> counts_;
};

/// Observations in cumulative buckets (upper bounds ascending; +Inf is added), with sum and count.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double x);
  void write(std::string& out, std::string_view name, std::string_view help) const;
  [[nodiscard]] std::uint64_t count() const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::vector<std::uint64_t> counts_;  // per bucket, not cumulative; last: +Inf
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

/// Exact quantiles over the last `window` observations, plus the sum and count of all of them.
class Quantiles {
 public:
  explicit Quantiles(std::size_t window = 4096) : ring_(window) {}
  void observe(double x);
  /// The q-quantile (0..1) of the window by the nearest-rank rule; 0 when empty.
  [[nodiscard]] double quantile(double q) const;
  /// Writes a summary with quantiles 0.5, 0.9, 0.99.
  void write(std::string& out, std::string_view name, std::string_view help) const;

 private:
  mutable std::mutex mutex_;
  std::vector<double> ring_;
  std::size_t next_ = 0;
  std::size_t filled_ = 0;
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

/// Appends "# HELP", "# TYPE" and one sample line of a gauge.
void write_gauge(std::string& out, std::string_view name, std::string_view help, double value);

}  // namespace pare::serve

#ifndef PARE_COMPILED_LIB
#include "pare/serve/metrics-inl.hpp"
#endif
