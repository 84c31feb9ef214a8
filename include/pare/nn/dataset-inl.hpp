// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/dataset.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <span>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/random.hpp"
#include "pare/nn/dataset.hpp"

namespace pare {

PARE_INLINE Dataset subset(const Dataset& d, std::span<const std::size_t> indices) {
  PARE_CHECK(d.x.extent(0) == d.y.extent(0), ShapeError, "Dataset: x ", to_string(d.x.extents()),
             " and y ", to_string(d.y.extents()), " disagree on the sample count");
  const std::size_t f = d.features();
  Dataset out{Tensor<float, 2>({indices.size(), f}), Tensor<std::int32_t, 1>({indices.size()})};
  for (std::size_t i = 0; i < indices.size(); ++i) {
    PARE_CHECK(indices[i] < d.size(), ArgumentError, "subset: index ", indices[i],
               " is outside a dataset of ", d.size(), " samples");
    if (f)
      std::memcpy(&out.x(i, std::size_t{0}), &d.x(indices[i], std::size_t{0}), f * sizeof(float));
    out.y[i] = d.y[indices[i]];
  }
  return out;
}

PARE_INLINE Split train_test_split(const Dataset& d, float test_fraction, std::uint64_t seed,
                                   Stratify stratify) {
  PARE_CHECK(test_fraction > 0.0f && test_fraction < 1.0f, ArgumentError,
             "train_test_split: test_fraction must be in (0, 1), got ", test_fraction);
  Rng rng(seed);
  std::vector<std::size_t> test, train;
  if (stratify == Stratify::no) {
    std::vector<std::size_t> order(d.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    shuffle(order.begin(), order.end(), rng);
    const auto n_test = static_cast<std::size_t>(
        std::ceil(static_cast<double>(test_fraction) * static_cast<double>(d.size())));
    test.assign(order.begin(),
                order.begin() + static_cast<std::ptrdiff_t>(std::min(n_test, order.size())));
    train.assign(order.begin() + static_cast<std::ptrdiff_t>(test.size()), order.end());
  } else {
    std::int32_t classes = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {
      PARE_CHECK(d.y[i] >= 0, ArgumentError, "train_test_split: negative label ", d.y[i],
                 " at sample ", i);
      classes = std::max(classes, d.y[i] + 1);
    }
    std::vector<std::vector<std::size_t>> by_class(static_cast<std::size_t>(classes));
    for (std::size_t i = 0; i < d.size(); ++i)
      by_class[static_cast<std::size_t>(d.y[i])].push_back(i);
    for (auto& members : by_class) {
      shuffle(members.begin(), members.end(), rng);
      const auto n_test = static_cast<std::size_t>(
          std::lround(static_cast<double>(test_fraction) * static_cast<double>(members.size())));
      test.insert(test.end(), members.begin(),
                  members.begin() + static_cast<std::ptrdiff_t>(n_test));
      train.insert(train.end(), members.begin() + static_cast<std::ptrdiff_t>(n_test),
                   members.end());
    }
    shuffle(test.begin(), test.end(), rng);
    shuffle(train.begin(), train.end(), rng);
  }
  PARE_CHECK(!test.empty() && !train.empty(), ArgumentError, "train_test_split: a fraction of ",
             test_fraction, " of ", d.size(), " samples leaves one part empty");
  return {subset(d, train), subset(d, test)};
}

}  // namespace pare
