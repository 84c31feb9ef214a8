// SPDX-License-Identifier: Apache-2.0
// pare — SparseConv2d: a Conv2d whose weights live in a sparse format, for inference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/conv2d.hpp"
#include "pare/kernels/spmm.hpp"
#include "pare/nn/concepts.hpp"
#include "pare/nn/conv2d.hpp"
#include "pare/sparse/concepts.hpp"

namespace pare {

/// y = conv(x, W) + b with W [O, C·kh·kw] stored as `Format` (Csr<...>, Bsr<R, C>, PackedNM<N, M>,
/// ...): each sample's receptive fields are gathered (im2col, [C·kh·kw, oh·ow]) and multiplied
/// by the sparse weight with pare::spmm, so the work is proportional to the kept weights.
/// Built from a trained pare::Conv2d and the mask that pruned it (same shape as the weight
/// viewed as [O, C·kh·kw]); the output equals the dense Conv2d with the masked weights up to
/// float rounding. Inference only, like SparseLinear: a pare::Layer whose `backward` throws.
/// Grouped convolutions are not supported (UnsupportedError).
///
///   pare::SparseConv2d<pare::Csr<std::uint16_t>> conv(dense_conv, mask.view());
///   auto y = conv.infer(x);                         // x: [N, C·H·W] -> y: [N, O·oh·ow]
template <SparseMatrix Format>
class SparseConv2d {
 public:
  SparseConv2d(const Conv2d& dense, TensorView<const std::uint8_t, 2> mask)
      : geom_(dense.geometry()),
        weight_(Format::from_dense(flat_weight(dense), mask)),
        bias_(dense.bias()),
        has_bias_(dense.has_bias()) {}

  [[nodiscard]] const Conv2dGeometry& geometry() const noexcept { return geom_; }
  [[nodiscard]] const Format& weight() const noexcept { return weight_; }
  [[nodiscard]] const Tensor<float, 1>& bias() const noexcept { return bias_; }
  [[nodiscard]] std::size_t in_features() const noexcept {
    return geom_.in_channels * geom_.in_h * geom_.in_w;
  }
  [[nodiscard]] std::size_t out_features() const noexcept {
    return geom_.out_channels * geom_.out_h() * geom_.out_w();
  }
  [[nodiscard]] std::size_t output_size(std::size_t in) const {
    PARE_CHECK(in == in_features(), ShapeError, "SparseConv2d expects inputs of width ",
               in_features(), ", got ", in);
    return out_features();
  }
  /// Bytes of the sparse weight and the bias.
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    return weight_.size_bytes() + bias_.size_bytes();
  }

  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const {
    PARE_CHECK(x.extent(1) == in_features(), ShapeError, "SparseConv2d: input ",
               to_string(x.extents()), " has the wrong width (", in_features(), ")");
    Tensor<float, 2> y({x.extent(0), out_features()});
    for (std::size_t n = 0; n < x.extent(0); ++n) infer(x[n], y.view()[n]);
    return y;
  }

  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
    PARE_CHECK(x.extent(0) == in_features() && y.extent(0) == out_features(), ShapeError,
               "SparseConv2d: sample of ", x.extent(0), " -> ", y.extent(0), ", expected ",
               in_features(), " -> ", out_features());
    const std::size_t positions = geom_.out_h() * geom_.out_w();
    Tensor<float, 2> col({geom_.patch_size(), positions});
    const TensorView<const float, 3> image(x.data(), {geom_.in_channels, geom_.in_h, geom_.in_w});
    kernels::im2col(geom_, image, 0, col.view());
    const TensorView<float, 2> out(y.data(), {geom_.out_channels, positions});
    spmm(weight_, col.view(), out);
    if (has_bias_)
      for (std::size_t o = 0; o < geom_.out_channels; ++o)
        for (std::size_t p = 0; p < positions; ++p) out(o, p) += bias_[o];
  }

  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2> x) { return infer(x); }
  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2>) {
    throw UnsupportedError("SparseConv2d is for inference; fine-tune the dense Conv2d with masks");
  }
  template <class F>
  void for_each_parameter(F&&) noexcept {}

 private:
  static Tensor<float, 2> flat_weight(const Conv2d& dense) {
    const Conv2dGeometry& g = dense.geometry();
    PARE_CHECK(g.groups == 1, UnsupportedError,
               "SparseConv2d: grouped convolutions (groups = ", g.groups, ") are not supported");
    return Tensor<float, 2>(
        TensorView<const float, 2>(dense.weight().data(), {g.out_channels, g.patch_size()}));
  }

  Conv2dGeometry geom_;
  Format weight_;
  Tensor<float, 1> bias_;
  bool has_bias_ = true;
};

}  // namespace pare
