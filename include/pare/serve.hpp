// SPDX-License-Identifier: Apache-2.0
// pare — serving a model to concurrent requests: decode and check request bodies, hold the
// current model (hot reload by atomic swap), batch concurrent requests, and export metrics.
// Not part of pare.hpp (it brings <thread> and <future>); examples/server/server.cpp puts it
// behind HTTP. docs/serving.md explains the pieces and their measured behaviour.
#pragma once

#include "pare/serve/batcher.hpp"
#include "pare/serve/metrics.hpp"
#include "pare/serve/model_slot.hpp"
#include "pare/serve/request.hpp"
