// SPDX-License-Identifier: Apache-2.0
// pare — fake quantization with gradients, for quantization-aware training (QAT).
//
// When to use which:
//   FakeQuantize     fixed scale and zero point (from an observer, recomputed as you like) and the
//                    straight-through estimator: the usual QAT recipe, PyTorch's FakeQuantize.
//   LearnedStepSize  LSQ (Esser et al., ICLR 2020): the scale (and zero point) are trained with
//                    the weights; better than STE alone at 4 bits and below.
// Both work per tensor, or per channel along axis 0 (output channels of a [out, in] weight).
// They are building blocks with forward/backward, not layers: nn/ wraps them.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/quant/concepts.hpp"
#include "pare/quant/scheme.hpp"

namespace pare {

namespace detail {
/// float or const float: the views forward/backward accept.
template <class T>
concept FloatElement = std::same_as<std::remove_const_t<T>, float>;

/// Elements per channel for parameters per index of axis 0 (`channels` == 1: per tensor).
template <std::size_t Rank>
[[nodiscard]] std::size_t channel_stride(const Shape<Rank>& s, std::size_t channels,
                                         const char* who) {
  if (channels == 1) return checked_size(s);
  PARE_CHECK(Rank >= 1 && s[0] == channels, ShapeError, who, ": ", channels,
             " per-channel parameter sets for a tensor of shape ", to_string(s),
             " (channels are axis 0)");
  return s[0] == 0 ? 0 : checked_size(s) / s[0];
}
}  // namespace detail

/// Fake quantization y = (clamp(round(x / s) + z, qmin, qmax) − z) · s with the straight-through
/// estimator: the backward pass lets the gradient through where round(x / s) + z lies in
/// [qmin, qmax], i.e. where x is inside the clipping range [(qmin − z) s, (qmax − z) s] up to half
/// a step, and zeros it elsewhere. This is torch.fake_quantize_per_tensor_affine (and
/// _per_channel_affine) with its "cachemask" backward, bit for bit.
///
///   pare::FakeQuantize fq(pare::Symmetric{}.params(range, {-8, 7}), {-8, 7});
///   auto wq = fq.forward(w);              // remembers which elements were clipped
///   auto gw = fq.backward(grad_wq);       // STE: gradient where not clipped
class FakeQuantize {
 public:
  /// Per tensor.
  FakeQuantize(QuantParams p, CodeRange codes) : params_{p}, codes_(codes) {}
  /// One parameter set per index of axis 0.
  FakeQuantize(std::vector<QuantParams> per_channel, CodeRange codes);

  [[nodiscard]] std::span<const QuantParams> params() const noexcept { return params_; }
  [[nodiscard]] CodeRange code_range() const noexcept { return codes_; }
  /// Replaces the parameters (e.g. after re-observing the weights), keeping their number.
  void set_params(std::span<const QuantParams> p);

  /// y = fake_quant(x); remembers the pass-through mask for `backward`.
  template <detail::FloatElement T, std::size_t Rank>
  [[nodiscard]] Tensor<float, Rank> forward(TensorView<T, Rank> x) {
    Tensor<float, Rank> y(x);
    mask_.assign(y.size(), 0);
    apply(y.extents(), y.span(), mask_);
    return y;
  }

  /// y = fake_quant(x), remembering nothing.
  template <detail::FloatElement T, std::size_t Rank>
  [[nodiscard]] Tensor<float, Rank> infer(TensorView<T, Rank> x) const {
    Tensor<float, Rank> y(x);
    apply(y.extents(), y.span(), {});
    return y;
  }

  /// dL/dx = dL/dy where the last forward input was not clipped, 0 elsewhere.
  template <detail::FloatElement T, std::size_t Rank>
  [[nodiscard]] Tensor<float, Rank> backward(TensorView<T, Rank> grad_out) const {
    PARE_CHECK(grad_out.size() == mask_.size(), ShapeError, "FakeQuantize::backward: gradient ",
               to_string(grad_out.extents()), " does not match the last forward input (",
               mask_.size(), " elements)");
    Tensor<float, Rank> g(grad_out);
    auto gs = g.span();
    for (std::size_t i = 0; i < gs.size(); ++i)
      if (!mask_[i]) gs[i] = 0.0f;
    return g;
  }

  /// 1 where the last forward passed the gradient through, row-major.
  [[nodiscard]] std::span<const std::uint8_t> mask() const noexcept { return mask_; }

 private:
  template <std::size_t Rank>
  void apply(const Shape<Rank>& shape, std::span<float> y, std::span<std::uint8_t> mask) const {
    const std::size_t inner = detail::channel_stride(shape, params_.size(), "FakeQuantize");
    const auto qmin = static_cast<float>(codes_.qmin), qmax = static_cast<float>(codes_.qmax);
    for (std::size_t i = 0; i < y.size(); ++i) {
      const QuantParams& p = params_[params_.size() == 1 ? 0 : i / inner];
      const float q = std::nearbyint(y[i] * (1.0f / p.scale)) + static_cast<float>(p.zero_point);
      if (!mask.empty()) mask[i] = q >= qmin && q <= qmax;
      y[i] = dequantize_value(quantize_value(y[i], 1.0f / p.scale, p.zero_point, codes_), p);
    }
  }

  std::vector<QuantParams> params_;
  CodeRange codes_;
  std::vector<std::uint8_t> mask_;
};

/// LSQ's initial step size for data x: 2 mean(|x|) / √qmax (Esser et al. 2020, section 2.1).
[[nodiscard]] float lsq_initial_scale(std::span<const float> x, CodeRange codes);

/// Learned Step Size Quantization: fake quantization whose scale s (and zero point z) are
/// trainable. With v = x / s and q = round(v) + z:
///
///   y      = (clamp(q, qmin, qmax) − z) · s
///   ∂y/∂x  = 1 if qmin ≤ q ≤ qmax, else 0                           (STE)
///   ∂y/∂s  = (round(v) − v) inside;  qmin − z below;  qmax − z above   (times g)
///   ∂y/∂z  = 0 inside;  −s outside                                     (times g)
///
/// scaled by the gradient factor g = 1/√(N · qmax) that LSQ uses to balance the scale's update
/// against the weights'. This is torch._fake_quantize_learnable_per_tensor_affine (and
/// _per_channel_affine, channels on axis 0) with grad_factor = g. By default g uses N = all
/// elements of the forward input, as torch.ao.quantization._LearnableFakeQuantize does; pass
/// `grad_factor` to choose (the paper's N for activations is the features of one sample).
/// The zero point is rounded to the nearest integer (half to even) and clamped to [qmin, qmax]
/// in both passes; PyTorch's per-tensor backward rounds half up instead, which differs only for
/// a zero point that is exactly a half-integer. Scales are clamped to at least float epsilon
/// before use, as _LearnableFakeQuantize does.
///
///   pare::LearnedStepSize lsq({-8, 7}, {pare::lsq_initial_scale(w.span(), {-8, 7})});
///   auto wq = lsq.forward(w);
///   auto gw = lsq.backward(grad_wq);      // and lsq.scale_grad() holds dL/ds
///   lsq.scales()[0] -= lr * lsq.scale_grad()[0];
class LearnedStepSize {
 public:
  /// One scale (per tensor) or one per index of axis 0; zero points default to 0.
  /// `grad_factor` <= 0 means 1/√(N · qmax) with N the elements of each forward input.
  LearnedStepSize(CodeRange codes, std::vector<float> scales, std::vector<float> zero_points = {},
                  float grad_factor = 0.0f);

  [[nodiscard]] CodeRange code_range() const noexcept { return codes_; }
  /// The trainable scales and zero points, and the gradients `backward` adds to.
  [[nodiscard]] std::span<float> scales() noexcept { return scales_; }
  [[nodiscard]] std::span<const float> scales() const noexcept { return scales_; }
  [[nodiscard]] std::span<float> zero_points() noexcept { return zero_points_; }
  [[nodiscard]] std::span<const float> zero_points() const noexcept { return zero_points_; }
  [[nodiscard]] std::span<float> scale_grad() noexcept { return scale_grad_; }
  [[nodiscard]] std::span<float> zero_point_grad() noexcept { return zero_point_grad_; }
  void zero_grad() noexcept {
    std::fill(scale_grad_.begin(), scale_grad_.end(), 0.0f);
    std::fill(zero_point_grad_.begin(), zero_point_grad_.end(), 0.0f);
  }

  /// The gradient factor g for an input of n elements.
  [[nodiscard]] float grad_factor(std::size_t n) const noexcept {
    if (grad_factor_ > 0) return grad_factor_;
    const double d = static_cast<double>(n) * static_cast<double>(std::max(codes_.qmax, 1));
    return d > 0 ? static_cast<float>(1.0 / std::sqrt(d)) : 1.0f;
  }

  /// y = fake_quant(x) with the current scales; remembers x for `backward`.
  template <detail::FloatElement T, std::size_t Rank>
  [[nodiscard]] Tensor<float, Rank> forward(TensorView<T, Rank> x) {
    for (float& s : scales_) s = std::max(s, detail::scale_floor);
    input_ = std::vector<float>(x.size());
    Tensor<float, Rank> y(x);
    std::copy(y.span().begin(), y.span().end(), input_.begin());
    const std::size_t inner =
        detail::channel_stride(y.extents(), scales_.size(), "LearnedStepSize");
    auto ys = y.span();
    for (std::size_t i = 0; i < ys.size(); ++i) {
      const QuantParams p = params(channel(i, inner));
      ys[i] = dequantize_value(quantize_value(ys[i], 1.0f / p.scale, p.zero_point, codes_), p);
    }
    inner_ = inner;
    return y;
  }

  /// Given dL/dy for the last forward, returns dL/dx and adds dL/ds and dL/dz (each summed over
  /// its channel) to scale_grad() and zero_point_grad().
  template <detail::FloatElement T, std::size_t Rank>
  [[nodiscard]] Tensor<float, Rank> backward(TensorView<T, Rank> grad_out) {
    PARE_CHECK(grad_out.size() == input_.size(), ShapeError, "LearnedStepSize::backward: gradient ",
               to_string(grad_out.extents()), " does not match the last forward input (",
               input_.size(), " elements)");
    Tensor<float, Rank> gx(grad_out);
    auto g = gx.span();
    const float factor = grad_factor(input_.size());
    const auto qmin = static_cast<std::int64_t>(codes_.qmin);
    const auto qmax = static_cast<std::int64_t>(codes_.qmax);
    std::vector<double> ds(scales_.size(), 0.0), dz(scales_.size(), 0.0);
    for (std::size_t i = 0; i < g.size(); ++i) {
      const std::size_t c = channel(i, inner_);
      const QuantParams p = params(c);
      const float s = p.scale, inv = 1.0f / s, x = input_[i], dy = g[i];
      const auto z = static_cast<std::int64_t>(p.zero_point);
      // The order of float operations follows PyTorch's kernel.
      const auto xq = static_cast<std::int64_t>(static_cast<float>(z) + std::nearbyint(x * inv));
      if (xq < qmin || xq > qmax) {
        g[i] = 0.0f;
        dz[c] += dy * -1.0f * s * factor;
        ds[c] +=
            (xq < qmin ? dy * static_cast<float>(qmin - z) : dy * static_cast<float>(qmax - z)) *
            factor;
      } else {
        const float xfq = static_cast<float>(xq - z) * s;
        ds[c] += (xfq - x) * inv * dy * factor;
      }
    }
    for (std::size_t c = 0; c < scales_.size(); ++c) {
      scale_grad_[c] += static_cast<float>(ds[c]);
      zero_point_grad_[c] += static_cast<float>(dz[c]);
    }
    return gx;
  }

 private:
  [[nodiscard]] std::size_t channel(std::size_t i, std::size_t inner) const noexcept {
    return scales_.size() == 1 || inner == 0 ? 0 : i / inner;
  }
  [[nodiscard]] QuantParams params(std::size_t c) const noexcept {
    const float z = std::clamp(std::nearbyint(zero_points_[c]), static_cast<float>(codes_.qmin),
                               static_cast<float>(codes_.qmax));
    return {std::max(scales_[c], detail::scale_floor), static_cast<std::int32_t>(z)};
  }

  CodeRange codes_;
  std::vector<float> scales_;
  std::vector<float> zero_points_;
  float grad_factor_;
  std::vector<float> scale_grad_;
  std::vector<float> zero_point_grad_;
  std::vector<float> input_;
  std::size_t inner_ = 0;
};

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/quant/fake_quant-inl.hpp"
#endif
