// SPDX-License-Identifier: Apache-2.0
// pare — pruning umbrella header: criteria × patterns × scope (Pruner), schedules, regularizers,
// masked fine-tuning, SparseGPT and channel removal. See docs/pruning.md.
#pragma once

#include "pare/prune/concepts.hpp"
#include "pare/prune/criteria.hpp"
#include "pare/prune/mask.hpp"
#include "pare/prune/masked_optimizer.hpp"
#include "pare/prune/pattern.hpp"
#include "pare/prune/pruner.hpp"
#include "pare/prune/regularizer.hpp"
#include "pare/prune/schedule.hpp"
#include "pare/prune/scope.hpp"
#include "pare/prune/sparsegpt.hpp"
#include "pare/prune/structured.hpp"
