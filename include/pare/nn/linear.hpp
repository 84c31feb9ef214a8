// SPDX-License-Identifier: Apache-2.0
// pare — Linear: y = x Wᵀ + b, with W stored [out, in] as in torch.nn.Linear.
#pragma once

#include <cmath>
#include <cstddef>

#include "pare/core/error.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/blas1.hpp"
#include "pare/kernels/gemv.hpp"
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
  Linear(std::size_t in_features, std::size_t out_features)
      : weight_({out_features, in_features}),
        bias_({out_features}),
        weight_grad_({out_features, in_features}),
        bias_grad_({out_features}) {
    PARE_CHECK(in_features > 0 && out_features > 0, ArgumentError,
               "Linear needs positive sizes, got in=", in_features, " out=", out_features);
  }

  /// torch.nn.Linear's default init, drawn from `rng`: W ~ kaiming_uniform(a = √5), i.e.
  /// U(-1/√in, 1/√in), then b ~ U(-1/√in, 1/√in).
  Linear(std::size_t in_features, std::size_t out_features, Rng& rng)
      : Linear(in_features, out_features) {
    kaiming_uniform(weight_.span(), in_features, rng);
    uniform(bias_.span(), 1.0f / std::sqrt(static_cast<float>(in_features)), rng);
  }

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
  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2> x) {
    Tensor<float, 2> y = infer(x);
    input_ = Tensor<float, 2>(x);
    return y;
  }

  /// Given dL/dy [N, out] for the last `forward`, adds dL/dW = gᵀx and dL/db = Σₙ g to the
  /// gradients and returns dL/dx = g W [N, in].
  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2> grad_out) {
    PARE_CHECK(grad_out.extent(0) == input_.extent(0) && grad_out.extent(1) == out_features(),
               ShapeError, "Linear::backward: gradient ", to_string(grad_out.extents()),
               " does not match the last forward output [", input_.extent(0), ", ", out_features(),
               "]");
    // Row by row through pare's vector kernels (axpy), so this gains from their SIMD versions.
    // Not Eigen's GEMM through as_eigen: with GCC 12.2 and -march=native on AVX-512 its packet
    // code raises a false -Wmaybe-uninitialized inside avx512fintrin.h, which -Werror makes fatal.
    // Replace with pare's f32 GEMM kernel once there is one.
    Tensor<float, 2> grad_in({grad_out.extent(0), in_features()});
    const TensorView<const float, 2> w = weight_;
    const TensorView<const float, 2> x = input_;
    for (std::size_t n = 0; n < grad_out.extent(0); ++n) {
      const auto g = grad_out[n];
      axpy(1.0f, g, bias_grad_.view());
      for (std::size_t o = 0; o < out_features(); ++o) {
        axpy(g[o], x[n], weight_grad_.view()[o]);
        axpy(g[o], w[o], grad_in.view()[n]);
      }
    }
    return grad_in;
  }

  /// y = x Wᵀ + b for a batch (one gemv per row), remembering nothing.
  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const {
    PARE_CHECK(x.extent(1) == in_features(), ShapeError, "Linear(", in_features(), " -> ",
               out_features(), "): input ", to_string(x.extents()), " has the wrong width");
    Tensor<float, 2> y({x.extent(0), out_features()});
    for (std::size_t n = 0; n < x.extent(0); ++n) infer(x[n], y.view()[n]);
    return y;
  }

  /// y = W x + b for one sample (pare::gemv).
  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
    gemv(weight_, x, y);
    axpy(1.0f, bias_, y);
  }

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
