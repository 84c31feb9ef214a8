// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/batches.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <numeric>

#include "pare/core/error.hpp"
#include "pare/nn/batches.hpp"

namespace pare {

PARE_INLINE BatchLoader::BatchLoader(const Dataset& data, std::size_t batch_size,
                                     std::uint64_t seed)
    : data_(&data), batch_size_(batch_size), rng_(seed), order_(data.size()) {
  PARE_CHECK(batch_size > 0, ArgumentError, "BatchLoader: batch size must be positive");
  PARE_CHECK(data.x.extent(0) == data.y.extent(0), ShapeError, "BatchLoader: x ",
             to_string(data.x.extents()), " and y ", to_string(data.y.extents()),
             " disagree on the sample count");
  std::iota(order_.begin(), order_.end(), std::size_t{0});
}

PARE_INLINE const Batch& BatchLoader::batch(std::size_t i) {
  PARE_CHECK(i < size(), ArgumentError, "BatchLoader: batch ", i, " of ", size());
  const std::size_t begin = i * batch_size_;
  const std::size_t n = std::min(batch_size_, order_.size() - begin);
  const std::size_t f = data_->features();
  if (buffer_.y.size() != n) buffer_ = {Tensor<float, 2>({n, f}), Tensor<std::int32_t, 1>({n})};
  for (std::size_t r = 0; r < n; ++r) {
    const std::size_t src = order_[begin + r];
    if (f)
      std::memcpy(&buffer_.x(r, std::size_t{0}), &data_->x(src, std::size_t{0}), f * sizeof(float));
    buffer_.y[r] = data_->y[src];
  }
  return buffer_;
}

}  // namespace pare
