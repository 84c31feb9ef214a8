// SPDX-License-Identifier: Apache-2.0
// pare::compiled — CPU feature detection and run-time dispatch (simd/arch.hpp, simd/dispatch.hpp).
#include "pare/simd/arch-inl.hpp"
#include "pare/simd/dispatch-inl.hpp"
