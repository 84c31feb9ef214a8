// SPDX-License-Identifier: Apache-2.0
// pare — what a layer and an optimizer promise. A user type that satisfies `Layer` composes in
// `Sequential` and trains with the built-in optimizers exactly as `Linear` does.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>

#include "pare/core/tensor.hpp"
#include "pare/nn/parameter.hpp"

namespace pare {

namespace detail {
/// Stands for any callable a layer must accept in `for_each_parameter`.
struct ParameterVisitorArchetype {
  void operator()(const Parameter&) const noexcept {}
};
}  // namespace detail

/// A differentiable map from a batch [N, in] to a batch [N, out].
///
/// - `forward(x)` returns the output and remembers what `backward` needs;
/// - `backward(grad_out)` returns the gradient wrt the last forward input and *adds* the
///   gradients wrt the layer's parameters to their `grad` buffers (call `zero_grad` between steps);
/// - `infer` computes the same output without remembering anything (const; batch or one sample);
/// - `output_size(in)` is the width of the output for an input of width `in`, so containers can
///   size single-sample buffers;
/// - `for_each_parameter(f)` calls `f(Parameter)` for each trainable tensor, in a fixed order;
///   a layer without parameters calls it zero times.
template <class L>
concept Layer =
    requires(L& l, const L& cl, TensorView<const float, 2> batch, TensorView<const float, 1> x,
             TensorView<float, 1> y, std::size_t width, detail::ParameterVisitorArchetype visit) {
      { l.forward(batch) } -> std::same_as<Tensor<float, 2>>;
      { l.backward(batch) } -> std::same_as<Tensor<float, 2>>;
      { cl.infer(batch) } -> std::same_as<Tensor<float, 2>>;
      { cl.infer(x, y) } -> std::same_as<void>;
      { cl.output_size(width) } -> std::convertible_to<std::size_t>;
      l.for_each_parameter(visit);
    };

/// Updates parameters in place from their gradients. An optimizer keeps per-parameter state
/// (momentum, moments) by position, so pass the same parameters in the same order every step.
template <class O>
concept Optimizer = requires(O& o, std::span<const Parameter> params) {
  { o.step(params) } -> std::same_as<void>;
};

}  // namespace pare
