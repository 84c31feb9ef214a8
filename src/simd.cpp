// SPDX-License-Identifier: Apache-2.0
// pare::compiled — CPU feature detection (simd/arch.hpp) and the tier cap (simd/dispatch.hpp).
#include "pare/simd/arch-inl.hpp"
#include "pare/simd/dispatch-inl.hpp"
