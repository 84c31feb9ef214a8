// SPDX-License-Identifier: Apache-2.0
// pare::compiled — prune: the built-in criteria, masks, patterns, regularizers and schedules, and
// SparseGPT (prune/sparsegpt.hpp).
#include "pare/prune/criteria-inl.hpp"
#include "pare/prune/mask-inl.hpp"
#include "pare/prune/pattern-inl.hpp"
#include "pare/prune/regularizer-inl.hpp"
#include "pare/prune/schedule-inl.hpp"
#include "pare/prune/sparsegpt-inl.hpp"
