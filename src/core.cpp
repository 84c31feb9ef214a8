// SPDX-License-Identifier: Apache-2.0
// pare::compiled — core: element types, packing, the JSON reader and value, and the thread pool.
#include "pare/core/dtype-inl.hpp"
#include "pare/core/json-inl.hpp"
#include "pare/core/json_reader-inl.hpp"
#include "pare/core/packed-inl.hpp"
#include "pare/core/parallel-inl.hpp"
