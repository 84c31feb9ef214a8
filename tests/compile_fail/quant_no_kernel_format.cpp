// SPDX-License-Identifier: Apache-2.0
// UInt<8> weights: no kernel takes unsigned 8-bit weights (the int8 GEMM's weights are s8).
#include "pare/kernels/kernel_layout.hpp"

int main() {
  pare::Tensor<float, 2> w({8, 64});
  const auto q =
#ifdef PARE_COMPILE_FAIL_CONTROL
      pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel>{}.quantize(w.view());
#else
      pare::Quantizer<pare::UInt<8>, pare::Affine, pare::PerChannel>{}.quantize(w.view());
#endif
  const auto packed = pare::pack_for_kernel(q);
}
