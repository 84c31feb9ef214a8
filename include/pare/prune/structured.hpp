// SPDX-License-Identifier: Apache-2.0
// pare — structured pruning that removes channels: the layers really get smaller.
//
// A mask of whole rows (Channel{.axis = 0}) only zeroes output units; the dense kernels still
// multiply by the zeros. remove_units() deletes those units from the producing layer (its weight
// rows and bias entries) and the matching input columns of the consuming layer, so both run as
// smaller dense layers with the same outputs. Anything between the two (ReLU, other elementwise
// activations) must map zero to zero and act per unit.
//
// This header knows layers only through the DenseLayer concept below (pruning sits below nn/ in
// pare's layering); pare::Linear satisfies it. Convolutions are not handled yet.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/prune/mask.hpp"
#include "pare/prune/pattern.hpp"

namespace pare {

/// A layer y = x Wᵀ + b with W [out, in] that can be rebuilt at a new size: `L(in, out)` makes a
/// zero layer, `weight()` / `bias()` give its tensors (pare::Linear).
template <class L>
concept DenseLayer = std::constructible_from<L, std::size_t, std::size_t> && requires(L& l) {
  { l.weight() } -> std::same_as<Tensor<float, 2>&>;
  { l.bias() } -> std::same_as<Tensor<float, 1>&>;
};

/// Keeps only the output units `keep` (ascending, distinct) of `producer` and the matching input
/// columns of `consumer`; both layers are replaced by smaller ones (parameters copied, gradients
/// and cached activations reset).
/// @pre every index < producer's output count; consumer's input count == producer's output count
template <DenseLayer A, DenseLayer B>
void remove_units(A& producer, B& consumer, std::span<const std::size_t> keep) {
  const Tensor<float, 2>& wa = producer.weight();
  const Tensor<float, 2>& wb = consumer.weight();
  const std::size_t units = wa.extent(0), in = wa.extent(1), out = wb.extent(0);
  PARE_CHECK(wb.extent(1) == units, ShapeError, "remove_units: the producer has ", units,
             " outputs but the consumer takes ", wb.extent(1), " inputs");
  PARE_CHECK(!keep.empty(), ArgumentError, "remove_units: cannot remove every unit");
  for (std::size_t i = 0; i < keep.size(); ++i)
    PARE_CHECK(keep[i] < units && (i == 0 || keep[i] > keep[i - 1]), ArgumentError,
               "remove_units: kept indices must be ascending, distinct and below ", units, "; got ",
               keep[i], " at position ", i);
  A a(in, keep.size());
  for (std::size_t k = 0; k < keep.size(); ++k) {
    std::copy_n(&wa(keep[k], std::size_t{0}), in, &a.weight()(k, std::size_t{0}));
    a.bias()[k] = producer.bias()[keep[k]];
  }
  B b(keep.size(), out);
  for (std::size_t o = 0; o < out; ++o)
    for (std::size_t k = 0; k < keep.size(); ++k) b.weight()(o, k) = wb(o, keep[k]);
  std::copy_n(consumer.bias().data(), out, b.bias().data());
  producer = std::move(a);
  consumer = std::move(b);
}

/// Removes the units of layer `I` of a Sequential-like model (anything with `layer<I>()`) that
/// `row_mask` prunes entirely, with the matching inputs of layer `J` (the next layer with
/// weights, e.g. I + 2 past a ReLU). Returns the indices of the units kept.
///
///   pare::Pruner<pare::L2, pare::Channel> channels;              // rank units by ‖w_row‖₂
///   auto m = channels.mask({.weights = model.layer<0>().weight()}, 0.5);
///   pare::remove_units<0, 2>(model, m);                          // 128 -> 64 hidden units
template <std::size_t I, std::size_t J, class Model>
std::vector<std::size_t> remove_units(Model& model, TensorView<const std::uint8_t, 2> row_mask) {
  static_assert(I < J, "remove_units<I, J>: the consumer J must come after the producer I");
  auto& producer = model.template layer<I>();
  auto& consumer = model.template layer<J>();
  check_same_shape(row_mask.extents(), producer.weight().extents(),
                   "remove_units (mask vs producer weights)");
  const std::vector<std::size_t> keep = kept_rows(row_mask);
  remove_units(producer, consumer, std::span<const std::size_t>(keep));
  return keep;
}

}  // namespace pare
