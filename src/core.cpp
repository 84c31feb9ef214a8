// SPDX-License-Identifier: Apache-2.0
// pare::compiled — element types and packing (core/).
#include "pare/core/dtype-inl.hpp"
#include "pare/core/packed-inl.hpp"
