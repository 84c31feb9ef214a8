// SPDX-License-Identifier: Apache-2.0
// The umbrella header compiles on its own: every part of pare together, with no name clashes.
#include "pare/pare.hpp"

static_assert(pare::Layer<pare::LayerStack<pare::Linear, pare::ReLU, pare::Int8Linear>>);
static_assert(pare::io::StorableLayer<pare::SparseLinear<pare::PackedNM<2, 4>>>);
static_assert(pare::io::StorableLayer<pare::Int4Linear<pare::Q4G128>>);
