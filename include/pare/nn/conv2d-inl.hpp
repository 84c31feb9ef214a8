// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/conv2d.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cmath>
#include <cstddef>

#include "pare/core/error.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/conv2d.hpp"
#include "pare/kernels/gemm.hpp"
#include "pare/nn/conv2d.hpp"

namespace pare {

PARE_INLINE Conv2d::Conv2d(const Conv2dGeometry& g, bool bias)
    : geom_((g.validate(), g)),
      weight_({g.out_channels, g.group_in_channels(), g.kernel_h, g.kernel_w}),
      bias_({g.out_channels}),
      weight_grad_(weight_.extents()),
      bias_grad_({g.out_channels}),
      has_bias_(bias) {}

PARE_INLINE Conv2d::Conv2d(const Conv2dGeometry& g, Rng& rng, bool bias) : Conv2d(g, bias) {
  const std::size_t fan_in = g.patch_size();
  kaiming_uniform(weight_.span(), fan_in, rng);
  if (has_bias_) uniform(bias_.span(), 1.0f / std::sqrt(static_cast<float>(fan_in)), rng);
}

PARE_INLINE Tensor<float, 2> Conv2d::backward(TensorView<const float, 2> grad_out) {
  const std::size_t n = batch_of(columns_);
  PARE_CHECK(grad_out.extent(0) == n && grad_out.extent(1) == out_features(), ShapeError,
             "Conv2d::backward: gradient ", to_string(grad_out.extents()),
             " does not match the last forward output [", n, ", ", out_features(), "]");
  const std::size_t plane = geom_.out_h() * geom_.out_w(), k = geom_.patch_size();
  const std::size_t og = geom_.group_out_channels(), cg = geom_.group_in_channels();
  // dY as [O, N·P]: channel-major, the layout the GEMMs below need.
  Tensor<float, 2> dy({geom_.out_channels, n * plane});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t o = 0; o < geom_.out_channels; ++o)
      for (std::size_t q = 0; q < plane; ++q) dy(o, i * plane + q) = grad_out(i, o * plane + q);
  if (has_bias_)
    for (std::size_t o = 0; o < geom_.out_channels; ++o) {
      double s = 0;
      for (std::size_t q = 0; q < n * plane; ++q) s += static_cast<double>(dy(o, q));
      bias_grad_[o] += static_cast<float>(s);
    }
  Tensor<float, 2> grad_in({n, in_features()});
  Tensor<float, 2> dcol({k, n * plane});
  const TensorView<const float, 2> w2(weight_.data(), {geom_.out_channels, k});
  const TensorView<float, 2> dw2(weight_grad_.data(), {geom_.out_channels, k});
  for (std::size_t grp = 0; grp < geom_.groups; ++grp) {
    const auto rows = [&](auto m) { return m.slice(0, grp * og, (grp + 1) * og); };
    const TensorView<const float, 2> col =
        TensorView<const float, 2>(columns_).slice(0, grp * k, (grp + 1) * k);
    const TensorView<const float, 2> dy_g = rows(TensorView<const float, 2>(dy));
    gemm_nt(dy_g, col, rows(dw2), 1.0f, 1.0f);  // dW_g += dY_g · col_gᵀ
    gemm_tn(rows(w2), dy_g, dcol.view());       // dcol = W_gᵀ · dY_g
    for (std::size_t i = 0; i < n; ++i)
      kernels::col2im(geom_, TensorView<const float, 2>(dcol).slice(1, i * plane, (i + 1) * plane),
                      grp * cg, input_image(grad_in.view(), i));
  }
  return grad_in;
}

PARE_INLINE Tensor<float, 2> Conv2d::infer(TensorView<const float, 2> x) const {
  Tensor<float, 2> scratch;
  return compute(x, scratch);
}

PARE_INLINE void Conv2d::infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
  PARE_CHECK(x.extent(0) == in_features() && y.extent(0) == out_features(), ShapeError,
             "Conv2d: sample ", to_string(x.extents()), " -> ", to_string(y.extents()),
             ", expected [", in_features(), "] -> [", out_features(), "]");
  PARE_CHECK(x.is_contiguous() && y.is_contiguous(), ShapeError,
             "Conv2d: single-sample views must be contiguous");
  conv2d(geom_, {x.data(), {geom_.in_channels, geom_.in_h, geom_.in_w}}, weight_,
         has_bias_ ? bias_.data() : nullptr,
         {y.data(), {geom_.out_channels, geom_.out_h(), geom_.out_w()}});
}

PARE_INLINE Tensor<float, 2> Conv2d::compute(TensorView<const float, 2> x,
                                             Tensor<float, 2>& col) const {
  PARE_CHECK(x.extent(1) == in_features(), ShapeError, "Conv2d: input ", to_string(x.extents()),
             " has the wrong width, expected ", in_features());
  const std::size_t n = x.extent(0), plane = geom_.out_h() * geom_.out_w();
  const std::size_t k = geom_.patch_size(), og = geom_.group_out_channels();
  const std::size_t cg = geom_.group_in_channels();
  col = Tensor<float, 2>({geom_.groups * k, n * plane});
  for (std::size_t grp = 0; grp < geom_.groups; ++grp)
    for (std::size_t i = 0; i < n; ++i)
      kernels::im2col(
          geom_, input_image(x, i), grp * cg,
          col.view().slice(0, grp * k, (grp + 1) * k).slice(1, i * plane, (i + 1) * plane));
  Tensor<float, 2> out({geom_.out_channels, n * plane});
  const TensorView<const float, 2> w2(weight_.data(), {geom_.out_channels, k});
  for (std::size_t grp = 0; grp < geom_.groups; ++grp)
    gemm(w2.slice(0, grp * og, (grp + 1) * og),
         TensorView<const float, 2>(col).slice(0, grp * k, (grp + 1) * k),
         out.view().slice(0, grp * og, (grp + 1) * og));
  Tensor<float, 2> y({n, out_features()});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t o = 0; o < geom_.out_channels; ++o) {
      const float b = has_bias_ ? bias_[o] : 0.0f;
      for (std::size_t q = 0; q < plane; ++q) y(i, o * plane + q) = out(o, i * plane + q) + b;
    }
  return y;
}

}  // namespace pare
