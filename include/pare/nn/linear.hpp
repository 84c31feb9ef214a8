// SPDX-License-Identifier: Apache-2.0
// pare — Linear: y = x Wᵀ + b, with W stored [out, in] as in torch.nn.Linear.
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/nn/concepts.hpp"
#include "pare/nn/init.hpp"
#include "pare/nn/parameter.hpp"

namespace pare {

/// A fully connected layer. Weights are [out_features, in_features] (row r produces output r), the
/// layout torch.nn.Linear and pare::gemv use, so PyTorch weights load without a transpose.
///
///   pare::Rng rng(42);
///   pare::Linear fc(64, 10, rng);          // torch.nn.Linear's default init, seeded
///   auto y = fc.forward(x);                // x: [N, 64] -> y: [N, 10]
class Linear {
 public:
  /// Zero weights and bias (load or set them yourself).
  Linear(std::size_t in_features, std::size_t out_features);

  /// torch.nn.Linear's default init, drawn from `rng`: W ~ kaiming_uniform(a = √5), i.e.
  /// U(-1/√in, 1/√in), then b ~ U(-1/√in, 1/√in).
  Linear(std::size_t in_features, std::size_t out_features, Rng& rng);

  [[nodiscard]] std::size_t in_features() const noexcept { return weight_.extent(1); }
  [[nodiscard]] std::size_t out_features() const noexcept { return weight_.extent(0); }
  [[nodiscard]] std::size_t output_size(std::size_t in) const {
    PARE_CHECK(in == in_features(), ShapeError, "Linear expects inputs of width ", in_features(),
               ", got ", in);
    return out_features();
  }

  [[nodiscard]] Tensor<float, 2>& weight() noexcept { return weight_; }
  [[nodiscard]] const Tensor<float, 2>& weight() const noexcept { return weight_; }
  [[nodiscard]] Tensor<float, 1>& bias() noexcept { return bias_; }
  [[nodiscard]] const Tensor<float, 1>& bias() const noexcept { return bias_; }
  [[nodiscard]] const Tensor<float, 2>& weight_grad() const noexcept { return weight_grad_; }
  [[nodiscard]] const Tensor<float, 1>& bias_grad() const noexcept { return bias_grad_; }

  /// y = x Wᵀ + b for a batch x of [N, in]; keeps a copy of x for `backward`.
  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2> x);

  /// Given dL/dy [N, out] for the last `forward`, adds dL/dW = gᵀx and dL/db = Σₙ g to the
  /// gradients and returns dL/dx = g W [N, in].
  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2> grad_out);

  /// y = x Wᵀ + b for a batch (one GEMM; a single row takes the gemv path), remembering nothing.
  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const;

  /// y = W x + b for one sample (pare::gemv).
  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const;

  template <class F>
  void for_each_parameter(F&& f) {
    f(Parameter{weight_.span(), weight_grad_.span()});
    f(Parameter{bias_.span(), bias_grad_.span()});
  }

 private:
  Tensor<float, 2> weight_;
  Tensor<float, 1> bias_;
  Tensor<float, 2> weight_grad_;
  Tensor<float, 1> bias_grad_;
  Tensor<float, 2> input_;
};

static_assert(Layer<Linear>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/nn/linear-inl.hpp"
#endif
