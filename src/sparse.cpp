// SPDX-License-Identifier: Apache-2.0
// pare::compiled — sparse weight formats (sparse/).
#include "pare/sparse/bitmap-inl.hpp"
#include "pare/sparse/concepts-inl.hpp"
