// SPDX-License-Identifier: Apache-2.0
// pare::compiled — SparseGPT (prune/sparsegpt.hpp).
#include "pare/prune/sparsegpt-inl.hpp"
