// SPDX-License-Identifier: Apache-2.0
// Affine int8 weights: the int8 kernels have no weight zero points.
#include "pare/nn/quantized_linear.hpp"

int main() {
  pare::Linear fc(64, 8);
#ifdef PARE_COMPILE_FAIL_CONTROL
  pare::QuantizedLinear<pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel>> layer(fc);
#else
  pare::QuantizedLinear<pare::Quantizer<pare::Int<8>, pare::Affine, pare::PerChannel>> layer(fc);
#endif
}
