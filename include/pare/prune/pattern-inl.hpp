// SPDX-License-Identifier: Apache-2.0
// pare — definitions for prune/pattern.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/prune/pattern.hpp"

namespace pare {

namespace detail {
PARE_INLINE std::vector<std::uint8_t> keep_all_but_lowest(std::span<const float> scores,
                                                          std::size_t k) {
  std::vector<std::uint8_t> keep(scores.size(), 1);
  if (k == 0) return keep;
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  for (std::size_t i = 0; i < std::min(k, order.size()); ++i) keep[order[i]] = 0;
  return keep;
}
}  // namespace detail

PARE_INLINE Mask Unstructured::mask(TensorView<const float, 2> scores, double sparsity) const {
  return detail::grouped_mask(*this, scores, sparsity);
}

PARE_INLINE std::vector<float> Unstructured::group_scores(TensorView<const float, 2> scores) const {
  std::vector<float> g;
  g.reserve(scores.size());
  for (std::size_t r = 0; r < scores.extent(0); ++r)
    for (std::size_t c = 0; c < scores.extent(1); ++c) g.push_back(scores(r, c));
  return g;
}

PARE_INLINE std::vector<std::size_t> Unstructured::group_sizes(Shape<2> shape) const {
  return std::vector<std::size_t>(shape[0] * shape[1], 1);
}

PARE_INLINE Mask Unstructured::expand(std::span<const std::uint8_t> keep, Shape<2> shape) const {
  PARE_CHECK(keep.size() == shape[0] * shape[1], ShapeError, "Unstructured::expand: ", keep.size(),
             " flags for shape ", to_string(shape));
  Mask m(shape);
  std::copy(keep.begin(), keep.end(), m.data());
  return m;
}

PARE_INLINE Mask PerRow::mask(TensorView<const float, 2> scores, double sparsity) const {
  Mask m(scores.extents());
  std::vector<float> row(scores.extent(1));
  const std::size_t k = prune_count(sparsity, scores.extent(1));
  for (std::size_t r = 0; r < scores.extent(0); ++r) {
    for (std::size_t c = 0; c < row.size(); ++c) row[c] = scores(r, c);
    const auto keep = detail::keep_all_but_lowest(row, k);
    for (std::size_t c = 0; c < row.size(); ++c) m(r, c) = keep[c];
  }
  return m;
}

PARE_INLINE Mask Channel::mask(TensorView<const float, 2> scores, double sparsity) const {
  return detail::grouped_mask(*this, scores, sparsity);
}

PARE_INLINE std::vector<float> Channel::group_scores(TensorView<const float, 2> scores) const {
  check_axis();
  std::vector<float> g(scores.extent(axis), 0.0f);
  for (std::size_t r = 0; r < scores.extent(0); ++r)
    for (std::size_t c = 0; c < scores.extent(1); ++c) {
      float& acc = g[axis == 0 ? r : c];
      acc = detail::aggregate(acc, scores(r, c), p);
    }
  for (float& v : g) v = detail::finish(v, p);
  return g;
}

PARE_INLINE std::vector<std::size_t> Channel::group_sizes(Shape<2> shape) const {
  check_axis();
  return std::vector<std::size_t>(shape[axis], shape[1 - axis]);
}

PARE_INLINE Mask Channel::expand(std::span<const std::uint8_t> keep, Shape<2> shape) const {
  check_axis();
  PARE_CHECK(keep.size() == shape[axis], ShapeError, "Channel::expand: ", keep.size(),
             " flags for ", shape[axis], " channels");
  Mask m(shape);
  for (std::size_t r = 0; r < shape[0]; ++r)
    for (std::size_t c = 0; c < shape[1]; ++c) m(r, c) = keep[axis == 0 ? r : c];
  return m;
}

PARE_INLINE void Channel::check_axis() const {
  PARE_CHECK(axis < 2, ArgumentError, "Channel: axis must be 0 (outputs) or 1 (inputs), got ",
             axis);
}

PARE_INLINE std::vector<std::size_t> kept_rows(TensorView<const std::uint8_t, 2> mask) {
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < mask.extent(0); ++r)
    for (std::size_t c = 0; c < mask.extent(1); ++c)
      if (mask(r, c)) {
        rows.push_back(r);
        break;
      }
  return rows;
}

}  // namespace pare
