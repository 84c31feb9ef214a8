// SPDX-License-Identifier: Apache-2.0
// pare — predictions and accuracy of a classifier that outputs logits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/nn/concepts.hpp"
#include "pare/nn/dataset.hpp"

namespace pare {

/// Index of the largest element (the first one on ties, as torch.argmax).
/// @pre x is not empty
[[nodiscard]] inline std::int32_t argmax(TensorView<const float, 1> x) {
  PARE_CHECK(x.extent(0) > 0, ShapeError, "argmax of an empty vector");
  std::size_t best = 0;
  for (std::size_t i = 1; i < x.extent(0); ++i)
    if (x[i] > x[best]) best = i;
  return static_cast<std::int32_t>(best);
}

/// The predicted class of every row of `x` (argmax of the model's logits).
template <Layer M>
[[nodiscard]] std::vector<std::int32_t> predict(const M& model, TensorView<const float, 2> x) {
  const Tensor<float, 2> logits = model.infer(x);
  std::vector<std::int32_t> out(logits.extent(0));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = argmax(logits[i]);
  return out;
}

/// The predicted class of one sample, through the single-sample path (pare::gemv).
template <Layer M>
[[nodiscard]] std::int32_t predict(const M& model, TensorView<const float, 1> x) {
  std::vector<float> logits(model.output_size(x.extent(0)));
  model.infer(x, TensorView<float, 1>(logits.data(), {logits.size()}));
  return argmax(TensorView<const float, 1>(logits.data(), {logits.size()}));
}

/// Fraction of `predicted` classes equal to `labels`, in [0, 1].
/// Throws ShapeError when the two differ in length, ArgumentError when they are empty.
///
///     double acc = pare::accuracy(pare::predict(model, x), labels);
[[nodiscard]] double accuracy(std::span<const std::int32_t> predicted,
                              std::span<const std::int32_t> labels);

/// Fraction of rows of `logits` [N, C] whose argmax equals the label, in [0, 1] (for outputs
/// computed elsewhere, e.g. by a runtime graph). Throws ShapeError when labels is not [N],
/// ArgumentError when N or C is 0.
[[nodiscard]] double accuracy(TensorView<const float, 2> logits,
                              TensorView<const std::int32_t, 1> labels);

/// Fraction of samples whose predicted class equals the label, in [0, 1].
/// Throws ArgumentError for an empty dataset, ShapeError when d.x and d.y disagree on the sample
/// count or the model returns another number of rows than it was given.
template <Layer M>
[[nodiscard]] double accuracy(const M& model, const Dataset& d) {
  PARE_CHECK(d.size() > 0, ArgumentError, "accuracy of an empty dataset");
  PARE_CHECK(d.x.extent(0) == d.y.extent(0), ShapeError, "accuracy: x ", to_string(d.x.extents()),
             " and y ", to_string(d.y.extents()), " disagree on the sample count");
  const auto pred = predict(model, d.x.view());
  PARE_CHECK(pred.size() == d.y.size(), ShapeError, "accuracy: the model returned ", pred.size(),
             " rows of logits for ", d.y.size(), " samples");
  return accuracy(pred, d.y.span());
}

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/nn/metrics-inl.hpp"
#endif
