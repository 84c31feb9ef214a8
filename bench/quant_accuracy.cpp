// SPDX-License-Identifier: Apache-2.0
// Accuracy per bit: SQNR (dB) and bits per weight of every weight format x granularity x scheme x
// observer pare has, on three weight populations:
//   gauss      N(0, 1), 1024 x 1024 (--full: 4096 x 4096, the matrix)
//   student3   Student-t with 3 degrees of freedom (heavy tails), same shape
//   digits     the 256 x 256 hidden layer of a 64-256-256-10 MLP trained here on the digits data
// Prints CSV on stdout; scripts/plot_quant_accuracy.py turns it into docs/img/sqnr_vs_bpw.svg and
// docs/quantization-accuracy.md.
//
//   build/h/bench/pare_quant_accuracy > quant_accuracy.csv
//
// Bits per weight count everything a kernel-ready copy stores: the codes, plus per unit (tensor,
// channel or group) a 16-bit scale and, for affine schemes, a zero point of the code's width
// (GGUF / AWQ conventions; pare's QuantizedTensor keeps f32 scales in memory). The block formats
// (Q4G*, NF4) are counted exactly as pare stores them.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "pare/core/float16.hpp"
#include "pare/core/float8.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/io/digits.hpp"
#include "pare/kernels/quantize.hpp"
#include "pare/nn/adam.hpp"
#include "pare/nn/batches.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/loss.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"
#include "pare/quant/int4_block.hpp"
#include "pare/quant/nf4.hpp"
#include "pare/quant/quantizer.hpp"
#include "pare/quant/search_observer.hpp"

using pare::Tensor;
using pare::TensorView;

namespace {

struct Population {
  std::string name;
  Tensor<float, 2> w;
};

double sqnr(const Tensor<float, 2>& w, const Tensor<float, 2>& d) {
  return pare::sqnr_db(TensorView<const float, 2>(w), TensorView<const float, 2>(d));
}

void emit(const Population& p, const char* format, const std::string& granularity,
          const char* scheme, const char* observer, double bpw, double db) {
  std::printf("%s,%s,%s,%s,%s,%.4f,%.3f\n", p.name.c_str(), format, granularity.c_str(), scheme,
              observer, bpw, db);
  std::fflush(stdout);
}

template <class G>
std::string granularity_name() {
  if constexpr (std::is_same_v<G, pare::PerTensor>)
    return "tensor";
  else if constexpr (std::is_same_v<G, pare::PerChannel>)
    return "channel";
  else
    return "group" + std::to_string(G::group_size);
}

template <class F, class S, class G>
double int_bpw(const Tensor<float, 2>& w) {
  const double n = static_cast<double>(w.size());
  const double units = static_cast<double>(G{}.unit_count(w.extents()));
  const double per_unit = 16.0 + (pare::scheme_is_symmetric<S> ? 0.0 : F::bits);
  return F::bits + units * per_unit / n;
}

template <class F, class S, class G>
void integer_formats(const Population& p, const char* format, const char* scheme) {
  const double bpw = int_bpw<F, S, G>(p.w);
  // MinMax through the vectorized kernel where the codes pack (bit-identical to
  // Quantizer<F, S, G, MinMax>); UInt<2> is stored a code a byte and takes the Quantizer.
  if constexpr (pare::codes_per_byte<F> * F::bits == 8) {
    const auto q = pare::quantize_minmax<F, S, G>(TensorView<const float, 2>(p.w));
    emit(p, format, granularity_name<G>(), scheme, "minmax", bpw,
         sqnr(p.w, pare::dequantize_fast(q)));
  } else {
    const auto q = pare::Quantizer<F, S, G>{}.quantize(p.w);
    emit(p, format, granularity_name<G>(), scheme, "minmax", bpw, sqnr(p.w, pare::dequantize(q)));
  }
  // 50 candidate ranges and one refinement round (defaults: 100, 2): ~3x faster, which the
  // shared build machine needed; on 1024^2 N(0, 1) it measured 0.00-0.23 dB below the defaults
  // (int8 per group 32: 45.07 vs 45.30 dB), so the mse rows slightly understate MseSearch.
  const pare::Quantizer<F, S, G, pare::MseSearch> mse{
      .observer = {.candidates = 50, .min_fraction = 0.3f, .refine_rounds = 1}};
  const auto qm = mse.quantize(p.w);
  emit(p, format, granularity_name<G>(), scheme, "mse", bpw, sqnr(p.w, pare::dequantize(qm)));
}

template <class F, class S>
void every_granularity(const Population& p, const char* format, const char* scheme) {
  integer_formats<F, S, pare::PerTensor>(p, format, scheme);
  integer_formats<F, S, pare::PerChannel>(p, format, scheme);
  integer_formats<F, S, pare::PerGroup<32>>(p, format, scheme);
  integer_formats<F, S, pare::PerGroup<64>>(p, format, scheme);
  integer_formats<F, S, pare::PerGroup<128>>(p, format, scheme);
}

template <class T>
void float_format(const Population& p, const char* format, float fmax, bool per_channel) {
  const std::size_t rows = p.w.extent(0), cols = p.w.extent(1);
  Tensor<float, 2> d(p.w.extents());
  float amax_all = 0;
  for (float v : p.w.span()) amax_all = std::max(amax_all, std::abs(v));
  for (std::size_t r = 0; r < rows; ++r) {
    float amax = amax_all;
    if (per_channel) {
      amax = 0;
      for (std::size_t c = 0; c < cols; ++c) amax = std::max(amax, std::abs(p.w(r, c)));
    }
    const float s = amax > 0 ? amax / fmax : 1.0f;
    for (std::size_t c = 0; c < cols; ++c) d(r, c) = static_cast<float>(T(p.w(r, c) / s)) * s;
  }
  const double units = per_channel ? static_cast<double>(rows) : 1.0;
  emit(p, format, per_channel ? "channel" : "tensor", "scaled", "absmax",
       8.0 + units * 32.0 / static_cast<double>(p.w.size()), sqnr(p.w, d));
}

template <class T>
void cast_format(const Population& p, const char* format) {
  Tensor<float, 2> d(p.w.extents());
  for (std::size_t i = 0; i < p.w.size(); ++i) d.data()[i] = static_cast<float>(T(p.w.data()[i]));
  emit(p, format, "none", "cast", "none", 16.0, sqnr(p.w, d));
}

template <class Format>
void block_format(const Population& p, const char* format) {
  const auto q = pare::pack_int4_blocks<Format>(TensorView<const float, 2>(p.w));
  emit(p, format, "group" + std::to_string(Format::group), "codebook+log-scale", "mse-scale",
       q.bits_per_weight(), sqnr(p.w, pare::dequantize(q)));
}

void nf4(const Population& p, std::size_t group) {
  const auto q = pare::pack_nf4(TensorView<const float, 2>(p.w), group);
  emit(p, "nf4", "group" + std::to_string(group), "absmax", "absmax", q.bits_per_weight(),
       sqnr(p.w, pare::dequantize(q)));
}

void run(const Population& p) {
  every_granularity<pare::Int<8>, pare::Symmetric>(p, "int8", "symmetric");
  every_granularity<pare::UInt<8>, pare::Affine>(p, "uint8", "affine");
  every_granularity<pare::Int<4>, pare::Symmetric>(p, "int4", "symmetric");
  every_granularity<pare::UInt<4>, pare::Affine>(p, "uint4", "affine");
  every_granularity<pare::Int<2>, pare::Symmetric>(p, "int2", "symmetric");
  every_granularity<pare::UInt<2>, pare::Affine>(p, "uint2", "affine");
  block_format<pare::Q4G16>(p, "q4g16");
  block_format<pare::Q4G32>(p, "q4g32");
  block_format<pare::Q4G64>(p, "q4g64");
  block_format<pare::Q4G128>(p, "q4g128");
  nf4(p, 32);
  nf4(p, 64);
  nf4(p, 128);
  float_format<pare::fp8_e4m3>(p, "fp8_e4m3", 448.0f, false);
  float_format<pare::fp8_e4m3>(p, "fp8_e4m3", 448.0f, true);
  float_format<pare::fp8_e5m2>(p, "fp8_e5m2", 57344.0f, false);
  float_format<pare::fp8_e5m2>(p, "fp8_e5m2", 57344.0f, true);
  cast_format<pare::f16>(p, "f16");
  cast_format<pare::bf16>(p, "bf16");
}

Tensor<float, 2> trained_hidden_layer() {
  const std::filesystem::path data =
      std::filesystem::path(__FILE__).parent_path().parent_path() / "examples/data/digits.csv";
  const pare::Split split = pare::train_test_split(pare::load_digits(data.string()));
  using Mlp = pare::Sequential<pare::Linear, pare::ReLU, pare::Linear, pare::ReLU, pare::Linear>;
  pare::Rng rng(3);
  Mlp m{pare::Linear(64, 256, rng), pare::ReLU{}, pare::Linear(256, 256, rng), pare::ReLU{},
        pare::Linear(256, 10, rng)};
  pare::Adam opt{.lr = 3e-3f};
  pare::BatchLoader loader(split.train, 32, 5);
  for (int epoch = 0; epoch < 12; ++epoch)
    for (const pare::Batch& b : loader.epoch()) {
      m.zero_grad();
      auto [loss, grad] = pare::softmax_cross_entropy(m.forward(b.x), b.y);
      (void)m.backward(grad);
      opt.step(m.parameters());
    }
  return Tensor<float, 2>(m.layer<2>().weight());
}

}  // namespace

int main(int argc, char** argv) {
  const bool full = argc > 1 && std::strcmp(argv[1], "--full") == 0;
  const std::size_t n = full ? 4096 : 1024;
  std::printf("distribution,format,granularity,scheme,observer,bits_per_weight,sqnr_db\n");
  pare::Rng rng(2024);
  Population gauss{"gauss", Tensor<float, 2>({n, n})};
  for (float& v : gauss.w.span()) v = rng.normal();
  run(gauss);
  Population student{"student3", Tensor<float, 2>({n, n})};
  for (float& v : student.w.span()) {
    // t_3 = Z / sqrt(chi^2_3 / 3).
    const float a = rng.normal(), b = rng.normal(), c = rng.normal();
    v = rng.normal() / std::sqrt((a * a + b * b + c * c) / 3.0f);
  }
  run(student);
  run(Population{"digits", trained_hidden_layer()});
  return 0;
}
