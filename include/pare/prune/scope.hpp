// SPDX-License-Identifier: Apache-2.0
// pare — pruning scope: does each layer get the target sparsity, or do layers compete?
//
// When to use which:
// - `LayerScope`: every layer pruned to the same sparsity. Predictable sizes; the only choice for
//   N:M (its sparsity is fixed per layer anyway).
// - `GlobalScope`: one ranking across all layers (torch.nn.utils.prune.global_unstructured), so
//   layers with many unimportant weights give more. Scores must be comparable across layers
//   (Magnitude after normalised training, Wanda, OBD). Set a per-layer `ceiling` so that no small
//   layer (the classifier) is emptied, and a `floor` to make every layer give something.
#pragma once

#include <concepts>
#include <cstddef>
#include <vector>

namespace pare {

/// Each layer is pruned on its own to the requested sparsity.
struct LayerScope {
  static constexpr bool global = false;
};

/// Layers compete in one ranking for the requested overall sparsity (counted in weights).
/// Each layer's own sparsity stays within [floor, ceiling]; `floors` / `ceilings`, when not empty,
/// give one bound per layer instead (in the order the layers are passed).
struct GlobalScope {
  static constexpr bool global = true;
  double floor = 0.0;
  double ceiling = 1.0;
  std::vector<double> floors{};
  std::vector<double> ceilings{};

  [[nodiscard]] double floor_of(std::size_t layer) const {
    return floors.empty() ? floor : floors.at(layer);
  }
  [[nodiscard]] double ceiling_of(std::size_t layer) const {
    return ceilings.empty() ? ceiling : ceilings.at(layer);
  }
};

/// LayerScope or GlobalScope (or a user type with the same shape).
template <class S>
concept PruneScope = requires {
  { S::global } -> std::convertible_to<bool>;
};

}  // namespace pare
