// SPDX-License-Identifier: Apache-2.0
// pare — layers, containers, losses, optimizers and data iteration, in one include.
#pragma once

#include "pare/nn/adam.hpp"
#include "pare/nn/batches.hpp"
#include "pare/nn/concepts.hpp"
#include "pare/nn/dataset.hpp"
#include "pare/nn/init.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/loss.hpp"
#include "pare/nn/metrics.hpp"
#include "pare/nn/parameter.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"
#include "pare/nn/sgd.hpp"
