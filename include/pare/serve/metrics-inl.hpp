// SPDX-License-Identifier: Apache-2.0
// pare — definitions for serve/metrics.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "pare/core/config.hpp"
#include "pare/serve/metrics.hpp"

namespace pare::serve {

namespace detail {

inline void append_number(std::string& out, double x) {
  if (std::isinf(x)) {
    out += x > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  out.append(buf, r.ptr);
}

inline void header(std::string& out, std::string_view name, std::string_view help,
                   std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

inline void sample(std::string& out, std::string_view name, std::string_view labels, double x) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  append_number(out, x);
  out += '\n';
}

}  // namespace detail

PARE_INLINE void Counter::write(std::string& out, std::string_view name,
                                std::string_view help) const {
  detail::header(out, name, help, "counter");
  detail::sample(out, name, {}, static_cast<double>(value()));
}

PARE_INLINE void LabeledCounter::add(const std::string& value, std::uint64_t n) {
  std::lock_guard lock(mutex_);
  counts_[value] += n;
}

PARE_INLINE std::uint64_t LabeledCounter::value(const std::string& value) const {
  std::lock_guard lock(mutex_);
  const auto it = counts_.find(value);
  return it == counts_.end() ? 0 : it->second;
}

PARE_INLINE void LabeledCounter::write(std::string& out, std::string_view name,
                                       std::string_view help) const {
  detail::header(out, name, help, "counter");
  std::lock_guard lock(mutex_);
  for (const auto& [v, n] : counts_)
    detail::sample(out, name, label_ + "=\"" + v + "\"", static_cast<double>(n));
}

PARE_INLINE Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {
  std::sort(bounds_.begin(), bounds_.end());
}

PARE_INLINE void Histogram::observe(double x) {
  const auto k = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), x) -
                                          bounds_.begin());
  std::lock_guard lock(mutex_);
  ++counts_[k];
  sum_ += x;
  ++count_;
}

PARE_INLINE std::uint64_t Histogram::count() const {
  std::lock_guard lock(mutex_);
  return count_;
}

PARE_INLINE void Histogram::write(std::string& out, std::string_view name,
                                  std::string_view help) const {
  detail::header(out, name, help, "histogram");
  std::lock_guard lock(mutex_);
  const std::string bucket = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t k = 0; k <= bounds_.size(); ++k) {
    cumulative += counts_[k];
    std::string le = "le=\"";
    if (k < bounds_.size())
      detail::append_number(le, bounds_[k]);
    else
      le += "+Inf";
    le += '"';
    detail::sample(out, bucket, le, static_cast<double>(cumulative));
  }
  detail::sample(out, std::string(name) + "_sum", {}, sum_);
  detail::sample(out, std::string(name) + "_count", {}, static_cast<double>(count_));
}

PARE_INLINE void Quantiles::observe(double x) {
  std::lock_guard lock(mutex_);
  if (ring_.empty()) return;
  ring_[next_] = x;
  next_ = (next_ + 1) % ring_.size();
  filled_ = std::min(filled_ + 1, ring_.size());
  sum_ += x;
  ++count_;
}

PARE_INLINE double Quantiles::quantile(double q) const {
  std::vector<double> w;
  {
    std::lock_guard lock(mutex_);
    w.assign(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(filled_));
  }
  if (w.empty()) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // Nearest rank: the smallest value with at least q of the window at or below it.
  std::size_t rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(w.size())));
  rank = std::clamp<std::size_t>(rank, 1, w.size()) - 1;
  std::nth_element(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(rank), w.end());
  return w[rank];
}

PARE_INLINE void Quantiles::write(std::string& out, std::string_view name,
                                  std::string_view help) const {
  detail::header(out, name, help, "summary");
  for (const char* q : {"0.5", "0.9", "0.99"})
    detail::sample(out, name, std::string("quantile=\"") + q + "\"", quantile(std::stod(q)));
  std::lock_guard lock(mutex_);
  detail::sample(out, std::string(name) + "_sum", {}, sum_);
  detail::sample(out, std::string(name) + "_count", {}, static_cast<double>(count_));
}

PARE_INLINE void write_gauge(std::string& out, std::string_view name, std::string_view help,
                             double value) {
  detail::header(out, name, help, "gauge");
  detail::sample(out, name, {}, value);
}

}  // namespace pare::serve
