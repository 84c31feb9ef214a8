// SPDX-License-Identifier: Apache-2.0
// pare — 4-bit weight-only linear layers for inference: y = x Wᵀ + b with W packed 4-bit and
// dequantized inside the GEMV kernel.
//
// When to use which:
//   Codebook4LogLinear<Codebook4Log<32>>  (old name Int4Linear<Q4G32>) the codebook format of
//                      kernels/gemv_int4.hpp (16 Lloyd–Max levels, 8-bit log scales, 4.25 bpw;
//                      <16>: 4.5 bpw, more accurate): the fastest 4-bit path.
//   QuantizedLinear<Quantizer<Int<4>, ..., PerGroup<G>>>  (nn/quantized_linear.hpp) the linear
//                      int4 grid with f32 scales, any observer/scheme, on kernels::GemvCodes4.
//   Lut4Linear         NF4 (or any 16-level codebook) with f32 group scales on
//                      kernels/gemv_lut4.hpp: QLoRA-compatible weights, user codebooks.
// Build either from a trained float Linear by round-to-nearest (`from`) or with GPTQ from
// calibration inputs (`from_gptq`). Both satisfy `Layer` so they drop into a Sequential in place
// of the Linear; they are frozen (no parameters) and `backward` throws UnsupportedError.
#pragma once

#include <cstddef>
#include <utility>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/blas1.hpp"
#include "pare/kernels/gemv_int4.hpp"
#include "pare/kernels/gemv_lut4.hpp"
#include "pare/nn/concepts.hpp"
#include "pare/nn/linear.hpp"
#include "pare/quant/gptq.hpp"
#include "pare/quant/int4_block.hpp"
#include "pare/quant/lut4.hpp"
#include "pare/quant/nf4.hpp"

namespace pare {

namespace detail {

/// The inference-only half of `Layer` shared by the 4-bit layers: `Self` provides
/// `in_features()`, `out_features()` and `infer(x, y)` for one sample.
template <class Self>
struct FrozenLinearBase {
  [[nodiscard]] std::size_t output_size(std::size_t in) const {
    const auto& self = static_cast<const Self&>(*this);
    PARE_CHECK(in == self.in_features(), ShapeError, "4-bit linear expects inputs of width ",
               self.in_features(), ", got ", in);
    return self.out_features();
  }
  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const {
    const auto& self = static_cast<const Self&>(*this);
    PARE_CHECK(x.extent(1) == self.in_features(), ShapeError, "4-bit linear(", self.in_features(),
               " -> ", self.out_features(), "): input ", to_string(x.extents()),
               " has the wrong width");
    Tensor<float, 2> y({x.extent(0), self.out_features()});
    for (std::size_t n = 0; n < x.extent(0); ++n) self.infer(x[n], y.view()[n]);
    return y;
  }
  /// Same as infer: a frozen layer keeps nothing for a backward pass.
  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2> x) { return infer(x); }
  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2>) {
    throw UnsupportedError(
        "a 4-bit linear layer is inference-only: train the float Linear (or a QatLinear) and "
        "convert it");
  }
  template <class F>
  void for_each_parameter(F&&) noexcept {}
};

}  // namespace detail

/// y = x Wᵀ + b with W an Int4Matrix<Format> (a Codebook4Log format) on pare::gemv's int4 kernel.
///
///   using L = pare::Codebook4LogLinear<pare::Codebook4Log<32>>;
///   auto q = L::from(fc);          // round-to-nearest (searched)
///   auto g = L::from_gptq(fc, h);  // GPTQ, h from calibration
template <class Format = Codebook4Log<32>>
class Codebook4LogLinear : public detail::FrozenLinearBase<Codebook4LogLinear<Format>> {
 public:
  using detail::FrozenLinearBase<Codebook4LogLinear>::infer;

  Codebook4LogLinear(Int4Matrix<Format> weight, Tensor<float, 1> bias)
      : weight_(std::move(weight)), bias_(std::move(bias)) {
    PARE_CHECK(bias_.extent(0) == weight_.rows(), ShapeError, "Codebook4LogLinear: bias of ",
               bias_.extent(0), " for ", weight_.rows(), " outputs");
  }
  /// Packs fc's weights with pack_int4_blocks (least-squares scale search per group).
  [[nodiscard]] static Codebook4LogLinear from(const Linear& fc, Int4PackOptions opt = {}) {
    return {pack_int4_blocks<Format>(fc.weight().view(), opt), fc.bias()};
  }
  /// GPTQ from the Hessian of fc's calibration inputs (gptq_int4_blocks).
  [[nodiscard]] static Codebook4LogLinear from_gptq(const Linear& fc, const LayerHessian& h,
                                                    const GptqOptions& opt = {}) {
    return {gptq_int4_blocks<Format>(fc.weight().view(), h, opt), fc.bias()};
  }

  [[nodiscard]] std::size_t in_features() const noexcept { return weight_.cols(); }
  [[nodiscard]] std::size_t out_features() const noexcept { return weight_.rows(); }
  [[nodiscard]] const Int4Matrix<Format>& weight() const noexcept { return weight_; }
  [[nodiscard]] const Tensor<float, 1>& bias() const noexcept { return bias_; }
  /// Bytes of packed weights, scales and the f32 bias.
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    return weight_.size_bytes() + bias_.size_bytes();
  }

  /// y = W x + b for one sample.
  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
    gemv(weight_, x, y);
    axpy(1.0f, bias_.view(), y);
  }

 private:
  Int4Matrix<Format> weight_;
  Tensor<float, 1> bias_;
};

/// y = x Wᵀ + b with W a Lut4Matrix (NF4 by default) on kernels/gemv_lut4.hpp.
///
///   auto q = pare::Lut4Linear::from(fc, 64);                       // NF4, groups of 64
///   auto g = pare::Lut4Linear::from_gptq(fc, h, 64);               // GPTQ into NF4
///   auto u = pare::Lut4Linear::from(fc, 32, my_codebook);          // a user's 16 levels
class Lut4Linear : public detail::FrozenLinearBase<Lut4Linear> {
 public:
  using detail::FrozenLinearBase<Lut4Linear>::infer;

  Lut4Linear(Lut4Matrix weight, Tensor<float, 1> bias);
  /// Absmax per group, nearest level (pack_lut4).
  [[nodiscard]] static Lut4Linear from(const Linear& fc, std::size_t group = 64,
                                       const Lut4Codebook& levels = Nf4::levels());
  /// GPTQ from the Hessian of fc's calibration inputs (gptq_lut4).
  [[nodiscard]] static Lut4Linear from_gptq(const Linear& fc, const LayerHessian& h,
                                            std::size_t group = 64,
                                            const Lut4Codebook& levels = Nf4::levels(),
                                            const GptqOptions& opt = {});

  [[nodiscard]] std::size_t in_features() const noexcept { return weight_.cols(); }
  [[nodiscard]] std::size_t out_features() const noexcept { return weight_.rows(); }
  [[nodiscard]] const Lut4Matrix& weight() const noexcept { return weight_; }
  [[nodiscard]] const Tensor<float, 1>& bias() const noexcept { return bias_; }
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    return weight_.size_bytes() + bias_.size_bytes();
  }

  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const;

 private:
  Lut4Matrix weight_;
  Tensor<float, 1> bias_;
};

/// The layer's name before the 4-bit formats were named for what they are (Int4Linear<Q4G32>):
/// an alias, deprecated under PARE_WARN_DEPRECATED_NAMES.
template <class Format = Codebook4Log<32>>
using Int4Linear PARE_DEPRECATED_NAME("use pare::Codebook4LogLinear<Format>") =
    Codebook4LogLinear<Format>;

static_assert(Layer<Codebook4LogLinear<Codebook4Log<32>>> &&
              Layer<Codebook4LogLinear<Codebook4Log<16>>> && Layer<Lut4Linear>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/nn/linear_int4-inl.hpp"
#endif
