// SPDX-License-Identifier: Apache-2.0
// pare — Dataset (features and integer labels in memory) and a seeded train/test split.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "pare/core/config.hpp"
#include "pare/core/tensor.hpp"

namespace pare {

/// Samples for classification: row i of `x` has label `y[i]`.
struct Dataset {
  Tensor<float, 2> x;         ///< [N, features]
  Tensor<std::int32_t, 1> y;  ///< [N], class indices

  [[nodiscard]] std::size_t size() const noexcept { return y.size(); }
  [[nodiscard]] std::size_t features() const noexcept { return x.extent(1); }
};

/// The rows `indices` of `d`, in that order (copied).
/// @pre every index < d.size()
[[nodiscard]] Dataset subset(const Dataset& d, std::span<const std::size_t> indices);

/// A training set and a held-out test set.
struct Split {
  Dataset train;
  Dataset test;
};

/// Whether train_test_split keeps each class's share equal in both parts.
enum class Stratify : bool { no = false, yes = true };

/// The seed of pare's default split (any fixed value; this one is the examples' and the tests').
inline constexpr std::uint64_t default_split_seed = 20240611;

/// Shuffles the samples with pare::Rng(seed) and holds out ⌈test_fraction · N⌉ of them (as
/// scikit-learn's train_test_split counts). With Stratify::yes each class contributes
/// round(test_fraction · its count) samples instead, so the total may differ by a few.
/// Both parts keep the shuffled order. Same data, fraction and seed → same split on every platform.
///
///   auto [train, test] = pare::train_test_split(pare::load_digits(path), 0.2f, 42);
///
/// @pre 0 < test_fraction < 1, and both parts end up non-empty
[[nodiscard]] Split train_test_split(const Dataset& d, float test_fraction = 0.2f,
                                     std::uint64_t seed = default_split_seed,
                                     Stratify stratify = Stratify::no);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/nn/dataset-inl.hpp"
#endif
