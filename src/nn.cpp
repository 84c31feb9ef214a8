// SPDX-License-Identifier: Apache-2.0
// pare::compiled — layers, training and metrics (nn/).
#include "pare/nn/metrics-inl.hpp"
