// SPDX-License-Identifier: Apache-2.0
// A user's 4-bit decode format without a name: it could not be stored, nor told apart on load.
#include "pare/nn/quantized_linear.hpp"

struct Unnamed4 {
#ifdef PARE_COMPILE_FAIL_CONTROL
  static constexpr const char* name = "unnamed4";
#endif
  static constexpr int bits = 4;
  static float decode(unsigned c) noexcept { return static_cast<float>(c) - 7.5f; }
};

int main() {
  pare::Linear fc(64, 8);
  pare::QuantizedLinear<pare::DecodeQuantizer<Unnamed4, pare::PerGroup<32>>> layer(fc);
}
