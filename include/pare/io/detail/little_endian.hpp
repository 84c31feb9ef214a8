// SPDX-License-Identifier: Apache-2.0
// pare — the one place that states the io layer's byte-order assumption: every supported file
// format stores little-endian numbers, and the readers hand out views of them without swapping.
#pragma once

#include <bit>

static_assert(std::endian::native == std::endian::little,
              "pare's file readers assume a little-endian host (x86-64, AArch64, RISC-V)");
