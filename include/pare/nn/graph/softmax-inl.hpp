// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/softmax.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "pare/core/tensor.hpp"
#include "pare/kernels/softmax.hpp"
#include "pare/nn/graph/softmax.hpp"

namespace pare::graph {

PARE_INLINE OpFn make_softmax(const Attributes& attrs, std::int64_t opset) {
  const bool coerce = opset > 0 && opset < 13;
  const std::int64_t axis = attrs.get_int("axis", coerce ? 1 : -1);
  const std::string op = "Softmax '" + attrs.node() + "'";
  return [=](Inputs in, Outputs out) {
    const Value& x = float_input(in, 0, op);
    Value y = x;
    const std::size_t r = x.rank();
    if (r == 0 || x.size() == 0) {
      for (auto& v : y.floats) v = 1.0f;
      *out[0] = std::move(y);
      return;
    }
    const std::size_t a = normalize_axis(axis, r, op);
    std::size_t outer = 1, n = 1, inner = 1;
    for (std::size_t d = 0; d < r; ++d) (d < a ? outer : d == a ? n : inner) *= x.shape[d];
    if (coerce) {
      n *= inner;
      inner = 1;
    }
    if (inner == 1) {
      pare::softmax(TensorView<const float, 2>(x.floats.data(), Shape<2>{outer, n}),
                    TensorView<float, 2>(y.floats.data(), Shape<2>{outer, n}));
    } else {
      // the axis is not innermost: softmax over a strided row of the [outer, n, inner] block
      for (std::size_t o = 0; o < outer; ++o)
        for (std::size_t i = 0; i < inner; ++i) {
          const Strides<1> s{static_cast<std::ptrdiff_t>(inner)};
          const std::size_t base = o * n * inner + i;
          pare::softmax(TensorView<const float, 1>(x.floats.data() + base, Shape<1>{n}, s),
                        TensorView<float, 1>(y.floats.data() + base, Shape<1>{n}, s));
        }
    }
    *out[0] = std::move(y);
  };
}

}  // namespace pare::graph
