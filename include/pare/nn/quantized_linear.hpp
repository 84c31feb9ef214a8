// SPDX-License-Identifier: Apache-2.0
// pare — QuantizedLinear<Q>: y = x Wᵀ + b with W quantized by the quantizer type Q and run on the
// kernel Q's policies choose (kernels/kernel_layout.hpp has the table).
//
//   using Q8 = pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel, MyObserver>;
//   pare::QuantizedLinear<Q8> a(fc);                    // PackedInt8Weights, int8 GEMM/GEMV
//   using Q4 = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<64>>;
//   pare::QuantizedLinear<Q4> b(fc);                    // Codes4Matrix, GemvCodes4
//   pare::QuantizedLinear<pare::DecodeQuantizer<MyFormat, pare::PerGroup<64>>> c(fc);
//
// The observer, scheme and format are the user's; the kernel is pare's. Int8Linear is the int8
// case with the quantizer fixed (Symmetric with restricted_range, MinMax):
// QuantizedLinear<Quantizer<Int<8>, Symmetric, PerChannel>>(fc, {.scheme = {.restricted_range =
// true}}) computes the same codes, scales and outputs. Int4Linear (Codebook4Log formats) and
// Lut4Linear (lookup formats) keep their own packers.
//
// Inference only; satisfies pare::Layer (forward = infer, backward throws UnsupportedError).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/blas1.hpp"
#include "pare/kernels/gemm_int8.hpp"
#include "pare/kernels/kernel_layout.hpp"
#include "pare/nn/concepts.hpp"
#include "pare/nn/linear.hpp"
#include "pare/quant/dynamic.hpp"

namespace pare {

/// A quantizer whose weights pack_for_kernel can place on a kernel (kernels/kernel_layout.hpp).
template <class Q>
concept KernelQuantizer =
    requires(const Q& q, TensorView<const float, 2> w) { pack_for_kernel(q, w); };

/// A linear layer whose weights are quantized by Q (a Quantizer<...> or a DecodeQuantizer<...>)
/// and packed for the kernel Q's types choose.
/// @tparam Q the quantizer type; its policies decide the kernel at compile time
template <class Q>
class QuantizedLinear {
  static_assert(
      KernelQuantizer<Q>,
      "QuantizedLinear<Q> needs a quantizer type with a kernel: Quantizer<Int<8>, "
      "Symmetric, PerChannel, Observer>, Quantizer<Int<4> or UInt<4>, Scheme, PerGroup<G>, "
      "Observer>, DecodeQuantizer<F, PerGroup<G>> or LookupQuantizer<F, PerGroup<G>> (or a "
      "user quantizer with its own pack_for_kernel overload); a float format has no quantized "
      "linear kernel (store it with FloatFormat and run the f32 Linear)");

 public:
  using quantizer_type = Q;
  /// PackedInt8Weights or Codes4Matrix<...>: kernel_layout_t<Q>.
  using layout_type = kernel_layout_t<Q>;

  /// Quantizes fc's weights with `q` (calibrated on the weights by q's observer) and packs them.
  explicit QuantizedLinear(const Linear& fc, const Q& q = {})
      : weight_(pack_for_kernel(q, fc.weight().view())), bias_(fc.bias()) {}

  /// From weights already packed (e.g. loaded from a file). ShapeError for a bias that does not
  /// match.
  QuantizedLinear(layout_type weight, Tensor<float, 1> bias)
      : weight_(std::move(weight)), bias_(std::move(bias)) {
    PARE_CHECK(bias_.extent(0) == out_features(), ShapeError, "QuantizedLinear: bias of ",
               bias_.extent(0), " for ", out_features(), " outputs");
  }

  [[nodiscard]] std::size_t in_features() const noexcept {
    if constexpr (is_int8)
      return weight_.k();
    else
      return weight_.cols();
  }
  [[nodiscard]] std::size_t out_features() const noexcept {
    if constexpr (is_int8)
      return weight_.n();
    else
      return weight_.rows();
  }
  [[nodiscard]] std::size_t output_size(std::size_t in) const {
    PARE_CHECK(in == in_features(), ShapeError, "QuantizedLinear expects inputs of width ",
               in_features(), ", got ", in);
    return out_features();
  }
  /// The packed weights, in the layout of the layer's kernel.
  [[nodiscard]] const layout_type& weight() const noexcept { return weight_; }
  [[nodiscard]] const Tensor<float, 1>& bias() const noexcept { return bias_; }
  /// Bytes of packed weights (with their scales) and the f32 bias.
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    return weight_.size_bytes() + bias_.size_bytes();
  }

  /// y = W x + b for one sample (the GEMV).
  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
    gemv(weight_, x, y);
    axpy(1.0f, bias_.view(), y);
  }

  /// y = x Wᵀ + b for a batch x [N, in]. int8: activations quantized per row (u8, dynamic) and
  /// one int8 GEMM; 4-bit: one GEMV per row.
  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const {
    PARE_CHECK(x.extent(1) == in_features(), ShapeError, "QuantizedLinear(", in_features(), " -> ",
               out_features(), "): input ", to_string(x.extents()), " has the wrong width");
    const std::size_t n = x.extent(0), in = in_features();
    Tensor<float, 2> y({n, out_features()});
    if (n == 0) return y;
    if constexpr (is_int8) {
      const Tensor<float, 2> xc(x);
      std::vector<std::uint8_t> q(n * in);
      std::vector<float> scales(n);
      std::vector<std::int32_t> zeros(n);
      quantize_rows_u8(xc.data(), n, in, in, q.data(), in, scales.data(), zeros.data());
      gemm_u8s8_f32(q.data(), n, in, scales.data(), zeros.data(), weight_, bias_.data(), y.data(),
                    out_features());
    } else {
      for (std::size_t i = 0; i < n; ++i) infer(x[i], y.view()[i]);
    }
    return y;
  }

  /// Same as infer: nothing is kept for a backward pass.
  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2> x) { return infer(x); }
  /// Always throws UnsupportedError: a quantized layer is not trained.
  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2>) {
    throw UnsupportedError(
        "QuantizedLinear is inference-only: train the float Linear (or a QatLinear) and convert "
        "it");
  }
  template <class Fn>
  void for_each_parameter(Fn&&) noexcept {}

 private:
  static constexpr bool is_int8 = std::is_same_v<layout_type, PackedInt8Weights>;
  layout_type weight_;
  Tensor<float, 1> bias_;
};

static_assert(Layer<QuantizedLinear<Quantizer<Int<8>, Symmetric, PerChannel>>> &&
              Layer<QuantizedLinear<Quantizer<Int<4>, Symmetric, PerGroup<32>>>>);

}  // namespace pare
