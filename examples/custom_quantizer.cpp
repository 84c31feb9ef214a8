// SPDX-License-Identifier: Apache-2.0
// A user's quantization format AND a user's observer, each running as a deployed layer on pare's
// SIMD kernels, chosen at compile time from the quantizer type.
//
// LogScale4 puts its 16 levels on a logarithmic grid (±2^(-k/2)), a format pare does not ship.
// Giving it a name, `bits = 4` and a `decode` (pare::Decode4Format) is all it takes:
// QuantizedLinear<DecodeQuantizer<LogScale4, PerGroup<64>>> packs it into a Codes4Matrix and
// runs it on kernels::GemvCodes4, which tabulates `decode` into registers (AVX-512 `vpermps`).
// The same 16 levels also fit pare::LookupFormat (a static `levels()`), so the NF4 kernel can run
// it too; both are shown.
//
// ClipObserver picks each output channel's clipping range (a shrunken absmax). Any struct with
// `observe` and `range` works: QuantizedLinear<Quantizer<Int<8>, Symmetric, PerChannel,
// ClipObserver>> calibrates with it and runs the int8 GEMM/GEMV on the same packed weights as
// pare::Int8Linear.
//
// The deployed model is saved to .pare under the format's own name ("logscale4") and loaded back.
//
//   custom_quantizer          prints SQNR and agreement with references; exit code 1 on a mismatch
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>

#include "pare/core/random.hpp"
#include "pare/io/layer_io.hpp"
#include "pare/kernels/gemv_codes4.hpp"
#include "pare/kernels/gemv_lut4.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/quantized_linear.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"
#include "pare/quant/nf4.hpp"
#include "pare/quant/quantizer.hpp"
#include "pare/simd/arch.hpp"

// The user's format: 8 magnitudes 2^0, 2^-1/2, ..., 2^-7/2 with both signs.
struct LogScale4 {
  static constexpr const char* name = "logscale4";  // how .pare files call it
  static constexpr int bits = 4;
  static constexpr float decode(unsigned code) noexcept {
    constexpr float mag[8] = {1.0f,  0.70710678f, 0.5f,   0.35355339f,
                              0.25f, 0.17677670f, 0.125f, 0.08838835f};
    return code < 8 ? -mag[code] : mag[15 - code];  // ascending: -1 ... -2^-3.5, 2^-3.5 ... 1
  }
  // The same levels as a LookupFormat, for the NF4 kernel.
  static constexpr pare::Lut4Codebook levels() noexcept {
    pare::Lut4Codebook l{};
    for (unsigned i = 0; i < 16; ++i) l[i] = decode(i);
    return l;
  }
};
static_assert(pare::Decode4Format<LogScale4> && pare::LookupFormat<LogScale4>);

// The user's observer: absmax shrunk by 5 %, clipping the rare outliers of each channel.
struct ClipObserver {
  float amax = 0;
  void observe(std::span<const float> x) {
    for (float v : x) amax = std::max(amax, std::abs(v));
  }
  [[nodiscard]] pare::Range range() const { return {-0.95f * amax, 0.95f * amax}; }
};
static_assert(pare::Observer<ClipObserver>);

using LogLayer = pare::QuantizedLinear<pare::DecodeQuantizer<LogScale4, pare::PerGroup<64>>>;
using Int8Layer = pare::QuantizedLinear<
    pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel, ClipObserver>>;

namespace {
double max_abs_diff(const pare::Tensor<float, 2>& a, const pare::Tensor<float, 2>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, static_cast<double>(std::abs(a.data()[i] - b.data()[i])));
  return worst;
}
}  // namespace

int main() try {
  const std::size_t in = 512, hidden = 256, out = 64, group = 64;
  pare::Rng rng(1);
  const pare::Linear fc1(in, hidden, rng), fc2(hidden, out, rng);
  pare::Tensor<float, 2> x({4, in});
  for (float& v : x.span()) v = rng.normal();
  std::printf("SIMD path: %s\n", pare::simd::default_arch_name());

  // 1. The format's accuracy, against NF4 with the same group size.
  const auto log4 = pare::pack_codes4<LogScale4>(fc1.weight().view(), group);
  const auto nf4 = pare::pack_nf4(fc1.weight().view(), group);
  std::printf("%-10s %6s %9s\n", "format", "bpw", "SQNR dB");
  std::printf("%-10s %6.2f %9.2f\n", "LogScale4", log4.bits_per_weight(),
              pare::sqnr_db(fc1.weight().view(), pare::dequantize(log4).view()));
  std::printf("%-10s %6.2f %9.2f\n", "NF4", nf4.bits_per_weight(),
              pare::sqnr_db(fc1.weight().view(), pare::dequantize(nf4).view()));

  // 2. The generic kernel (decode inlined) and the lookup kernel agree with the scalar reference.
  pare::Tensor<float, 1> y({hidden}), y_ref({hidden}), y_lut({hidden});
  pare::gemv(log4, x.view()[0], y.view());
  pare::kernels::gemv_codes4_reference(log4, x.data(), y_ref.data());
  pare::gemv(pare::pack_lut4<LogScale4>(fc1.weight().view(), group), x.view()[0], y_lut.view());
  double worst = 0;
  for (std::size_t r = 0; r < hidden; ++r)
    worst = std::max({worst, static_cast<double>(std::abs(y(r) - y_ref(r))),
                      static_cast<double>(std::abs(y_lut(r) - y_ref(r)))});
  std::printf("GEMV with LogScale4: max |simd - reference| = %.2e\n", worst);

  // 3. A deployed model: the user's format, then int8 calibrated by the user's observer.
  using Model = pare::Sequential<LogLayer, pare::ReLU, Int8Layer>;
  const Model model(LogLayer(fc1), pare::ReLU{}, Int8Layer(fc2));
  pare::Sequential<pare::Linear, pare::ReLU, pare::Linear> reference(fc1, pare::ReLU{}, fc2);
  const auto yq = model.infer(x.view()), yf = reference.infer(x.view());
  std::printf("deployed model vs float: max |y - y_float| = %.3f (|y_float| up to %.3f)\n",
              max_abs_diff(yq, yf),
              static_cast<double>(*std::max_element(yf.span().begin(), yf.span().end())));

  // 4. Saved under the format's own name, loaded back as the same type, same outputs.
  const auto path = std::filesystem::temp_directory_path() / "pare-custom-quantizer.pare";
  pare::save_model(model, path);
  const auto back = pare::load_model<Model>(path);
  const double reload = max_abs_diff(back.infer(x.view()), yq);
  std::filesystem::remove(path);
  std::printf("reloaded from .pare: max difference %.1e\n", reload);
  return worst < 1e-3 && reload == 0 ? 0 : 1;
} catch (const pare::Error& e) {
  std::fprintf(stderr, "custom_quantizer: %s\n", e.what());
  return 1;
}
