// SPDX-License-Identifier: Apache-2.0
// pare — Pruner: criterion × pattern × scope, composed at compile time, turned into masks.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <tuple>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/prune/concepts.hpp"
#include "pare/prune/mask.hpp"
#include "pare/prune/pattern.hpp"
#include "pare/prune/scope.hpp"

namespace pare {

/// Computes pruning masks: scores from the criterion, shaped by the pattern, ranked per layer or
/// across layers by the scope. What an earlier mask (PruneContext::previous) pruned stays pruned.
///
///   pare::Pruner<pare::Magnitude, pare::Unstructured> p;                 // per layer
///   pare::Mask m = p.mask({.weights = fc.weight()}, 0.8);
///   pare::apply_mask(fc.weight(), m);
///
///   pare::Pruner<pare::Wanda, pare::NM<2, 4>> wanda;                      // 2:4 from activations
///   pare::Pruner<pare::Magnitude, pare::Unstructured, pare::GlobalScope> g{.scope = {.ceiling =
///   0.9}}; auto masks = g.masks(contexts, 0.8);                                  // one per layer
///
/// @tparam C a PruningCriterion   @tparam P a SparsityPattern   @tparam S LayerScope or GlobalScope
/// (GlobalScope only with a GroupedPattern: a static_assert refuses NM<N, M> and PerRow)
///
/// To prune a layer (or every Linear of a Sequential) and get its sparse inference layer in one
/// call, see pare::prune_and_deploy (pare/nn/prune_deploy.hpp).
template <PruningCriterion C, SparsityPattern P, PruneScope S = LayerScope>
struct Pruner {
  static_assert(!S::global || GroupedPattern<P>,
                "GlobalScope ranks groups of weights across layers, which needs a GroupedPattern "
                "(Unstructured, Block<R, C>, Channel); NM<N, M> and PerRow fix how many weights "
                "each row keeps, so use LayerScope with them");

  C criterion{};
  P pattern{};
  S scope{};

  /// The criterion's scores, with what `ctx.previous` pruned forced to the lowest score.
  [[nodiscard]] Tensor<float, 2> scores(const PruneContext& ctx) const {
    Tensor<float, 2> s = criterion.score(ctx);
    check_same_shape(s.extents(), ctx.weights.extents(), "Pruner (criterion scores vs weights)");
    if (!ctx.previous.empty()) {
      check_same_shape(ctx.previous.extents(), ctx.weights.extents(),
                       "Pruner (previous mask vs weights)");
      for (std::size_t r = 0; r < s.extent(0); ++r)
        for (std::size_t c = 0; c < s.extent(1); ++c)
          if (!ctx.previous(r, c)) s(r, c) = -std::numeric_limits<float>::infinity();
    }
    return s;
  }

  /// The mask of one layer pruned on its own (whatever the scope).
  /// @pre 0 <= sparsity <= 1
  [[nodiscard]] Mask mask(const PruneContext& ctx, double sparsity) const {
    check_sparsity(sparsity);
    const Tensor<float, 2> s = scores(ctx);
    Mask m = pattern.mask(s, sparsity);
    if (!ctx.previous.empty()) m = intersect(m, ctx.previous);
    return m;
  }

  /// One mask per layer, in order. With GlobalScope the layers share one ranking; with LayerScope
  /// each layer is pruned on its own to `sparsity`.
  [[nodiscard]] std::vector<Mask> masks(std::span<const PruneContext> layers,
                                        double sparsity) const {
    check_sparsity(sparsity);
    if constexpr (S::global) {
      return global_masks(layers, sparsity);
    } else {
      std::vector<Mask> out;
      out.reserve(layers.size());
      for (const auto& ctx : layers) out.push_back(mask(ctx, sparsity));
      return out;
    }
  }

 private:
  static void check_sparsity(double s) {
    PARE_CHECK(s >= 0.0 && s <= 1.0, ArgumentError, "Pruner: sparsity must be in [0, 1], got ", s);
  }

  std::vector<Mask> global_masks(std::span<const PruneContext> layers, double sparsity) const {
    const std::size_t n_layers = layers.size();
    std::vector<std::vector<float>> g(n_layers);
    std::vector<std::vector<std::size_t>> sizes(n_layers);
    std::vector<std::vector<std::uint8_t>> keep(n_layers);
    std::vector<std::size_t> pruned(n_layers, 0), floor(n_layers), ceiling(n_layers);
    std::size_t total = 0;
    for (std::size_t l = 0; l < n_layers; ++l) {
      const auto shape = layers[l].weights.extents();
      g[l] = pattern.group_scores(scores(layers[l]));
      sizes[l] = pattern.group_sizes(shape);
      keep[l].assign(g[l].size(), 1);
      const std::size_t n = shape[0] * shape[1];
      total += n;
      floor[l] = prune_count(scope.floor_of(l), n);
      ceiling[l] = prune_count(scope.ceiling_of(l), n);
      PARE_CHECK(floor[l] <= ceiling[l], ArgumentError, "GlobalScope: layer ", l, " has floor ",
                 scope.floor_of(l), " above its ceiling ", scope.ceiling_of(l));
    }
    const std::size_t target = prune_count(sparsity, total);
    std::size_t pruned_total = 0;
    auto prune_group = [&](std::size_t l, std::size_t i) {
      keep[l][i] = 0;
      pruned[l] += sizes[l][i];
      pruned_total += sizes[l][i];
    };
    // Floors first: each layer gives its own lowest groups until it reaches its floor.
    for (std::size_t l = 0; l < n_layers; ++l) {
      if (floor[l] == 0) continue;
      for (std::size_t i : ascending(g[l]))
        if (pruned[l] < floor[l]) prune_group(l, i);
    }
    // Then one ranking over every group, lowest first, skipping groups that would push a layer
    // past its ceiling. Equal scores: earlier layer, then earlier group, first.
    std::vector<std::tuple<float, std::size_t, std::size_t>> all;
    for (std::size_t l = 0; l < n_layers; ++l)
      for (std::size_t i = 0; i < g[l].size(); ++i) all.emplace_back(g[l][i], l, i);
    std::stable_sort(all.begin(), all.end(),
                     [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
    for (const auto& [score, l, i] : all) {
      if (pruned_total >= target) break;
      if (!keep[l][i] || pruned[l] + sizes[l][i] > ceiling[l]) continue;
      prune_group(l, i);
    }
    std::vector<Mask> out;
    out.reserve(n_layers);
    for (std::size_t l = 0; l < n_layers; ++l) {
      Mask m = pattern.expand(keep[l], layers[l].weights.extents());
      if (!layers[l].previous.empty()) m = intersect(m, layers[l].previous);
      out.push_back(std::move(m));
    }
    return out;
  }

  static std::vector<std::size_t> ascending(const std::vector<float>& v) {
    std::vector<std::size_t> order(v.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
    return order;
  }
};

}  // namespace pare
