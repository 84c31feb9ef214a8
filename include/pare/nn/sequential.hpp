// SPDX-License-Identifier: Apache-2.0
// pare — Sequential: layers chained at compile time (a std::tuple, no virtual calls).
// infer() is const and keeps its activations local: one Sequential may serve several threads at
// once (docs/concurrency.md); forward/backward train it and are for one thread.
#pragma once

#include <cstddef>
#include <tuple>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/nn/concepts.hpp"
#include "pare/nn/parameter.hpp"

namespace pare {

/// Layers applied in order; itself a Layer, so Sequentials nest.
///
///   pare::Rng rng(1);
///   pare::Sequential model{pare::Linear(64, 32, rng), pare::ReLU{}, pare::Linear(32, 10, rng)};
///   auto logits = model.forward(x);                  // [N, 64] -> [N, 10]
///   auto grad_x = model.backward(grad_logits);       // fills every layer's parameter gradients
///   optimizer.step(model.parameters());
///
/// @tparam Layers each satisfies pare::Layer
template <Layer... Layers>
class Sequential {
  static_assert(sizeof...(Layers) >= 1, "Sequential needs at least one layer");

 public:
  explicit Sequential(Layers... layers) : layers_(std::move(layers)...) {}

  static constexpr std::size_t size() noexcept { return sizeof...(Layers); }

  template <std::size_t I>
  [[nodiscard]] auto& layer() noexcept {
    return std::get<I>(layers_);
  }
  template <std::size_t I>
  [[nodiscard]] const auto& layer() const noexcept {
    return std::get<I>(layers_);
  }

  [[nodiscard]] std::size_t output_size(std::size_t in) const {
    return std::apply([&](const auto&... l) { return ((in = l.output_size(in)), ...); }, layers_);
  }

  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2> x) {
    return chain(
        x, [](auto& l, const auto& in) { return l.forward(in); },
        std::index_sequence_for<Layers...>{});
  }

  /// Backpropagates through the layers in reverse order; see pare::Layer.
  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2> grad_out) {
    return chain(
        grad_out, [](auto& l, const auto& g) { return l.backward(g); },
        reversed(std::index_sequence_for<Layers...>{}));
  }

  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const {
    return chain(
        x, [](const auto& l, const auto& in) { return l.infer(in); },
        std::index_sequence_for<Layers...>{});
  }

  /// One sample through every layer, through two ping-pong buffers sized from output_size.
  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
    PARE_CHECK(output_size(x.extent(0)) == y.extent(0), ShapeError, "Sequential: output ",
               to_string(y.extents()), " does not match the model's output width ",
               output_size(x.extent(0)));
    std::vector<float> buf[2];
    std::size_t width = x.extent(0);
    TensorView<const float, 1> in = x;
    std::size_t i = 0;
    std::apply(
        [&](const auto&... l) {
          (([&] {
             const std::size_t out_width = l.output_size(width);
             TensorView<float, 1> out = y;
             if (++i < sizeof...(Layers)) {
               auto& b = buf[i % 2];
               b.resize(out_width);
               out = TensorView<float, 1>(b.data(), {out_width});
             }
             l.infer(in, out);
             in = out;
             width = out_width;
           }()),
           ...);
        },
        layers_);
  }

  /// Calls f(Parameter) for every parameter of every layer, first layer first.
  template <class F>
  void for_each_parameter(F&& f) {
    std::apply([&](auto&... l) { (l.for_each_parameter(f), ...); }, layers_);
  }

  /// Every (value, gradient) pair, in for_each_parameter order — what an optimizer steps on.
  [[nodiscard]] std::vector<Parameter> parameters() {
    std::vector<Parameter> ps;
    for_each_parameter([&](const Parameter& p) { ps.push_back(p); });
    return ps;
  }

  /// Switches every layer that has a training mode (BatchNorm, Dropout, nested Sequentials) to
  /// training (true) or eval (false) behaviour in `forward`; `infer` always behaves as eval.
  void set_training(bool on) {
    std::apply(
        [&](auto&... l) {
          (
              [&](auto& layer) {
                if constexpr (requires { layer.set_training(on); }) layer.set_training(on);
              }(l),
              ...);
        },
        layers_);
  }

  /// Sets every gradient to zero (gradients accumulate across backward calls).
  void zero_grad() {
    for_each_parameter([](const Parameter& p) {
      for (float& g : p.grad) g = 0.0f;
    });
  }

  /// Number of trainable scalars.
  [[nodiscard]] std::size_t parameter_count() const {
    std::size_t n = 0;
    // Visiting needs mutable access; counting changes nothing.
    const_cast<Sequential&>(*this).for_each_parameter(
        [&](const Parameter& p) { n += p.value.size(); });
    return n;
  }

  /// Bytes of the parameters as stored (f32).
  [[nodiscard]] std::size_t size_bytes() const { return parameter_count() * sizeof(float); }

 private:
  template <std::size_t... I>
  static constexpr auto reversed(std::index_sequence<I...>) noexcept {
    return std::index_sequence<(sizeof...(I) - 1 - I)...>{};
  }

  template <class Self, class Step, std::size_t First, std::size_t... Rest>
  static Tensor<float, 2> chain_impl(Self& self, TensorView<const float, 2> x, Step step,
                                     std::index_sequence<First, Rest...>) {
    Tensor<float, 2> t = step(std::get<First>(self.layers_), x);
    ((t = step(std::get<Rest>(self.layers_), TensorView<const float, 2>(t.view()))), ...);
    return t;
  }
  template <class Step, std::size_t... I>
  Tensor<float, 2> chain(TensorView<const float, 2> x, Step step, std::index_sequence<I...> order) {
    return chain_impl(*this, x, step, order);
  }
  template <class Step, std::size_t... I>
  Tensor<float, 2> chain(TensorView<const float, 2> x, Step step,
                         std::index_sequence<I...> order) const {
    return chain_impl(*this, x, step, order);
  }

  std::tuple<Layers...> layers_;
};

}  // namespace pare
