// SPDX-License-Identifier: Apache-2.0
// pare::compiled — quant: override patterns (quant/detail/name_regex.hpp).
#include "pare/quant/detail/name_regex-inl.hpp"
