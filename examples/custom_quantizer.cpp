// SPDX-License-Identifier: Apache-2.0
// A user-written quantization format running on pare's 4-bit lookup-table GEMV kernel.
//
// LogScale4 puts its 16 levels on a logarithmic grid (±2^(-k/2)), a format pare does not ship.
// Satisfying pare::LookupFormat (a static `levels()`, ascending, largest |level| 1) is all it
// takes: pare packs it, GPTQ can target it, and kernels::GemvLut4 multiplies with it through the
// same AVX-512 `vpermps` path as NF4.
//
//   custom_quantizer          prints SQNR and GEMV agreement; exit code 1 on a mismatch
#include <cmath>
#include <cstdio>

#include "pare/core/random.hpp"
#include "pare/kernels/gemv_lut4.hpp"
#include "pare/quant/nf4.hpp"
#include "pare/quant/quantizer.hpp"
#include "pare/simd/arch.hpp"

// The user's policy: 8 magnitudes 2^0, 2^-1/2, ..., 2^-7/2 with both signs.
struct LogScale4 {
  static constexpr pare::Lut4Codebook levels() noexcept {
    pare::Lut4Codebook l{};
    constexpr float mag[8] = {1.0f,  0.70710678f, 0.5f,   0.35355339f,
                              0.25f, 0.17677670f, 0.125f, 0.08838835f};
    for (int i = 0; i < 8; ++i) {
      l[static_cast<std::size_t>(i)] = -mag[i];      // -1 ... -2^-3.5, ascending
      l[static_cast<std::size_t>(15 - i)] = mag[i];  // 2^-3.5 ... 1
    }
    return l;
  }
};
static_assert(pare::LookupFormat<LogScale4>, "LogScale4 must provide 16 ascending levels");

int main() try {
  const std::size_t rows = 256, cols = 512, group = 64;
  pare::Rng rng(1);
  pare::Tensor<float, 2> w({rows, cols});
  pare::Tensor<float, 1> x({cols}), y({rows}), y_ref({rows});
  for (float& v : w.span()) v = rng.normal();
  for (float& v : x.span()) v = rng.normal();

  const auto log4 = pare::pack_lut4<LogScale4>(w.view(), group);
  const auto nf4 = pare::pack_nf4(w.view(), group);
  std::printf("SIMD path: %s\n", pare::simd::default_arch_name());
  std::printf("%-10s %6s %9s\n", "format", "bpw", "SQNR dB");
  std::printf("%-10s %6.2f %9.2f\n", "LogScale4", log4.bits_per_weight(),
              pare::sqnr_db(w.view(), pare::dequantize(log4).view()));
  std::printf("%-10s %6.2f %9.2f\n", "NF4", nf4.bits_per_weight(),
              pare::sqnr_db(w.view(), pare::dequantize(nf4).view()));

  // The same kernel as NF4, checked against the scalar reference.
  pare::gemv(log4, x.view(), y.view());
  pare::kernels::gemv_lut4_reference(log4, x.data(), y_ref.data());
  double worst = 0;
  for (std::size_t r = 0; r < rows; ++r)
    worst = std::max(worst, static_cast<double>(std::abs(y(r) - y_ref(r))));
  std::printf("GEMV with LogScale4: max |simd - reference| = %.2e\n", worst);
  return worst < 1e-3 ? 0 : 1;
} catch (const pare::Error& e) {
  std::fprintf(stderr, "custom_quantizer: %s\n", e.what());
  return 1;
}
