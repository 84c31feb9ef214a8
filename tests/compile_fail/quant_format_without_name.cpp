// SPDX-License-Identifier: Apache-2.0
// A user's integer grid saved to .pare without a name: it would be stored as "int2" and load as
// pare's Int<2>.
#include <cstdint>

#include "pare/io/pare_file.hpp"
#include "pare/quant/quantizer.hpp"

struct Ternary {
#ifdef PARE_COMPILE_FAIL_CONTROL
  static constexpr const char* name = "ternary";
#endif
  static constexpr int bits = 2;
  static constexpr int qmin = -1;
  static constexpr int qmax = 1;
  using code_type = std::int8_t;
};

int main() {
  pare::Tensor<float, 2> w({4, 32});
  const auto q = pare::Quantizer<Ternary, pare::Symmetric, pare::PerGroup<32>>{}.quantize(w.view());
  pare::io::PareWriter out;
  out.add_quantized("w", q);
}
