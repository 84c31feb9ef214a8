// SPDX-License-Identifier: Apache-2.0
// UInt<8> weights: no kernel takes unsigned 8-bit weights (the int8 GEMM's weights are s8).
#include "pare/kernels/kernel_layout.hpp"

int main() {
  pare::Tensor<float, 2> w({8, 64});
  const auto q =
      pare::Quantizer<pare::UInt<8>, pare::Affine, pare::PerChannel>{}.quantize(w.view());
  const auto packed = pare::pack_for_kernel(q);
}
