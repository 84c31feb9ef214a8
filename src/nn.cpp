// SPDX-License-Identifier: Apache-2.0
// pare::compiled — layers, optimizers, losses, schedules, datasets, metrics and the training loop
// (nn/). The runtime graph (nn/graph/) is in nn_graph.cpp, so the two build in parallel.
#include "pare/nn/adam-inl.hpp"
#include "pare/nn/batch_norm-inl.hpp"
#include "pare/nn/batches-inl.hpp"
#include "pare/nn/conv2d-inl.hpp"
#include "pare/nn/dataset-inl.hpp"
#include "pare/nn/dropout-inl.hpp"
#include "pare/nn/init-inl.hpp"
#include "pare/nn/layer_norm-inl.hpp"
#include "pare/nn/linear-inl.hpp"
#include "pare/nn/linear_int8-inl.hpp"
#include "pare/nn/loss-inl.hpp"
#include "pare/nn/lr_schedule-inl.hpp"
#include "pare/nn/metrics-inl.hpp"
#include "pare/nn/relu-inl.hpp"
#include "pare/nn/sgd-inl.hpp"
#include "pare/nn/trainer-inl.hpp"
