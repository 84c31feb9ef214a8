// SPDX-License-Identifier: Apache-2.0
// pare — LayerStack: a sequence of layers chosen at run time, each one of a closed set of types.
//
// pare::Sequential fixes its layer types at compile time, which is what an application that
// knows its model wants. A tool that loads whatever model a file holds (the `pare` CLI, a model
// server) needs the list at run time:
//
//   using AnyLayer = std::variant<pare::Linear, pare::ReLU, pare::Int8Linear>;
//   pare::LayerStack<pare::Linear, pare::ReLU, pare::Int8Linear> m;
//   m.push_back(pare::Int8Linear(fc));  m.push_back(pare::ReLU{});
//   auto y = m.infer(x);
//
// Each call dispatches once per layer through std::visit (no virtual calls, no allocation
// beyond the activations). Inference only: forward/backward throw UnsupportedError.
#pragma once

#include <cstddef>
#include <utility>
#include <variant>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/nn/concepts.hpp"

namespace pare {

template <Layer... Ls>
class LayerStack {
 public:
  using value_type = std::variant<Ls...>;

  LayerStack() = default;
  explicit LayerStack(std::vector<value_type> layers) : layers_(std::move(layers)) {}

  template <class L>
    requires(std::same_as<std::remove_cvref_t<L>, Ls> || ...)
  void push_back(L&& layer) {
    layers_.emplace_back(std::forward<L>(layer));
  }

  void push_back(value_type layer) { layers_.push_back(std::move(layer)); }

  [[nodiscard]] std::size_t size() const noexcept { return layers_.size(); }
  [[nodiscard]] bool empty() const noexcept { return layers_.empty(); }
  [[nodiscard]] value_type& operator[](std::size_t i) { return layers_[i]; }
  [[nodiscard]] const value_type& operator[](std::size_t i) const { return layers_[i]; }
  [[nodiscard]] auto begin() noexcept { return layers_.begin(); }
  [[nodiscard]] auto end() noexcept { return layers_.end(); }
  [[nodiscard]] auto begin() const noexcept { return layers_.begin(); }
  [[nodiscard]] auto end() const noexcept { return layers_.end(); }

  [[nodiscard]] std::size_t output_size(std::size_t in) const {
    PARE_CHECK(!layers_.empty(), ArgumentError, "LayerStack: the model has no layers");
    for (const auto& l : layers_)
      in = std::visit([&](const auto& x) -> std::size_t { return x.output_size(in); }, l);
    return in;
  }

  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const {
    PARE_CHECK(!layers_.empty(), ArgumentError, "LayerStack: the model has no layers");
    Tensor<float, 2> t = std::visit([&](const auto& l) { return l.infer(x); }, layers_[0]);
    for (std::size_t i = 1; i < layers_.size(); ++i) {
      const TensorView<const float, 2> in = t;
      t = std::visit([&](const auto& l) { return l.infer(in); }, layers_[i]);
    }
    return t;
  }

  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
    PARE_CHECK(output_size(x.extent(0)) == y.extent(0), ShapeError, "LayerStack: output ",
               to_string(y.extents()), " does not match the model's output width ",
               output_size(x.extent(0)));
    std::vector<float> buf[2];
    std::size_t width = x.extent(0);
    TensorView<const float, 1> in = x;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      std::visit(
          [&](const auto& l) {
            const std::size_t out_width = l.output_size(width);
            TensorView<float, 1> out = y;
            if (i + 1 < layers_.size()) {
              auto& b = buf[i % 2];
              b.resize(out_width);
              out = TensorView<float, 1>(b.data(), {out_width});
            }
            l.infer(in, out);
            in = out;
            width = out_width;
          },
          layers_[i]);
    }
  }

  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2>) {
    throw UnsupportedError("LayerStack is for inference; train a pare::Sequential");
  }
  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2>) {
    throw UnsupportedError("LayerStack is for inference; train a pare::Sequential");
  }
  template <class F>
  void for_each_parameter(F&&) {}

 private:
  std::vector<value_type> layers_;
};

}  // namespace pare
