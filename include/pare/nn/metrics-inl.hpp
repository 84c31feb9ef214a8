// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/metrics.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "pare/core/config.hpp"
#include "pare/nn/metrics.hpp"

namespace pare {

PARE_INLINE double accuracy(std::span<const std::int32_t> predicted,
                            std::span<const std::int32_t> labels) {
  PARE_CHECK(predicted.size() == labels.size(), ShapeError, "accuracy: ", predicted.size(),
             " predictions for ", labels.size(), " labels");
  PARE_CHECK(!labels.empty(), ArgumentError, "accuracy of an empty dataset");
  std::size_t correct = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) correct += predicted[i] == labels[i];
  return static_cast<double>(correct) / static_cast<double>(labels.size());
}

PARE_INLINE double accuracy(TensorView<const float, 2> logits,
                            TensorView<const std::int32_t, 1> labels) {
  PARE_CHECK(labels.extent(0) == logits.extent(0), ShapeError, "accuracy: logits ",
             to_string(logits.extents()), " but labels ", to_string(labels.extents()));
  PARE_CHECK(logits.extent(0) > 0 && logits.extent(1) > 0, ArgumentError, "accuracy: empty logits ",
             to_string(logits.extents()));
  std::size_t correct = 0;
  for (std::size_t i = 0; i < logits.extent(0); ++i) correct += argmax(logits[i]) == labels[i];
  return static_cast<double>(correct) / static_cast<double>(logits.extent(0));
}

}  // namespace pare
