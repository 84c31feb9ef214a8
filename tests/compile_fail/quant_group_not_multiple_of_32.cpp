// SPDX-License-Identifier: Apache-2.0
// A 4-bit group size the kernel cannot read: PerGroup<16> (the kernels read 32-weight chunks).
#include "pare/nn/quantized_linear.hpp"

int main() {
  pare::Linear fc(64, 8);
#ifdef PARE_COMPILE_FAIL_CONTROL
  pare::QuantizedLinear<pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>>> l(fc);
#else
  pare::QuantizedLinear<pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<16>>> l(fc);
#endif
}
