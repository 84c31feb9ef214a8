// SPDX-License-Identifier: Apache-2.0
// pare::compiled — core: the JSON reader and value (core/json_reader.hpp, core/json.hpp).
#include "pare/core/json-inl.hpp"
#include "pare/core/json_reader-inl.hpp"
