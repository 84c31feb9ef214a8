// SPDX-License-Identifier: Apache-2.0
// pare::compiled — core: element types, packing, and the JSON reader and value.
#include "pare/core/dtype-inl.hpp"
#include "pare/core/json-inl.hpp"
#include "pare/core/json_reader-inl.hpp"
#include "pare/core/packed-inl.hpp"
