// SPDX-License-Identifier: Apache-2.0
// A float format given to the quantized layer: there is no quantized kernel for it.
#include "pare/nn/quantized_linear.hpp"
#include "pare/quant/float_format.hpp"

int main() {
  pare::Linear fc(64, 8);
#ifdef PARE_COMPILE_FAIL_CONTROL
  pare::QuantizedLinear<pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel>> layer(fc);
#else
  pare::QuantizedLinear<pare::Fp8E4M3> layer(fc);
#endif
}
