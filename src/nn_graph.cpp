// SPDX-License-Identifier: Apache-2.0
// pare::compiled — the runtime graph: values, attributes, ops, load-time rewrites and Model
// (nn/graph/). The layers and training code of nn/ are in nn.cpp, so the two build in parallel.
#include "pare/nn/graph/attributes-inl.hpp"
#include "pare/nn/graph/compress-inl.hpp"
#include "pare/nn/graph/conv-inl.hpp"
#include "pare/nn/graph/elementwise-inl.hpp"
#include "pare/nn/graph/fold-inl.hpp"
#include "pare/nn/graph/fuse-inl.hpp"
#include "pare/nn/graph/linear-inl.hpp"
#include "pare/nn/graph/model-inl.hpp"
#include "pare/nn/graph/op-inl.hpp"
#include "pare/nn/graph/ops-inl.hpp"
#include "pare/nn/graph/packed-inl.hpp"
#include "pare/nn/graph/pool-inl.hpp"
#include "pare/nn/graph/quantize-inl.hpp"
#include "pare/nn/graph/shape_ops-inl.hpp"
#include "pare/nn/graph/softmax-inl.hpp"
#include "pare/nn/graph/value-inl.hpp"
