// SPDX-License-Identifier: Apache-2.0
// pare::compiled — serving (serve/): request decoding, the model slot, dynamic batching, metrics.
#include "pare/serve/batcher-inl.hpp"
#include "pare/serve/metrics-inl.hpp"
#include "pare/serve/model_slot-inl.hpp"
#include "pare/serve/request-inl.hpp"
