// SPDX-License-Identifier: Apache-2.0
// pare — QatLinear: a Linear trained through fake-quantized weights (quantization-aware
// training), so the float weights learn to sit well on the integer grid they will be stored on.
//
// When to use which:
//   QatMode::ste  the weights go through FakeQuantize with per-output-channel symmetric scales
//                 recomputed from the current weights every step (min-max, as PyTorch's
//                 default weight fake-quant does); the gradient passes straight through inside
//                 the range. Simple and robust at 8 bits and usually at 4.
//   QatMode::lsq  LearnedStepSize: the per-channel scales are trained parameters too (LSQ,
//                 Esser et al. 2020), initialized from the min-max scales. Better at 4 bits and
//                 below, where the best clipping is well inside the min-max range.
// The layer satisfies `Layer` and trains with pare's optimizers in a Sequential; `to_linear()`
// gives the float Linear whose weights are exactly the quantized ones, ready for a Quantizer
// with the same format and per-channel symmetric scheme, or for kernels.
//
//   pare::QatLinear<pare::Int<4>> q(trained_fc, pare::QatMode::lsq);   // fine-tune, then
//   pare::Linear deployed = q.to_linear();
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/nn/concepts.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/parameter.hpp"
#include "pare/quant/fake_quant.hpp"
#include "pare/quant/format.hpp"
#include "pare/quant/scheme.hpp"

namespace pare {

/// How QatLinear's weights are fake-quantized (see the file comment).
enum class QatMode { ste, lsq };

/// A Linear whose forward and backward see weights fake-quantized to format F, one symmetric
/// scale per output channel.
/// @tparam F the code format the weights will be stored in (Int<4>, Int<8>, ...)
template <QuantFormat F = Int<4>>
class QatLinear {
 public:
  /// Starts from `fc`'s weights and bias (a trained layer, or a fresh one to train from scratch).
  explicit QatLinear(const Linear& fc, QatMode mode = QatMode::ste)
      : mode_(mode),
        weight_(fc.weight()),
        bias_(fc.bias()),
        weight_grad_(fc.weight().extents(), 0.0f),
        bias_grad_(fc.bias().extents(), 0.0f),
        shadow_(fc.in_features(), fc.out_features()) {
    if (mode_ == QatMode::lsq) {
      std::vector<float> scales;
      for (const QuantParams& p : minmax_params()) scales.push_back(p.scale);
      lsq_.emplace(codes(), std::move(scales));
    }
  }

  [[nodiscard]] static constexpr CodeRange codes() noexcept { return code_range_of<F>; }
  [[nodiscard]] QatMode mode() const noexcept { return mode_; }
  [[nodiscard]] std::size_t in_features() const noexcept { return weight_.extent(1); }
  [[nodiscard]] std::size_t out_features() const noexcept { return weight_.extent(0); }
  [[nodiscard]] std::size_t output_size(std::size_t in) const {
    PARE_CHECK(in == in_features(), ShapeError, "QatLinear expects inputs of width ", in_features(),
               ", got ", in);
    return out_features();
  }
  /// The float (master) weights and bias being trained.
  [[nodiscard]] const Tensor<float, 2>& weight() const noexcept { return weight_; }
  [[nodiscard]] const Tensor<float, 1>& bias() const noexcept { return bias_; }

  /// The per-channel parameters the weights are quantized with now.
  [[nodiscard]] std::vector<QuantParams> params() const {
    if (!lsq_) return minmax_params();
    std::vector<QuantParams> p;
    for (float s : lsq_->scales()) p.push_back({std::max(s, detail::scale_floor), 0});
    return p;
  }
  /// The weights as quantized now (each a code times its channel's scale).
  [[nodiscard]] Tensor<float, 2> quantized_weight() const {
    return FakeQuantize(params(), codes()).infer(weight_.view());
  }
  /// The float Linear computing with the quantized weights: what deployment runs.
  [[nodiscard]] Linear to_linear() const {
    Linear fc(in_features(), out_features());
    fc.weight() = quantized_weight();
    fc.bias() = bias_;
    return fc;
  }

  /// y = x Ŵᵀ + b with Ŵ the fake-quantized weights; remembers what backward needs.
  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2> x) {
    if (lsq_) {
      shadow_.weight() = lsq_->forward(weight_.view());
    } else {
      ste_.emplace(minmax_params(), codes());
      shadow_.weight() = ste_->forward(weight_.view());
    }
    shadow_.bias() = bias_;
    return shadow_.forward(x);
  }

  /// Given dL/dy for the last forward: adds dL/dW (through the fake quantizer: STE or LSQ),
  /// dL/db and, with LSQ, dL/ds to the gradients; returns dL/dx.
  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2> grad_out) {
    PARE_CHECK(lsq_ || ste_, ArgumentError, "QatLinear::backward before any forward");
    shadow_.for_each_parameter(
        [](const Parameter& p) { std::fill(p.grad.begin(), p.grad.end(), 0.0f); });
    Tensor<float, 2> grad_in = shadow_.backward(grad_out);
    const Tensor<float, 2> gw = lsq_ ? lsq_->backward(shadow_.weight_grad().view())
                                     : ste_->backward(shadow_.weight_grad().view());
    for (std::size_t i = 0; i < gw.size(); ++i) weight_grad_.data()[i] += gw.data()[i];
    for (std::size_t i = 0; i < bias_grad_.size(); ++i)
      bias_grad_.data()[i] += shadow_.bias_grad().data()[i];
    return grad_in;
  }

  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const {
    return to_linear().infer(x);
  }
  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
    to_linear().infer(x, y);
  }

  /// Weights, bias and, with LSQ, the per-channel scales.
  template <class Fn>
  void for_each_parameter(Fn&& f) {
    f(Parameter{weight_.span(), weight_grad_.span()});
    f(Parameter{bias_.span(), bias_grad_.span()});
    if (lsq_) f(Parameter{lsq_->scales(), lsq_->scale_grad()});
  }

 private:
  [[nodiscard]] std::vector<QuantParams> minmax_params() const {
    std::vector<QuantParams> p(out_features());
    for (std::size_t o = 0; o < out_features(); ++o) {
      Range r;
      for (std::size_t i = 0; i < in_features(); ++i) {
        r.lo = std::min(r.lo, weight_(o, i));
        r.hi = std::max(r.hi, weight_(o, i));
      }
      p[o] = Symmetric{}.params(r, codes());
    }
    return p;
  }

  QatMode mode_;
  Tensor<float, 2> weight_;
  Tensor<float, 1> bias_;
  Tensor<float, 2> weight_grad_;
  Tensor<float, 1> bias_grad_;
  Linear shadow_;  // computes with the fake-quantized weights
  std::optional<FakeQuantize> ste_;
  std::optional<LearnedStepSize> lsq_;
};

static_assert(Layer<QatLinear<Int<4>>> && Layer<QatLinear<Int<8>>>);

}  // namespace pare
