// SPDX-License-Identifier: Apache-2.0
// Passes by compiling: the built-in pruning policies satisfy their concepts, each pattern names
// the format it deploys to, and the criteria say what they read.
#include <cstdint>
#include <type_traits>

#include "pare/nn/prune_deploy.hpp"
#include "pare/prune.hpp"

static_assert(pare::PruningCriterion<pare::Magnitude> && pare::PruningCriterion<pare::Wanda>);
static_assert(pare::GroupedPattern<pare::Unstructured> && pare::GroupedPattern<pare::Channel> &&
              pare::GroupedPattern<pare::Block<4, 16>>);
static_assert(!pare::GroupedPattern<pare::NM<2, 4>> && !pare::GroupedPattern<pare::PerRow>);
static_assert(pare::needs_input_norms<pare::Wanda> && !pare::needs_input_norms<pare::Magnitude>);
static_assert(pare::needs_training_signal<pare::Taylor> && pare::needs_training_signal<pare::Obd> &&
              pare::needs_training_signal<pare::Movement> &&
              !pare::needs_training_signal<pare::Random>);

static_assert(std::is_same_v<pare::deploy_format_t<pare::NM<2, 4>>, pare::PackedNM<2, 4>>);
static_assert(std::is_same_v<pare::deploy_format_t<pare::Unstructured>, pare::Csr<std::uint16_t>>);
static_assert(std::is_same_v<pare::deploy_format_t<pare::PerRow>, pare::Csr<std::uint16_t>>);
static_assert(std::is_same_v<pare::deploy_format_t<pare::Block<1, 16>>, pare::Bsr<1, 16>>);
static_assert(std::is_same_v<pare::deploy_format_t<pare::Channel>, pare::RemoveChannels>);
static_assert(std::is_same_v<pare::deployed_linear_t<pare::Block<4, 16>>,
                             pare::SparseLinear<pare::Bsr<4, 16>>>);
static_assert(std::is_same_v<pare::deployed_linear_t<pare::Channel>, pare::Linear>);
static_assert(pare::format_holds<pare::PackedNM<2, 4>, pare::NM<2, 4>> &&
              !pare::format_holds<pare::PackedNM<2, 4>, pare::Unstructured> &&
              pare::format_holds<pare::Csr<>, pare::NM<2, 4>>);
static_assert(pare::acts_per_unit<pare::ReLU> && !pare::acts_per_unit<pare::Linear>);
