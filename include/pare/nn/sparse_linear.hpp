// SPDX-License-Identifier: Apache-2.0
// pare — SparseLinear: a Linear layer whose weight lives in a sparse format, for inference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/blas1.hpp"
#include "pare/kernels/spmm.hpp"
#include "pare/kernels/spmv.hpp"
#include "pare/nn/concepts.hpp"
#include "pare/nn/linear.hpp"
#include "pare/sparse/concepts.hpp"
#include "pare/sparse/csr.hpp"

namespace pare {

/// y = x Wᵀ + b with W [out, in] stored as `Format` (Csr<...>, CsrInt8<...>, Bsr<R, C>,
/// PackedNM<N, M>). Built from a trained pare::Linear and the mask that pruned it; the output
/// equals the dense Linear with the masked weights (up to float rounding, and the int8
/// quantization for CsrInt8). Inference only: it is a pare::Layer, so it drops into a Sequential
/// in place of the Linear, but `backward` throws UnsupportedError and it has no parameters.
///
///   pare::SparseLinear<pare::Csr<std::uint16_t>> fc(linear, mask.view());
///   auto y = fc.infer(x);                                  // x: [N, in] -> y: [N, out]
template <SparseMatrix Format>
class SparseLinear {
 public:
  /// The weights of `dense` that `mask` (same shape as the weight, 1 = keep) keeps, and its bias.
  SparseLinear(const Linear& dense, TensorView<const std::uint8_t, 2> mask)
      : weight_(Format::from_dense(dense.weight(), mask)), bias_(dense.bias()) {}
  /// The weights `keep(out, in)` selects.
  template <KeepPredicate Keep>
  SparseLinear(const Linear& dense, const Keep& keep)
      : weight_(Format::from_dense(dense.weight(), keep)), bias_(dense.bias()) {}
  /// The non-zero weights of `dense` (already pruned by zeroing).
  explicit SparseLinear(const Linear& dense)
      : weight_(Format::from_dense(dense.weight())), bias_(dense.bias()) {}
  /// From a sparse weight [out, in] and a bias [out].
  SparseLinear(Format weight, Tensor<float, 1> bias)
      : weight_(std::move(weight)), bias_(std::move(bias)) {
    PARE_CHECK(bias_.extent(0) == weight_.rows(), ShapeError, "SparseLinear: bias of ",
               bias_.extent(0), " for ", weight_.rows(), " outputs");
  }

  [[nodiscard]] std::size_t in_features() const noexcept { return weight_.cols(); }
  [[nodiscard]] std::size_t out_features() const noexcept { return weight_.rows(); }
  [[nodiscard]] std::size_t output_size(std::size_t in) const {
    PARE_CHECK(in == in_features(), ShapeError, "SparseLinear expects inputs of width ",
               in_features(), ", got ", in);
    return out_features();
  }
  [[nodiscard]] const Format& weight() const noexcept { return weight_; }
  [[nodiscard]] const Tensor<float, 1>& bias() const noexcept { return bias_; }
  /// Bytes of the sparse weight plus the bias.
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    return weight_.size_bytes() + bias_.size_bytes();
  }

  /// y = W x + b for one sample (pare::spmv).
  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
    spmv(weight_, x, y);
    axpy(1.0f, bias_, y);
  }

  /// y = x Wᵀ + b for a batch [N, in]: one sparse x dense-matrix product over xᵀ, so each kept
  /// weight is read once per batch rather than once per sample.
  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const {
    PARE_CHECK(x.extent(1) == in_features(), ShapeError, "SparseLinear(", in_features(), " -> ",
               out_features(), "): input ", to_string(x.extents()), " has the wrong width");
    const std::size_t n = x.extent(0);
    Tensor<float, 2> y({n, out_features()});
    if (n == 1) {
      infer(x[0], y.view()[0]);
      return y;
    }
    const Tensor<float, 2> xt(x.transposed());
    Tensor<float, 2> yt({out_features(), n});
    spmm(weight_, xt.view(), yt.view());
    for (std::size_t s = 0; s < n; ++s)
      for (std::size_t o = 0; o < out_features(); ++o) y(s, o) = yt(o, s) + bias_(o);
    return y;
  }

  /// Same as `infer`: a SparseLinear keeps nothing for a backward pass.
  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2> x) { return infer(x); }
  /// Always throws UnsupportedError: fine-tune the dense Linear under its mask instead.
  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2>) {
    throw UnsupportedError(
        "SparseLinear is inference-only: fine-tune the dense Linear under its mask, then convert");
  }
  template <class F>
  void for_each_parameter(F&&) {}

 private:
  Format weight_;
  Tensor<float, 1> bias_;
};

static_assert(Layer<SparseLinear<Csr<std::uint16_t>>>);

}  // namespace pare
